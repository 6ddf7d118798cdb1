"""End-to-end: the network playbooks through the real CLI against the sandbox.

For every network scenario: the plan has the scenario's finding codes and exactly the needed
changes; apply makes them; a second plan shows "No changes."; a second apply creates no duplicate
endpoint, security group or rule. Plus: two concurrent applies of one saved plan, and an apply that
failed between two creates, still converge to exactly one endpoint per service.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from remediate import actions
from remediate.actions import ApplyContext
from remediate.aws import Aws
from remediate.config import load_settings
from remediate.plan import Change
from remediate.sandbox import Sandbox
from remediate.sandbox.faults import FaultRule
from remediate.sandbox.scenarios import Scenario, build_scenario
from tests.conftest import CliRunner, vpc_inventory

# scenario -> the (action, resource-or-service suffix) of every change the plan must hold, sorted.
EXPECTED: dict[str, list[tuple[str, str]]] = {
    "msk-iam-no-self-ingress": [("authorize_sg_ingress", "group")],
    "scram-no-nat": [
        ("create_security_group", "remediate-endpoints"),
        ("create_vpc_endpoint", "lambda"),
        ("create_vpc_endpoint", "secretsmanager"),
        ("create_vpc_endpoint", "sts"),
    ],
    "scram-nat": [],
    "endpoint-sg-blocks": [("authorize_sg_ingress", "endpoint-group")],
    "self-managed-vpc-no-broker-egress": [("authorize_sg_egress", "group"), ("authorize_sg_egress", "group")],
    "destination-sqs-no-endpoint": [("create_vpc_endpoint", "sqs")],
    "vpc-dns-hostnames-off": [("modify_vpc_attribute", "vpc")],
}


def _json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def _plan(cli: CliRunner, sc: Scenario) -> dict[str, Any]:
    return _json(cli("plan", "--esm", sc.esm_uuid, "--output", "json"))


def _label(change: dict[str, Any], sc: Scenario) -> tuple[str, str]:
    resource = change["resource"]
    if resource.startswith("com.amazonaws."):
        return change["action"], resource.rsplit(".", 1)[-1]
    if resource.startswith("remediate-endpoints-"):
        return change["action"], "remediate-endpoints"
    if resource == sc.vpc_id:
        return change["action"], "vpc"
    if resource == sc.endpoint_security_group_id:
        return change["action"], "endpoint-group"
    if resource in sc.security_group_ids:
        return change["action"], "group"
    return change["action"], resource


def _assert_no_open_rules(sb: Sandbox, vpc_id: str) -> None:
    """Ingress the tool may have added never admits the whole internet."""
    groups = sb.client("ec2").describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    for g in groups["SecurityGroups"]:
        for p in g["IpPermissions"]:
            assert all(r["CidrIp"] != "0.0.0.0/0" for r in p.get("IpRanges", [])), g["GroupId"]
            assert all(r["CidrIpv6"] != "::/0" for r in p.get("Ipv6Ranges", [])), g["GroupId"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scenario_plans_applies_and_converges(name: str, sandbox: Sandbox, cli: CliRunner) -> None:
    sc = build_scenario(sandbox, name)
    assert sc.vpc_id is not None
    plan = _plan(cli, sc)
    assert sorted(f["code"] for f in plan["findings"]) == sorted(sc.expected_findings)
    assert sorted(_label(c, sc) for c in plan["changes"]) == EXPECTED[name]
    for finding in plan["findings"]:
        assert finding["evidence"]["paths"], "every network finding explains its paths"

    first = cli("apply", "--esm", sc.esm_uuid, "--auto-approve")
    assert first.returncode == 0, first.stderr
    after_first = vpc_inventory(sandbox, sc.vpc_id)
    _assert_no_open_rules(sandbox, sc.vpc_id)

    replan = cli("plan", "--esm", sc.esm_uuid)
    assert replan.returncode == 0, replan.stderr
    assert "No changes." in replan.stdout
    assert "No problems found." in replan.stdout

    second = cli("apply", "--esm", sc.esm_uuid, "--auto-approve")
    assert second.returncode == 0, second.stderr
    assert vpc_inventory(sandbox, sc.vpc_id) == after_first


def test_endpoints_are_created_as_planned(sandbox: Sandbox, cli: CliRunner) -> None:
    """Interface, private DNS, one subnet per AZ, the new group (admitting 443 from the cluster's
    group only), tagged with the run id."""
    sc = build_scenario(sandbox, "scram-no-nat")
    assert sc.vpc_id is not None
    assert cli("apply", "--esm", sc.esm_uuid, "--auto-approve").returncode == 0
    ec2 = sandbox.client("ec2")
    group = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"remediate-endpoints-{sc.vpc_id}"]}]
    )["SecurityGroups"][0]
    assert [
        (p["FromPort"], [u["GroupId"] for u in p["UserIdGroupPairs"]]) for p in group["IpPermissions"]
    ] == [(443, list(sc.security_group_ids))]
    assert "remediate:run-id" in {t["Key"] for t in group.get("Tags", [])}
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [sc.vpc_id]}])[
        "VpcEndpoints"
    ]
    assert len(endpoints) == 3  # nothing was deleted, so every endpoint listed is live
    for e in endpoints:
        assert e["VpcEndpointType"] == "Interface"
        assert e["PrivateDnsEnabled"] is True
        assert sorted(e["SubnetIds"]) == sorted(sc.subnet_ids)  # one subnet in each of the three AZs
        assert [g["GroupId"] for g in e["Groups"]] == [group["GroupId"]]
        assert "remediate:run-id" in {t["Key"] for t in e.get("Tags", [])}


def test_concurrent_applies_of_one_plan_make_one_endpoint_per_service(
    sandbox: Sandbox, cli: CliRunner, cli_process: CliRunner, tmp_path: Path
) -> None:
    sc = build_scenario(sandbox, "scram-no-nat")
    assert sc.vpc_id is not None
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--esm", sc.esm_uuid, "--out", str(plan_file)).returncode == 0
    results: list[subprocess.CompletedProcess[str]] = []

    def apply(i: int) -> None:
        # Separate state directories: two operators on two machines, so no local lock serialises them.
        # Two processes racing: the process boundary is the point, so each is a real subprocess.
        results.append(
            cli_process("apply", str(plan_file), env={"REMEDIATE_STATE_DIR": str(tmp_path / f"state{i}")})
        )

    runners = [threading.Thread(target=apply, args=(i,)) for i in range(2)]
    for t in runners:
        t.start()
    for t in runners:
        t.join()
    assert any(r.returncode == 0 for r in results), [r.stderr for r in results]
    for r in results:  # the other one ran after (0), found the plan stale (4) or the ESM locked (1)
        assert r.returncode == 0 or "is stale" in r.stderr or "is locked" in r.stderr, r.stderr
    inventory = vpc_inventory(sandbox, sc.vpc_id)
    assert inventory["endpoints"] == Counter({"lambda": 1, "sts": 1, "secretsmanager": 1})
    assert inventory["groups"][f"remediate-endpoints-{sc.vpc_id}"] == 1


def test_apply_that_failed_between_creates_converges_on_rerun(sandbox: Sandbox, cli: CliRunner) -> None:
    sc = build_scenario(sandbox, "scram-no-nat")
    assert sc.vpc_id is not None
    fault = sandbox.faults.add(
        FaultRule(service="ec2", operation="CreateVpcEndpoint", kind="status", status=400)
    )
    crashed = cli("apply", "--esm", sc.esm_uuid, "--auto-approve")
    assert crashed.returncode == 1
    assert vpc_inventory(sandbox, sc.vpc_id)["groups"][f"remediate-endpoints-{sc.vpc_id}"] == 1
    sandbox.faults.remove(fault)

    rerun = cli("apply", "--esm", sc.esm_uuid, "--auto-approve")
    assert rerun.returncode == 0, rerun.stderr
    inventory = vpc_inventory(sandbox, sc.vpc_id)
    assert inventory["endpoints"] == Counter({"lambda": 1, "sts": 1, "secretsmanager": 1})
    assert inventory["groups"][f"remediate-endpoints-{sc.vpc_id}"] == 1
    assert inventory["rules"][f"remediate-endpoints-{sc.vpc_id}"] == 2  # 443 from the cluster, default egress
    assert "No changes." in cli("plan", "--esm", sc.esm_uuid).stdout


def test_same_endpoint_change_applied_concurrently_creates_one_endpoint(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the ESM lock's race window, two applies of one change both find no endpoint and both
    create: the ClientToken (plan id + change id) makes AWS return the same endpoint to both."""
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    ec2 = sandbox.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    # Private-DNS endpoints need both VPC DNS attributes on (issue 24, S1).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    spec = {
        "VpcId": vpc,
        "ServiceName": "com.amazonaws.us-east-1.sts",
        "VpcEndpointType": "Interface",
        "PrivateDnsEnabled": True,
        "SubnetIds": [subnet],
    }
    change = Change(
        id="c2", action="create_vpc_endpoint", resource=spec["ServiceName"], kind="create", after=spec
    )
    action = actions.get("create_vpc_endpoint")
    barrier = threading.Barrier(2)
    outputs: list[dict[str, Any]] = []

    def apply(run_id: str) -> None:
        ctx = ApplyContext(
            aws=Aws(region="us-east-1"), settings=load_settings(), plan_id="p-1", run_id=run_id
        )
        assert not action.is_done(change, ctx)
        barrier.wait()
        outputs.append(action.apply(change, ctx))

    runners = [threading.Thread(target=apply, args=(f"r-{i}",)) for i in range(2)]
    for t in runners:
        t.start()
    for t in runners:
        t.join()
    assert len(outputs) == 2
    assert outputs[0]["VpcEndpointId"] == outputs[1]["VpcEndpointId"]
    assert vpc_inventory(sandbox, vpc)["endpoints"] == Counter({"sts": 1})


