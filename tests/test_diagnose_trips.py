"""One diagnose in 4 round trips (issue 26, item 3): clients are built ahead of need, off the chain of
reads, and a client that exists is handed out without waiting for the creation of another."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from remediate.aws import Aws
from remediate.sandbox import Sandbox, build_scenario

ROOT = Path(__file__).resolve().parent.parent


def test_the_real_cli_diagnoses_one_mapping_in_four_round_trips() -> None:
    # bench.trips runs `remediate diagnose` in its own process against its own sandbox (moto's backends are
    # process-global), every call 0.5 s late, and counts the longest chain of requests each sent after the
    # previous one's answer. The chain: the mapping; its function and cluster; the role, brokers, subnets
    # and metrics; the VPC-wide reads. The other clients are built while the mapping's read is on the
    # wire; 0.5 s (not the bench's 0.2 s) leaves them time to be ready on a machine that the parallel
    # suite keeps busy on every core, where building EC2's client alone can take longer than 0.2 s.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REMEDIATE_"))}
    command = [sys.executable, "-m", "bench.trips", "--latency", "0.5", "--runs", "2"]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs = [int(n) for n in re.findall(r"^round trips (\d+), calls", done.stdout, re.MULTILINE)]
    assert len(runs) == 2, done.stdout
    assert max(runs) == 4, done.stdout


def test_an_existing_client_is_not_held_up_by_the_creation_of_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    aws = Aws(region="us-east-1")
    lam = aws.client("lambda")
    made = Aws._new_client
    creating = threading.Event()

    def slow(self: Aws, service: str, region: str) -> Any:
        if service == "ec2":
            creating.set()
            time.sleep(1.0)
        return made(self, service, region)

    monkeypatch.setattr(Aws, "_new_client", slow)
    aws.prepare(["ec2"])
    assert creating.wait(5)
    start = time.perf_counter()
    assert aws.client("lambda") is lam
    assert time.perf_counter() - start < 0.5  # not the second that EC2's creation takes


# Runs `remediate diagnose` after hooking Aws.prefetch, and writes which modules were loaded when the first
# read was sent off and whether the diagnosis then finished.
_FIRST_READ_HOOK = """
import json, sys
from remediate.aws import Aws
from remediate.sandbox import Sandbox, build_scenario

seen = {}
start = Aws.prefetch

def prefetch(self, *args, **kwargs):
    seen.setdefault("loaded", sorted(m for m in sys.modules if m.startswith("remediate.")))
    seen.setdefault("read", [args[1], kwargs])
    return start(self, *args, **kwargs)

Aws.prefetch = prefetch
result, sys.argv = sys.argv[1], ["remediate", *sys.argv[2:]]
from remediate.cli import main
try:
    main()
except SystemExit as exit:
    seen["exit"] = exit.code
with open(result, "w") as out:
    json.dump(seen, out)
"""


def test_diagnose_sends_the_mapping_read_before_loading_the_engine(
    sandbox: Sandbox, cli_env: dict[str, str], tmp_path: Path
) -> None:
    uuid = build_scenario(sandbox, "healthy-msk").esm_uuid
    result = tmp_path / "seen.json"
    command = [
        sys.executable,
        "-c",
        _FIRST_READ_HOOK,
        str(result),
        "diagnose",
        "--esm",
        uuid,
        "--output",
        "json",
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=cli_env, capture_output=True, text=True, timeout=120, check=False
    )
    seen = json.loads(result.read_text())
    assert seen.get("exit") in (0, None), done.stderr[-2000:]
    assert seen["read"] == ["get_event_source_mapping", {"UUID": uuid}]
    # Nothing of the engine (fact models, checks, playbooks, rendering) is loaded yet: it loads while the
    # read is on the wire.
    engine = {
        "remediate.facts",
        "remediate.findings",
        "remediate.evidence",
        "remediate.checks",
        "remediate.run.render",
    }
    assert not engine & set(seen["loaded"]), seen["loaded"]
    # And the read was made once: the diagnosis used the answer of the one sent ahead.
    assert sandbox.calls.count(("lambda", "GetEventSourceMapping")) == 1
    assert json.loads(done.stdout)["findings"] == []
