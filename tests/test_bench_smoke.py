"""The bench runs (issue 26): a small fleet of both shapes, scanned under AWS's published rates, and the
naive baseline, each checked for errors, refused calls and wrong findings by the bench itself.

The bench runs in its own process: its sandbox resets moto's backends, which are process-global and would
otherwise wipe the session sandbox of this test worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.throttle import PUBLISHED, RateModel, limit_of
from remediate.sandbox.operations import RequestInfo

ROOT = Path(__file__).resolve().parent.parent


def test_the_bench_runs_at_a_small_scale_without_error_refusal_or_wrong_finding() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REMEDIATE_"))}
    command = [
        sys.executable,
        "-m",
        "bench.scan_bench",
        "--esms",
        "12",
        "--groups",
        "2",
        "--speedup",
        "12",
        "--per-function",
        "10,1",
        "--naive-sample",
        "3",
        "--metrics",
        "60",
        "--trip-latency",
        "0.02",
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "exact and unrefused: yes" in done.stdout
    # Both fleet shapes were scanned and compared with the naive baseline.
    speed_rows = [line for line in done.stdout.splitlines() if line.startswith("| 12 | ")]
    functions = {row.split("|")[2].strip() for row in speed_rows}
    assert {"4", "12"} <= functions, done.stdout  # 3 baseline functions, + 9 mappings / 10 or / 1


def _refused_after(model: RateModel, service: str, operation: str, calls: int) -> int:
    info = RequestInfo(service, operation, "rest-json")
    return sum(model.select(info)[2] is not None for _ in range(calls))


def test_the_rate_model_puts_each_api_in_the_bucket_aws_documents() -> None:
    now = [1000.0]  # a clock that moves only when told to: the shared machine's pauses do not refill
    model = RateModel(clock=lambda: now[0])
    model.enabled = True
    # Lambda's control plane: 15 per second across all its APIs (GetFunctionConfiguration and
    # ListEventSourceMappings share it) ...
    assert _refused_after(model, "lambda", "GetFunctionConfiguration", 15) == 0
    assert _refused_after(model, "lambda", "ListEventSourceMappings", 1) == 1
    # ... but GetFunction (100/s) and CloudWatch GetMetricData (50/s) have buckets of their own.
    assert _refused_after(model, "lambda", "GetFunction", 100) == 0
    assert _refused_after(model, "lambda", "GetFunction", 1) == 1
    assert _refused_after(model, "monitoring", "GetMetricData", 50) == 0
    # EC2 meters each Describe API apart: 100 of one leave the other's bucket full.
    assert _refused_after(model, "ec2", "DescribeSubnets", 100) == 0
    assert _refused_after(model, "ec2", "DescribeRouteTables", 100) == 0
    assert _refused_after(model, "ec2", "DescribeSubnets", 1) == 1
    # No published rate: never refused.
    assert _refused_after(model, "iam", "GetRole", 500) == 0
    assert limit_of(PUBLISHED, "kafka", "DescribeClusterV2") is None
    now[0] += 0.2  # refills at the published rate: 0.2 s is 3 control-plane tokens
    assert _refused_after(model, "lambda", "ListEventSourceMappings", 4) == 1
