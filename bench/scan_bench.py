"""Benchmark `remediate scan` on a sandbox fleet: AWS calls per mapping, wall time against a naive sequential
diagnosis, throttling absorbed, the round trips of one observation, and CLI start-up time.

Not a test: run it by hand (it takes a while on a small machine) and copy the figures into bench/README.md.

    .venv/bin/python bench/scan_bench.py                  # 1,000 mappings, 10 clusters, 3 VPCs
    .venv/bin/python bench/scan_bench.py --esms 200       # a smaller fleet

The fleet: one healthy baseline scenario per VPC (network, security group, role, cluster), more clusters in
the same VPCs, one function per `--per-function` mappings, and a third of the mappings broken (alternately
brokers timing out and disabled, which the shipped playbooks detect). Every call to the sandbox then takes
`--latency` seconds more, and a `--throttle` share of calls is refused with the service's throttling error.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from remediate import log
from remediate.aws import Aws
from remediate.config import load_settings
from remediate.observe.reads import observe
from remediate.run import playbook
from remediate.run.engine import diagnose
from remediate.run.fleet import scan
from remediate.sandbox import FaultRule, Sandbox, build_scenario
from remediate.sandbox.scenarios import CONNECTION_ERROR

REMEDIATE = str(Path(sys.executable).with_name("remediate"))


@dataclass(frozen=True)
class Fleet:
    broken: dict[str, str]  # ESM UUID -> the finding code it must get
    healthy: frozenset[str]
    clusters: int
    functions: int
    vpcs: int


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def build_fleet(sb: Sandbox, esms: int, clusters: int, vpcs: int, per_function: int) -> Fleet:
    """Build the fleet through the sandbox API; only ESM status (what AWS alone decides) is set directly."""
    kafka, lam = sb.client("kafka"), sb.client("lambda")
    bases = [build_scenario(sb, "healthy-msk", name=f"bench-vpc{v}", auth="none") for v in range(vpcs)]
    cluster_arns: list[tuple[str, str]] = []  # (cluster ARN, role ARN of its VPC)
    for c in range(clusters):
        base = bases[c % vpcs]
        if c < vpcs:
            assert base.cluster_arn is not None
            cluster_arns.append((base.cluster_arn, base.role_arn))
            continue
        arn = kafka.create_cluster_v2(
            ClusterName=f"bench-cluster{c}",
            Provisioned={
                "BrokerNodeGroupInfo": {
                    "InstanceType": "kafka.m5.large",
                    "ClientSubnets": list(base.subnet_ids),
                    "SecurityGroups": list(base.security_group_ids),
                },
                "KafkaVersion": "3.6.0",
                "NumberOfBrokerNodes": 3,
                "ClientAuthentication": {"Unauthenticated": {"Enabled": True}},
                "EncryptionInfo": {
                    "EncryptionInTransit": {"ClientBroker": "TLS_PLAINTEXT", "InCluster": True}
                },
            },
        )["ClusterArn"]
        cluster_arns.append((arn, base.role_arn))
    # The baseline scenarios' own mappings are part of the fleet (healthy).
    healthy = {b.esm_uuid for b in bases}
    broken: dict[str, str] = {}
    code = _zip()
    functions = math.ceil(max(esms - vpcs, 0) / per_function)
    made = len(healthy)
    for f in range(functions):
        cluster_arn, role_arn = cluster_arns[f % clusters]
        name = f"bench-fn{f}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler="index.handler",
            Code={"ZipFile": code},
        )
        for t in range(per_function):
            if made >= esms:
                break
            uuid = lam.create_event_source_mapping(
                FunctionName=name,
                EventSourceArn=cluster_arn,
                Topics=[f"topic{t}"],
                StartingPosition="LATEST",
                BatchSize=100,
            )["UUID"]
            made += 1
            if made % 3 == 0:  # a third of the fleet is broken, half one way and half the other
                if made % 6 == 0:
                    sb.set_esm_status(uuid, state="Disabled")
                    broken[uuid] = "ESM_DISABLED"
                else:
                    sb.set_esm_status(uuid, last_processing_result=CONNECTION_ERROR)
                    broken[uuid] = "BROKER_TIMEOUT"
            else:
                healthy.add(uuid)
    return Fleet(
        broken=broken, healthy=frozenset(healthy), clusters=clusters, functions=functions + vpcs, vpcs=vpcs
    )


def new_aws(settings: Any, *, paced: bool = True) -> Aws:
    """An Aws as the CLI builds it; unpaced for the naive baseline and the round-trip count."""
    return Aws(
        region=os.environ["AWS_REGION"],
        attempts=settings.retry_attempts,
        base_delay=settings.retry_base_delay,
        max_delay=settings.retry_max_delay,
        max_pool=2 * settings.max_workers,
        rates=settings.api_rates if paced else None,
        burst=settings.api_burst,
    )


def round_trips(sb: Sandbox, settings: Any, base: Aws, uuid: str, latency: float) -> tuple[float, float, int]:
    """Sequential round trips of observing one mapping alone: (time with latency - time without) / latency."""

    def timed() -> float:
        best = math.inf
        for _ in range(3):
            aws = base.fresh()
            start = time.perf_counter()
            observe(aws, uuid, max_workers=settings.max_workers)
            best = min(best, time.perf_counter() - start)
        return best

    sb.faults.clear()
    plain = timed()
    sb.faults.add(FaultRule(kind="latency", latency=latency))
    slow = timed()
    sb.faults.clear()
    sb.clear_calls()
    observe(base.fresh(), uuid, max_workers=settings.max_workers)
    return slow, (slow - plain) / latency, len(sb.calls)


def startup(command: list[str]) -> float:
    """Median wall time of a command, in seconds, over five runs."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--esms", type=int, default=1000, help="mappings in the fleet (default 1000)")
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--vpcs", type=int, default=3)
    parser.add_argument("--per-function", type=int, default=10, help="mappings per function")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every call")
    parser.add_argument(
        "--trip-latency", type=float, default=0.2, help="latency for counting one mapping's round trips"
    )
    parser.add_argument("--throttle", type=float, default=0.1, help="share of calls throttled")
    parser.add_argument(
        "--naive-sample",
        type=int,
        default=0,
        help="time the naive diagnosis on this many mappings and extrapolate (default: the whole fleet)",
    )
    args = parser.parse_args()

    log.configure("console", "error", color=False)
    settings = load_settings()
    books = playbook.load(settings.playbooks_dir)
    with Sandbox(region="us-east-1", esm_transition_reads=0) as sb:
        os.environ.update(sb.env())
        t0 = time.perf_counter()
        fleet = build_fleet(sb, args.esms, args.clusters, args.vpcs, args.per_function)
        total = len(fleet.broken) + len(fleet.healthy)
        print(
            f"fleet: {total} mappings ({len(fleet.broken)} broken), {fleet.clusters} clusters, "
            f"{fleet.vpcs} VPCs, {fleet.functions} functions; built in {time.perf_counter() - t0:.1f}s"
        )
        base, unpaced = new_aws(settings), new_aws(settings, paced=False)
        for aws in (base, unpaced):
            for service in ("lambda", "ec2", "kafka", "iam"):
                aws.client(service)  # client creation is start-up cost, not scan cost

        slow, trips, calls = round_trips(sb, settings, unpaced, next(iter(fleet.healthy)), args.trip_latency)
        print(
            f"one mapping alone: {calls} calls, {slow * 1000:.0f} ms with {args.trip_latency * 1000:.0f} ms "
            f"latency = {trips:.1f} sequential round trips"
        )

        latency = sb.faults.add(FaultRule(kind="latency", latency=args.latency))
        throttle = sb.faults.add(FaultRule(kind="throttle", probability=args.throttle, seed=42))
        sb.clear_calls()
        aws = base.fresh()
        start = time.perf_counter()
        results = scan([aws], books, workers=settings.scan_workers, observe_workers=settings.max_workers)
        scan_time = time.perf_counter() - start
        calls_seen = sb.calls
        throttled = sb.faults.fired(throttle)
        answered = len(calls_seen) - throttled
        found = {r.esm_uuid: [f.code for f in r.findings] for r in results if r.findings}
        failed = [r for r in results if r.error]
        exact = found == {u: [c] for u, c in fleet.broken.items()} and len(results) == total
        ops = Counter(op for _, op in calls_seen)
        print(
            f"scan: {scan_time:.2f}s wall; {answered} calls answered ({answered / total:.3f} per mapping) "
            f"+ {throttled} throttled; failed mappings: {len(failed)}; "
            f"findings exactly the broken ones: {exact}"
        )
        print("  calls by operation:", ", ".join(f"{op} {n}" for op, n in ops.most_common()))

        sample = sorted(fleet.healthy | set(fleet.broken))
        if args.naive_sample:
            sample = sample[:: max(1, len(sample) // args.naive_sample)][: args.naive_sample]
        before = throttle_fired = sb.faults.fired(throttle)
        start = time.perf_counter()
        for uuid in sample:  # each mapping alone, own empty cache, no pacing, one after another
            diagnose(observe(unpaced.fresh(), uuid, max_workers=settings.max_workers), books)
        naive = (time.perf_counter() - start) * total / len(sample)
        throttle_fired = sb.faults.fired(throttle) - before
        how = "measured" if len(sample) == total else f"extrapolated from {len(sample)} mappings"
        print(
            f"naive sequential: {naive:.1f}s ({how}; {throttle_fired} throttled); "
            f"scan is {naive / scan_time:.1f}x faster"
        )
        sb.faults.remove(latency)
        sb.faults.remove(throttle)

    help_time = startup([REMEDIATE, "--help"])
    line = f"start-up: `remediate --help` {help_time * 1000:.0f} ms"
    aws_cli = shutil.which("aws")
    if aws_cli:
        line += f"; `aws --version` {startup([aws_cli, '--version']) * 1000:.0f} ms"
    else:
        line += "; `aws` CLI not installed"
    print(line)


if __name__ == "__main__":
    main()
