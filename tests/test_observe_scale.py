"""Observation scales with the account, not with its size: what is shared is read once, failures included,
and one mapping waits only for its own dependency chain.

The round-trip test injects latency into every call and reports the times it took; what it asserts is the
number of sequential round trips, counted from when each request was on the wire (bench/trips.py), never a
duration.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from bench.trips import CallClock, round_trips
from remediate.aws import Aws
from remediate.errors import AwsError
from remediate.observe.reads import observe
from remediate.sandbox import FaultRule, Sandbox, Scenario, build_scenario
from tests.conftest import CliRunner

# The healthy MSK mapping's dependency chain (IAM auth, a role with one inline policy), read by hand from
# the API: each level needs an answer of the one before.
#   1. the mapping (GetEventSourceMapping)                                                      1 read
#   2. its function; its cluster and the cluster's bootstrap brokers                            3 reads
#   3. the role (GetRole, ListRolePolicies, ListAttachedRolePolicies); the cluster's subnets;
#      the cluster's topics (ListTopics, issue 21)                                             5 reads
#   4. the inline policy; the VPC, its two DNS attributes, groups, route tables, NACLs,
#      NAT gateways, endpoints and subnets (each VPC-wide in one call), the endpoint services
#      offered, the private hosted zones associated with the VPC, two VPC quotas, and (issue 24,
#      N10) the Resolver rule associations, the Resolver rules and the DHCP options sets      17 reads
LEVELS = (1, 3, 5, 17)


def fewest_round_trips(workers: int) -> int:
    """With `workers` reads at once, a level of n reads takes ceil(n / workers) round trips; the levels
    follow one another, so that sum is the fewest possible (and the chain's 4 once a level fits)."""
    return sum(-(-n // workers) for n in LEVELS)


@pytest.fixture
def env(sandbox: Sandbox) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(sandbox.env())
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.parametrize("workers", [4, 8, 14, 16, 64])
def test_one_msk_mapping_takes_the_round_trips_of_its_chain(
    sandbox: Sandbox, env: None, workers: int, capsys: pytest.CaptureFixture[str]
) -> None:
    scn = build_scenario(sandbox, "healthy-msk")
    aws = Aws(region=sandbox.region)
    clock = CallClock()
    clock.attach(aws.session)
    for service in ("lambda", "kafka", "iam", "ec2"):
        aws.client(service)  # making a client is start-up, not a round trip
    latency = 0.3
    sandbox.faults.add(FaultRule(kind="latency", latency=latency))
    start = time.perf_counter()
    facts = observe(aws, scn.esm_uuid, max_workers=workers)
    took = time.perf_counter() - start
    with capsys.disabled():  # reported, not asserted: the wall time depends on the machine
        print(f"\n  max_workers={workers}: {len(clock.intervals)} calls, {took:.2f}s at {latency}s per call")
    assert facts.network is not None
    assert facts.role is not None
    assert not facts.unchecked
    assert len(clock.intervals) == sum(LEVELS)
    # At most the levels' sum: a read that waits for a worker (ListTopics, which needs only the cluster)
    # may share a round trip of the next level, so with few workers the chain can take one trip less.
    assert len(LEVELS) <= round_trips(clock.intervals) <= fewest_round_trips(workers)
    if workers >= max(LEVELS):
        assert round_trips(clock.intervals) == len(LEVELS)


def _extra_mapping(sandbox: Sandbox, scn: Scenario, topic: str) -> str:
    """Another mapping of the scenario's function on its cluster: same function, role and VPC."""
    uuid: str = sandbox.client("lambda").create_event_source_mapping(
        FunctionName=scn.function_name,
        EventSourceArn=scn.cluster_arn,
        Topics=[topic],
        StartingPosition="LATEST",
    )["UUID"]
    return uuid


def test_a_denied_read_is_made_once_per_distinct_resource_in_a_scan(sandbox: Sandbox, cli: CliRunner) -> None:
    shared = build_scenario(sandbox, "healthy-msk")
    alone = build_scenario(sandbox, "broker-timeout")
    extra = [_extra_mapping(sandbox, shared, f"more{i}") for i in range(3)]
    mappings = {shared.esm_uuid, alone.esm_uuid, *extra}
    vpcs = {shared.vpc_id, alone.vpc_id}
    roles = {shared.role_name, alone.role_name}
    assert len(vpcs) == len(roles) == 2
    for operation, service in (("DescribeNatGateways", "ec2"), ("ListAttachedRolePolicies", "iam")):
        sandbox.faults.add(FaultRule(service=service, operation=operation, kind="status", status=403))
    sandbox.clear_calls()
    result = cli("scan", "--output", "json")
    assert result.returncode == 2, result.stderr
    codes = {m["esm_uuid"]: [f["code"] for f in m["findings"]] for m in json.loads(result.stdout)["mappings"]}
    assert set(codes) == mappings
    assert all("COULD_NOT_CHECK" in found for found in codes.values()), codes
    calls = Counter(op for _, op in sandbox.calls)
    assert calls["DescribeNatGateways"] == len(vpcs)
    assert calls["ListAttachedRolePolicies"] == len(roles)


def test_a_failure_is_kept_for_the_run_and_a_fresh_view_reads_again(sandbox: Sandbox, env: None) -> None:
    """Verification reads through `fresh()`: it must see AWS as it is now, not what the run learnt."""
    scn = build_scenario(sandbox, "healthy-msk")
    rule = sandbox.faults.add(
        FaultRule(service="ec2", operation="DescribeVpcs", kind="status", status=403, times=2)
    )
    aws = Aws(region=sandbox.region)
    for _ in range(2):
        with pytest.raises(AwsError) as denied:
            aws.read("ec2", "describe_vpcs", VpcIds=[scn.vpc_id])
        assert denied.value.code == "UnauthorizedOperation"
    assert sandbox.faults.fired(rule) == 1  # the second read was answered from what the run learnt
    with pytest.raises(AwsError):
        aws.fresh().read("ec2", "describe_vpcs", VpcIds=[scn.vpc_id])
    assert sandbox.faults.fired(rule) == 2
    vpcs = aws.fresh().read("ec2", "describe_vpcs", VpcIds=[scn.vpc_id])["Vpcs"]
    assert [v["VpcId"] for v in vpcs] == [scn.vpc_id]
