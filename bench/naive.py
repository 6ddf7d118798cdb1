"""The naive baseline: each mapping diagnosed alone, one after another, as a script looping over
`remediate diagnose` in one process would: an empty cache per mapping, no client-side pacing.

    python -m bench.naive UUID [UUID...]      (AWS_* in the environment point it at the sandbox)

Prints one JSON line: the mappings diagnosed and the seconds they took (start-up excluded).
"""

from __future__ import annotations

import json
import os
import sys
import time

from remediate import log
from remediate.aws import Aws
from remediate.config import load_settings
from remediate.observe.reads import observe
from remediate.run import playbook
from remediate.run.engine import diagnose


def main() -> None:
    log.configure("console", "error", color=False)
    settings = load_settings()
    books = playbook.load(settings.playbooks_dir)
    base = Aws(region=os.environ["AWS_REGION"], attempts=settings.retry_attempts)
    for service in ("lambda", "kafka", "iam", "ec2"):
        base.client(service)  # client creation is start-up, not the diagnosis
    start = time.perf_counter()
    for uuid in sys.argv[1:]:
        diagnose(observe(base.fresh(), uuid, max_workers=settings.max_workers), books)
    print(json.dumps({"mappings": len(sys.argv) - 1, "seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
