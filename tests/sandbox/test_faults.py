"""Fault injection as the code under test sees it: boto3 with retries off, over real HTTP."""

from __future__ import annotations

import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from remediate.sandbox import FaultRule, Sandbox

NO_RETRIES = Config(retries={"max_attempts": 0, "mode": "standard"}, connect_timeout=5, read_timeout=5)


def _error(call: object) -> tuple[str, int]:
    assert callable(call)
    with pytest.raises(ClientError) as error:
        call()
    response = error.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize(
    ("service", "call", "expected"),
    [
        ("lambda", lambda c: c.list_event_source_mappings(), ("TooManyRequestsException", 429)),
        ("kafka", lambda c: c.list_clusters_v2(), ("TooManyRequestsException", 429)),
        ("ec2", lambda c: c.describe_subnets(), ("RequestLimitExceeded", 503)),
        ("iam", lambda c: c.list_roles(), ("Throttling", 400)),
        ("sts", lambda c: c.get_caller_identity(), ("Throttling", 400)),
        ("secretsmanager", lambda c: c.list_secrets(), ("ThrottlingException", 400)),
    ],
)
def test_throttle_in_each_protocol(
    sb: Sandbox, service: str, call: object, expected: tuple[str, int]
) -> None:
    client = sb.client(service, config=NO_RETRIES)
    sb.faults.add(FaultRule(service=service, kind="throttle", times=1))
    assert callable(call)
    assert _error(lambda: call(client)) == expected
    call(client)  # times=1: the second call passes


def test_status_fault(sb: Sandbox) -> None:
    client = sb.client("lambda", config=NO_RETRIES)
    sb.faults.add(FaultRule(service="lambda", operation="ListEventSourceMappings", kind="status", status=503))
    assert _error(lambda: client.list_event_source_mappings())[1] == 503
    client.list_functions()  # a different operation is untouched
    sb.faults.clear()
    client.list_event_source_mappings()


def test_status_fault_query_protocol(sb: Sandbox) -> None:
    client = sb.client("ec2", config=NO_RETRIES)
    sb.faults.add(FaultRule(service="ec2", kind="status", status=500, times=1))
    assert _error(lambda: client.describe_vpcs())[1] == 500


def test_reset_fault_drops_the_connection(sb: Sandbox) -> None:
    client = sb.client("lambda", config=NO_RETRIES)
    sb.faults.add(FaultRule(service="lambda", kind="reset", times=1))
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        client.list_functions()
    client.list_functions()


def test_latency_fault_delays_then_passes(sb: Sandbox) -> None:
    client = sb.client("ec2", config=NO_RETRIES)
    client.describe_vpcs()
    sb.faults.add(FaultRule(service="ec2", operation="DescribeVpcs", kind="latency", latency=0.3))
    started = time.monotonic()
    client.describe_vpcs()
    assert time.monotonic() - started >= 0.3


def test_faulted_request_has_no_side_effect(sb: Sandbox) -> None:
    client = sb.client("ec2", config=NO_RETRIES)
    sb.faults.add(FaultRule(service="ec2", operation="CreateVpc", kind="throttle", times=1))
    _error(lambda: client.create_vpc(CidrBlock="10.9.0.0/16"))
    vpcs = [vpc["CidrBlock"] for vpc in client.describe_vpcs()["Vpcs"]]
    assert "10.9.0.0/16" not in vpcs


def test_times_limits_firings(sb: Sandbox) -> None:
    client = sb.client("sts", config=NO_RETRIES)
    rule = sb.faults.add(FaultRule(service="sts", kind="throttle", times=2))
    outcomes = []
    for _ in range(4):
        try:
            client.get_caller_identity()
            outcomes.append("ok")
        except ClientError:
            outcomes.append("throttled")
    assert outcomes == ["throttled", "throttled", "ok", "ok"]
    assert sb.faults.fired(rule) == 2


def test_probability_is_seeded_and_reproducible(sb: Sandbox) -> None:
    client = sb.client("sts", config=NO_RETRIES)

    def run() -> list[bool]:
        sb.faults.clear()
        sb.faults.add(FaultRule(service="sts", kind="throttle", probability=0.5, seed=7))
        results = []
        for _ in range(12):
            try:
                client.get_caller_identity()
                results.append(False)
            except ClientError:
                results.append(True)
        return results

    first = run()
    assert first == run()
    assert any(first)
    assert not all(first)


def test_default_retries_absorb_a_single_throttle(sb: Sandbox) -> None:
    client = sb.client("lambda")  # default retry config
    sb.faults.add(FaultRule(service="lambda", kind="throttle", times=1))
    client.list_functions()
    assert sb.calls.count(("lambda", "ListFunctions")) == 2


def test_moto_api_requests_are_never_faulted(sb: Sandbox) -> None:
    sb.faults.add(FaultRule(kind="status", status=500))
    sb.reset()  # would fail if /moto-api/reset were faulted


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "bogus"},
        {"status": 42},
        {"times": -1},
        {"probability": 1.5},
        {"kind": "latency", "latency": -1},
    ],
)
def test_rule_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        FaultRule(**kwargs)  # type: ignore[arg-type]
