"""One diagnose in 4 round trips (issue 26, item 3): clients are built ahead of need, off the chain of
reads, and a client that exists is handed out without waiting for the creation of another."""

from __future__ import annotations

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

ROOT = Path(__file__).resolve().parent.parent


def test_the_real_cli_diagnoses_one_mapping_in_four_round_trips() -> None:
    # bench.trips runs `remediate diagnose` in its own process against its own sandbox (moto's backends are
    # process-global), every call 0.2 s late, and counts the longest chain of requests each sent after the
    # previous one's answer. The chain: the mapping; its function and cluster; the role, brokers, subnets
    # and metrics; the VPC-wide reads.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REMEDIATE_"))}
    command = [sys.executable, "-m", "bench.trips", "--latency", "0.2", "--runs", "2"]
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
