"""Benchmark `remediate scan` against the sandbox: scale with mappings and with security groups per VPC, the
speed-up over a naive sequential diagnosis with and without throttling, and the round trips of one mapping.

Run it by hand for the README's tables (it takes a while on a small machine); `tests/test_bench_smoke.py`
runs it at a small scale on every `make test`. It exits 1 when any scan failed a mapping, was refused a
call, or found other than exactly the broken mappings' findings, or when the naive baseline found otherwise.

    .venv/bin/python -m bench.scan_bench                          # the README's points
    .venv/bin/python -m bench.scan_bench --esms 60,300 --groups 2,100
    .venv/bin/python -m bench.scan_bench --esms 1000 --per-function 10,1   # both fleet shapes

Every scan is the real CLI (`remediate scan --output json`) in its own process, so its wall time, CPU time
and peak memory (the process's maximum resident set) are the command's own, not the sandbox's, which runs in
this process. Every call to the sandbox takes `--latency` seconds more (a network round trip to AWS), and the
throttle model (bench/throttle.py) refuses calls beyond the rates AWS publishes, by token bucket. The naive
baseline (bench/naive.py) diagnoses a sample of the fleet one mapping at a time, with an empty cache and no
pacing each, and the same work (metric reads included), and is extrapolated to the fleet. Fleets are built
with the throttle model off (building is not what is measured).

The floor: the least time the calls a scan made could take at AWS's published rates (bench/throttle.py),
whatever the client does: the busiest bucket's calls beyond its burst at its rate, or the listing's pages one
after the other plus one mapping's four round trips, whichever is longer. The scan's ratio to it says how
much of its wall time is the tool's own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.fleet import Fleet, build_fleet, grow_groups
from bench.throttle import RateModel, limit_of
from bench.trips import CallClock, round_trips
from remediate.aws import Aws
from remediate.observe.reads import observe
from remediate.sandbox import FaultRule, Sandbox

REMEDIATE = str(Path(sys.executable).with_name("remediate"))


@dataclass(frozen=True)
class Measured:
    wall: float
    cpu: float
    peak_mib: float
    calls: int
    refused: int
    exact: bool = True  # the findings are exactly the broken mappings', and nothing failed
    floor: float = 0.0  # seconds: the least the calls made could take at the published rates


def _child(command: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Run a command to its end through `bench.measure`: (wall s, CPU s, peak RSS MiB, stdout)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.NamedTemporaryFile("r") as result:
        launcher = [sys.executable, "-m", "bench.measure", result.name]
        subprocess.run([*launcher, *command], env=env, stdout=out, stderr=subprocess.DEVNULL, check=False)
        out.seek(0)
        text = out.read()
        measured = json.load(result)
    return measured["wall"], measured["cpu"], measured["peak_mib"], text


def measure_scan(
    sb: Sandbox,
    model: RateModel,
    fleet: Fleet,
    env: dict[str, str],
    metrics_window: int = 60,
    latency: float = 0.0,
) -> Measured:
    model.reset_buckets()
    sb.clear_calls()
    env = {**env, "REMEDIATE_METRICS_WINDOW": str(metrics_window)}
    wall, cpu, peak, text = _child([REMEDIATE, "scan", "--output", "json"], env)
    doc = json.loads(text)
    found = {m["esm_uuid"]: [f["code"] for f in m["findings"]] for m in doc["mappings"] if m["findings"]}
    failed = [m for m in doc["mappings"] if m["error"]]
    exact = not failed and found == {u: [c] for u, c in fleet.broken.items()}
    exact = exact and len(doc["mappings"]) == fleet.size
    calls = sb.calls
    return Measured(
        wall, cpu, peak, len(calls), sum(model.refused.values()), exact, floor(calls, model, latency)
    )


def floor(calls: list[tuple[str, str]], model: RateModel, latency: float) -> float:
    """The least seconds these calls could take at the published rates (see the module's docstring)."""
    per_bucket: Counter[str] = Counter()
    limits = {}
    for service, operation in calls:
        found = limit_of(model.limits, service, operation)
        if found is not None:
            per_bucket[found[0]] += 1
            limits[found[0]] = found[1]
    busiest = max(
        (max(0.0, (n - limits[key].burst) / limits[key].rate) for key, n in per_bucket.items()), default=0.0
    )
    pages = sum(1 for call in calls if call == ("lambda", "ListEventSourceMappings"))
    return max(busiest, (pages + 4) * latency)


def measure_naive(
    model: RateModel, fleet: Fleet, env: dict[str, str], sample: int, metrics_window: int
) -> tuple[float, bool]:
    """Seconds the naive diagnosis would take for the whole fleet, from a sample spread over it, and
    whether it found exactly the sampled broken mappings' findings."""
    model.reset_buckets()
    everyone = sorted(fleet.healthy | set(fleet.broken))
    chosen = everyone[:: max(1, len(everyone) // sample)][:sample]
    env = {**env, "REMEDIATE_METRICS_WINDOW": str(metrics_window)}
    _wall, _cpu, _peak, text = _child([sys.executable, "-m", "bench.naive", *chosen], env)
    took = json.loads(text.strip().splitlines()[-1])
    expected = {u: [fleet.broken[u]] for u in chosen if u in fleet.broken}
    return float(took["seconds"]) * fleet.size / len(chosen), took["findings"] == expected


@contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    """`values` in os.environ for the block (for in-process AWS sessions), the old environment after."""
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def one_mapping_trips(sb: Sandbox, fleet: Fleet, latency: float) -> list[tuple[int, int, float]]:
    """(max_workers, sequential round trips, seconds) of observing one healthy mapping alone, metrics on."""
    uuid = sorted(fleet.healthy)[0]
    rule = sb.faults.add(FaultRule(kind="latency", latency=latency))
    rows = []
    with environ(sb.env()):
        for workers in (4, 8, 16):
            aws = Aws(region=sb.region)
            clock = CallClock()
            clock.attach(aws.session)
            for service in ("lambda", "kafka", "iam", "ec2", "cloudwatch"):
                aws.client(service)
            start = time.perf_counter()
            observe(aws, uuid, max_workers=workers, metrics_minutes=60)
            rows.append((workers, round_trips(clock.intervals), time.perf_counter() - start))
    sb.faults.remove(rule)
    return rows


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    mem = next(
        (
            int(line.split()[1]) // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem / 1024:.1f} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average at start {load}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--esms", default="100,1000,5000", help="fleet sizes (mappings)")
    parser.add_argument("--groups", default="2,300", help="security groups per VPC")
    parser.add_argument("--speedup", default="100,1000,5000", help="fleet sizes for the speed-up")
    parser.add_argument(
        "--per-function", default="10,1", help="fleet shapes: mappings per function (1: one function each)"
    )
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every call")
    parser.add_argument("--trip-latency", type=float, default=0.2, help="latency when counting round trips")
    parser.add_argument("--naive-sample", type=int, default=30, help="mappings the naive baseline diagnoses")
    parser.add_argument(
        "--metrics", default="60,0", help="metrics_window values (minutes; 0: no metric reads) to scan with"
    )
    args = parser.parse_args()
    sys.exit(0 if run(args) else 1)


def _scale_row(fleet: Fleet, groups: int, window: int, m: Measured) -> str:
    metrics = f"{window} min" if window else "off"
    return (
        f"| {fleet.size:,} | {fleet.functions:,} | {groups} | {metrics} | {m.wall:.1f} s | {m.floor:.1f} s "
        f"| {m.wall / max(m.floor, 1e-9):.2f} | {m.cpu:.1f} s | {m.peak_mib:.0f} MiB | {m.calls:,} "
        f"| {m.calls / fleet.size:.2f} | {m.refused} | {'yes' if m.exact else 'NO'} |"
    )


def run(args: argparse.Namespace) -> bool:
    """Measure and print the tables; True when every scan and naive run was exact and nothing refused."""
    sizes = [int(x) for x in args.esms.split(",")]
    group_counts = [int(x) for x in args.groups.split(",")]
    speedup_sizes = {int(x) for x in args.speedup.split(",")}
    shapes = [int(x) for x in args.per_function.split(",")]
    windows = [int(x) for x in args.metrics.split(",")]

    print(f"machine: {machine()}\n", flush=True)
    model = RateModel()
    sb = Sandbox(region="us-east-1", esm_transition_reads=0)
    sb.faults = model  # before the server starts: its middleware consults this fault set
    scale: list[str] = []
    speed: list[str] = []
    trips: list[tuple[int, int, float]] = []
    good = True
    with sb, tempfile.TemporaryDirectory() as state:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REMEDIATE_"))}
        env.update(sb.env(), REMEDIATE_STATE_DIR=state)
        for shape in shapes:
            for size in sizes:
                model.enabled = False  # the fleet is built unthrottled: building is not measured
                sb.reset()
                start = time.perf_counter()
                fleet = build_fleet(sb, size, per_function=shape)
                print(
                    f"fleet of {fleet.size} mappings, {fleet.functions} functions, built in "
                    f"{time.perf_counter() - start:.0f}s",
                    flush=True,
                )
                if not trips:
                    trips = one_mapping_trips(sb, fleet, args.trip_latency)
                model.add(FaultRule(kind="latency", latency=args.latency))
                for groups in group_counts:
                    model.enabled = False
                    have = grow_groups(sb, fleet, groups)
                    model.enabled = True
                    measured = []
                    for window in windows:
                        m = measure_scan(sb, model, fleet, env, window, args.latency)
                        good = good and m.exact and m.refused == 0
                        measured.append(m)
                        print(f"  {size} mappings, {have} groups/VPC, metrics {window} min: {m}", flush=True)
                        scale.append(_scale_row(fleet, have, window, m))
                    if size in speedup_sizes and groups == group_counts[0]:
                        scan = measured[0]
                        naive, naive_exact = measure_naive(
                            model, fleet, env, min(args.naive_sample, fleet.size), windows[0]
                        )
                        good = good and naive_exact
                        print(f"    naive {naive:.0f}s (findings exact: {naive_exact})", flush=True)
                        speed.append(
                            f"| {size:,} | {fleet.functions:,} | {scan.wall:.1f} s | {scan.floor:.1f} s | "
                            f"{naive:,.0f} s | {naive / scan.wall:.0f}x | {'yes' if naive_exact else 'NO'} |"
                        )
                model.clear()

    print(
        "\n| mappings | functions | groups per VPC | metrics | wall | floor | wall / floor | CPU "
        "| peak memory | calls | calls per mapping | refused | findings exact |"
    )
    print("|---:|---:|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    print("\n".join(scale))
    print(
        "\n| mappings | functions | scan | floor | naive sequential, equal work (extrapolated) | speed-up "
        "| naive findings exact |"
    )
    print("|---:|---:|---:|---:|---:|---:|:---:|")
    print("\n".join(speed))
    print(
        "\n| max_workers | sequential round trips, one MSK mapping | seconds at "
        f"{args.trip_latency * 1000:.0f} ms per call |"
    )
    print("|---:|---:|---:|")
    print("\n".join(f"| {w} | {t} | {s:.2f} |" for w, t, s in trips))
    print(f"\nexact and unrefused: {'yes' if good else 'NO'}")
    return good


if __name__ == "__main__":
    main()
