"""Benchmark `remediate scan` against the sandbox: scale with mappings and with security groups per VPC, the
speed-up over a naive sequential diagnosis with and without throttling, and the round trips of one mapping.

Not a test: run it by hand (it takes a while on a small machine) and copy its tables into the README.

    .venv/bin/python -m bench.scan_bench                          # the README's points
    .venv/bin/python -m bench.scan_bench --esms 60,300 --groups 2,100

Every scan is the real CLI (`remediate scan --output json`) in its own process, so its wall time, CPU time
and peak memory (the process's maximum resident set) are the command's own, not the sandbox's, which runs in
this process. Every call to the sandbox takes `--latency` seconds more (a network round trip to AWS), and the
throttle model (bench/throttle.py) refuses calls beyond the rates AWS publishes, by token bucket. The naive
baseline (bench/naive.py) diagnoses a sample of the fleet one mapping at a time, with an empty cache and no
pacing each, and is extrapolated to the fleet.
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
from dataclasses import dataclass
from pathlib import Path

from bench.fleet import Fleet, build_fleet, grow_groups
from bench.throttle import RateModel
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
    sb: Sandbox, model: RateModel, fleet: Fleet, env: dict[str, str], metrics_window: int = 60
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
    return Measured(wall, cpu, peak, len(sb.calls), sum(model.refused.values()), exact)


def measure_naive(model: RateModel, fleet: Fleet, env: dict[str, str], sample: int) -> float:
    """Seconds the naive diagnosis would take for the whole fleet, from a sample spread over it."""
    model.reset_buckets()
    everyone = sorted(fleet.healthy | set(fleet.broken))
    chosen = everyone[:: max(1, len(everyone) // sample)][:sample]
    _wall, _cpu, _peak, text = _child([sys.executable, "-m", "bench.naive", *chosen], env)
    took = json.loads(text.strip().splitlines()[-1])
    return float(took["seconds"]) * fleet.size / len(chosen)


def one_mapping_trips(sb: Sandbox, fleet: Fleet, latency: float) -> list[tuple[int, int, float]]:
    """(max_workers, sequential round trips, seconds) of observing one healthy mapping alone, metrics on."""
    uuid = sorted(fleet.healthy)[0]
    rule = sb.faults.add(FaultRule(kind="latency", latency=latency))
    rows = []
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
    parser.add_argument("--esms", default="60,300,1000,5000", help="fleet sizes (mappings)")
    parser.add_argument("--groups", default="2,100,300", help="security groups per VPC")
    parser.add_argument("--speedup", default="60,300,1000,5000", help="fleet sizes for the speed-up")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every call")
    parser.add_argument("--trip-latency", type=float, default=0.2, help="latency when counting round trips")
    parser.add_argument("--naive-sample", type=int, default=30, help="mappings the naive baseline diagnoses")
    parser.add_argument(
        "--metrics", default="60,0", help="metrics_window values (minutes; 0: no metric reads) to scan with"
    )
    args = parser.parse_args()
    sizes = [int(x) for x in args.esms.split(",")]
    group_counts = [int(x) for x in args.groups.split(",")]
    speedup_sizes = {int(x) for x in args.speedup.split(",")}
    windows = [int(x) for x in args.metrics.split(",")]

    print(f"machine: {machine()}\n", flush=True)
    model = RateModel()
    sb = Sandbox(region="us-east-1", esm_transition_reads=0)
    sb.faults = model  # before the server starts: its middleware consults this fault set
    scale: list[str] = []
    speed: list[str] = []
    trips: list[tuple[int, int, float]] = []
    with sb, tempfile.TemporaryDirectory() as state:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REMEDIATE_"))}
        env.update(sb.env(), REMEDIATE_STATE_DIR=state)
        os.environ.update(sb.env())  # for the in-process round-trip count
        for size in sizes:
            sb.reset()
            start = time.perf_counter()
            fleet = build_fleet(sb, size)
            print(f"fleet of {fleet.size} mappings built in {time.perf_counter() - start:.0f}s", flush=True)
            if not trips:
                trips = one_mapping_trips(sb, fleet, args.trip_latency)
            model.add(FaultRule(kind="latency", latency=args.latency))
            for groups in group_counts:
                have = grow_groups(sb, fleet, groups)
                model.enabled = True
                measured = []
                for window in windows:
                    m = measure_scan(sb, model, fleet, env, window)
                    measured.append(m)
                    print(f"  {size} mappings, {have} groups/VPC, metrics {window} min: {m}", flush=True)
                    scale.append(
                        f"| {size:,} | {have} | {f'{window} min' if window else 'off'} | {m.wall:.1f} s | "
                        f"{m.cpu:.1f} s | {m.peak_mib:.0f} MiB | {m.calls:,} | {m.calls / fleet.size:.2f} | "
                        f"{m.refused} | {'yes' if m.exact else 'NO'} |"
                    )
                if size in speedup_sizes and groups == group_counts[0]:
                    for throttled in (False, True):
                        model.enabled = throttled
                        first = measured[0]
                        scan = first if throttled else measure_scan(sb, model, fleet, env, windows[0])
                        naive = measure_naive(model, fleet, env, min(args.naive_sample, fleet.size))
                        print(f"    throttle model {throttled}: scan {scan.wall:.1f}s, naive {naive:.0f}s")
                        speed.append(
                            f"| {size:,} | {'token buckets' if throttled else 'none'} | {scan.wall:.1f} s | "
                            f"{naive:,.0f} s | {naive / scan.wall:.0f}x |"
                        )
            model.clear()

    print(
        "\n| mappings | groups per VPC | metrics | wall | CPU | peak memory | calls | calls per mapping "
        "| refused | findings exact |"
    )
    print("|---:|---:|:---|---:|---:|---:|---:|---:|---:|:---:|")
    print("\n".join(scale))
    print("\n| mappings | throttle model | scan | naive sequential (extrapolated) | speed-up |")
    print("|---:|:---|---:|---:|---:|")
    print("\n".join(speed))
    print(
        "\n| max_workers | sequential round trips, one MSK mapping | seconds at "
        f"{args.trip_latency * 1000:.0f} ms per call |"
    )
    print("|---:|---:|---:|")
    print("\n".join(f"| {w} | {t} | {s:.2f} |" for w, t, s in trips))


if __name__ == "__main__":
    main()
