"""When each AWS request was on the wire, and how many sequential round trips that makes.

`CallClock` records the interval of every HTTP request an `Aws` session sends (botocore's `before-send` and
`response-received` events, so client creation and retries' sleeps are not counted). `round_trips` is the
longest chain of requests in which each one started only after the previous one had its answer: the number
of round trips a caller waited for, one after the other. With a latency injected into every call, requests
that are independent start together and end together; a request that had to wait for a worker, or for
another answer, starts after one ends and lengthens the chain.

Run as a program, it counts the round trips of the real command line (`remediate diagnose`, in its own
process, clients and all) on one healthy MSK mapping whose every call takes `--latency` seconds:

    .venv/bin/python -m bench.trips --latency 0.2 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Runs the CLI in this process after hooking every botocore client it makes, then writes the interval of
# each AWS request it sent (time.perf_counter, the system-wide monotonic clock on Linux, so the parent can
# compare them with when it started the process).
CLI_HOOK = """
import json, sys
import botocore.session
from bench.trips import CallClock

clock = CallClock()
make = botocore.session.Session.create_client

def create_client(self, *args, **kwargs):
    client = make(self, *args, **kwargs)
    clock.attach(client.meta.events)
    return client

botocore.session.Session.create_client = create_client
result, sys.argv = sys.argv[1], ["remediate", *sys.argv[2:]]
from remediate.cli import main
try:
    main()
except SystemExit:
    pass
with open(result, "w") as out:
    json.dump({"intervals": clock.intervals, "wire": clock.on_the_wire()}, out)
"""


@dataclass
class CallClock:
    """The (start, end) of each request sent through the botocore sessions it is attached to."""

    intervals: list[tuple[float, float]] = field(default_factory=list)
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, events: Any) -> None:
        """Listen on a botocore event emitter (a session's, before its clients exist, or a client's)."""
        events.register("before-send", self._sent)
        events.register("response-received", self._received)

    def _sent(self, **_: Any) -> None:
        self._local.start = time.perf_counter()

    def _received(self, **_: Any) -> None:
        start = getattr(self._local, "start", None)
        if start is not None:
            with self._lock:
                self.intervals.append((start, time.perf_counter()))
            self._local.start = None

    def on_the_wire(self) -> float:
        """Seconds during which at least one request was waiting for its answer."""
        total, reach = 0.0, float("-inf")
        for start, end in sorted(self.intervals):
            if end > reach:
                total += end - max(start, reach)
                reach = end
        return total


def round_trips(intervals: list[tuple[float, float]]) -> int:
    """The longest chain of requests each started after the previous one ended."""
    ordered = sorted(intervals)
    depth: list[int] = []
    for i, (start, _end) in enumerate(ordered):
        before = [depth[j] for j in range(i) if ordered[j][1] <= start]
        depth.append(1 + max(before, default=0))
    return max(depth, default=0)


def cli_intervals(
    args: list[str], env: dict[str, str], cwd: Path = ROOT
) -> tuple[float, list[tuple[float, float]], float]:
    """Run `remediate ARGS` hooked (CLI_HOOK) in the checkout `cwd`: (when it was started, its requests'
    intervals, time on the wire), all in time.perf_counter seconds."""
    with tempfile.NamedTemporaryFile("r") as result:
        command = [sys.executable, "-c", CLI_HOOK, result.name, *args]
        started = time.perf_counter()
        subprocess.run(
            command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
        )
        found = json.load(result)
    return started, [(a, b) for a, b in found["intervals"]], float(found["wire"])


def main() -> None:
    parser = argparse.ArgumentParser(description="round trips of one `remediate diagnose`")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds added to every call")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from bench.fleet import seed_metrics
    from remediate.sandbox import FaultRule, Sandbox, build_scenario

    with Sandbox(region="us-east-1") as sb, tempfile.TemporaryDirectory() as state:
        scenario = build_scenario(sb, "healthy-msk")
        assert scenario.cluster_arn is not None
        seed_metrics(sb, [scenario.cluster_arn], [str(scenario.function_name)])
        sb.faults.add(FaultRule(kind="latency", latency=args.latency))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REMEDIATE_"))}
        env.update(sb.env(), REMEDIATE_STATE_DIR=state)
        rows = []
        for _ in range(args.runs):
            _started, intervals, wire = cli_intervals(["diagnose", "--esm", scenario.esm_uuid], env)
            rows.append((round_trips(intervals), len(intervals), wire))
    per_call = f"{args.latency * 1000:.0f} ms per call"
    for trips, calls, wire in rows:
        print(f"round trips {trips}, calls {calls}, on the wire {wire:.2f} s at {per_call}")
    wire = statistics.median(r[2] for r in rows)
    print(f"round trips: {max(r[0] for r in rows)} (median on the wire {wire:.2f} s)")


if __name__ == "__main__":
    main()