def test_rollback_deletes_what_the_run_created_and_nothing_else(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    sc = build_scenario(sandbox, "destination-sqs-no-endpoint", dns_hostnames=False)
    assert sc.vpc_id is not None
    before = vpc_inventory(sandbox, sc.vpc_id)
    assert cli("apply", "--esm", sc.esm_uuid, "--auto-approve").returncode == 0
    assert vpc_inventory(sandbox, sc.vpc_id)["endpoints"]["sqs"] == 1
    runs = sorted(
        (Path(cli_env["REMEDIATE_STATE_DIR"]) / "runs").glob("*.jsonl"), key=lambda p: p.stat().st_mtime
    )
    undo = cli("rollback", runs[-1].stem, "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    assert vpc_inventory(sandbox, sc.vpc_id) == before  # the sqs endpoint is gone, DNS hostnames off again


def test_egress_to_a_group_the_plan_creates_is_applied_and_verified(sandbox: Sandbox, cli: CliRunner) -> None:
    """No egress at all: the pollers need tcp/9096 to the brokers and 443 to the new endpoints'
    group, which the plan refers to as `${c1.GroupId}` before it exists."""
    sc = build_scenario(sandbox, "scram-no-nat", sg_egress_all=False)
    assert sc.vpc_id is not None
    plan = _plan(cli, sc)
    assert sorted(f["code"] for f in plan["findings"]) == [
        "BROKER_PORTS_BLOCKED",
        "SERVICE_ENDPOINTS_UNREACHABLE",
    ]
    egress = sorted(
        (c["after"]["FromPort"], c["after"]["PeerGroupId"])
        for c in plan["changes"]
        if c["action"] == "authorize_sg_egress"
    )
    assert egress == [(443, "${c1.GroupId}"), (9096, sc.security_group_ids[0])]
    applied = cli("apply", "--esm", sc.esm_uuid, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert "No changes." in cli("plan", "--esm", sc.esm_uuid).stdout
    _assert_no_open_rules(sandbox, sc.vpc_id)
