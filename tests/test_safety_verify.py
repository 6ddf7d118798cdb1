"""Defect 8: verify accepted what was not in effect. An endpoint in `pendingAcceptance` passed, and the
endpoint's subnets, security groups and private DNS were never compared with the plan.

While verification waits for the new endpoints to become `available` (the sandbox keeps them
`pending`), the test plays AWS (the service never accepts one) or a colleague (who edits one)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner
from tests.safety import error_lines, start


def while_verifying(sandbox: Sandbox, env: dict[str, str], change: Callable[[dict[str, Any]], None]) -> Any:
    """Apply the network fix; once its three endpoints exist (and stay pending), `change` the Lambda
    one, make every endpoint available, and return how the apply ended."""
    scn = build_scenario(sandbox, "scram-no-nat")
    sandbox.endpoint_pending_reads = 1_000_000
    proc = start(env, "apply", "--esm", scn.esm_uuid, "--auto-approve")
    ec2 = sandbox.client("ec2")
    endpoints: list[dict[str, Any]] = []
    while len(endpoints) < 3:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
        endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [scn.vpc_id or ""]}])[
            "VpcEndpoints"
        ]
    target = next(e for e in endpoints if e["ServiceName"].endswith(".lambda"))
    change(target)
    for endpoint in endpoints:
        if endpoint is not target:
            sandbox.set_endpoint_state(endpoint["VpcEndpointId"], "available")
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err, target["VpcEndpointId"]


def test_defect_8_verify_accepts_an_endpoint_pending_acceptance(
    sandbox: Sandbox, cli_env: dict[str, str]
) -> None:
    code, _out, err, endpoint = while_verifying(
        sandbox, cli_env, lambda e: sandbox.set_endpoint_state(e["VpcEndpointId"], "pendingAcceptance")
    )
    assert code == 1, err
    (line,) = error_lines(err)
    assert f"endpoint {endpoint} is pendingAcceptance, not available" in line
    assert "Run id: r-" in err  # the endpoints were made: the run says how to go on


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        ({"PrivateDnsEnabled": False}, "has private DNS False, planned True"),
        ({"RemoveSecurityGroupIds": "GROUP"}, "has security groups [], planned"),
        ({"RemoveSubnetIds": "SUBNET"}, "has subnets"),
    ],
)
def test_defect_8_subnets_groups_and_private_dns_are_never_compared(
    sandbox: Sandbox, cli_env: dict[str, str], edit: dict[str, Any], says: str
) -> None:
    ec2 = sandbox.client("ec2")

    def colleague(endpoint: dict[str, Any]) -> None:
        wanted = dict(edit)
        if wanted.get("RemoveSecurityGroupIds") == "GROUP":
            wanted["RemoveSecurityGroupIds"] = [g["GroupId"] for g in endpoint["Groups"]]
        if wanted.get("RemoveSubnetIds") == "SUBNET":
            wanted["RemoveSubnetIds"] = endpoint["SubnetIds"][:1]
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"], **wanted)
        sandbox.set_endpoint_state(endpoint["VpcEndpointId"], "available")

    code, _out, err, endpoint = while_verifying(sandbox, cli_env, colleague)
    assert code == 1, err
    (line,) = error_lines(err)
    assert f"endpoint {endpoint} {says}" in line


def test_verify_waits_for_pending_endpoints(sandbox: Sandbox, cli: CliRunner) -> None:
    """The created endpoints are `pending` for a few reads (as on AWS): verification waits, then passes."""
    scn = build_scenario(sandbox, "scram-no-nat")
    sandbox.endpoint_pending_reads = 5
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert run.returncode == 0, run.stderr
    states = {
        e["State"]
        for e in sandbox.client("ec2").describe_vpc_endpoints(
            Filters=[{"Name": "vpc-id", "Values": [scn.vpc_id or ""]}]
        )["VpcEndpoints"]
    }
    assert states == {"available"}
