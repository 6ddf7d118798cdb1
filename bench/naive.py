"""The naive baseline: each mapping diagnosed alone, one after another, as a script looping over
`remediate diagnose` in one process would: an empty cache per mapping, no client-side pacing.

    python -m bench.naive UUID [UUID...]      (AWS_* in the environment point it at the sandbox)

It does the same work as `remediate scan` with the same settings: metric reads included
(`metrics_window`, from REMEDIATE_METRICS_WINDOW like the scan's), so the speed-up compares equal work.

Prints one JSON line: the mappings diagnosed, the seconds they took (start-up excluded), and the finding
codes of each mapping that has any (the bench checks them as it checks the scan's).
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
    for service in ("lambda", "kafka", "iam", "ec2", "cloudwatch"):
        base.client(service)  # client creation is start-up, not the diagnosis
    found: dict[str, list[str]] = {}
    start = time.perf_counter()
    for uuid in sys.argv[1:]:
        facts = observe(
            base.fresh(), uuid, max_workers=settings.max_workers, metrics_minutes=settings.metrics_window
        )
        codes = [finding.code for finding in diagnose(facts, books)]
        if codes:
            found[uuid] = codes
    took = time.perf_counter() - start
    print(json.dumps({"mappings": len(sys.argv) - 1, "seconds": took, "findings": found}))


if __name__ == "__main__":
    main()
