"""issue 21 (item 6): a self-managed broker on EC2 inside the pollers' VPC, through the real CLI.

The broker's own interface carries a group that admits the broker port only from an application tier's
group. The tool must read that interface (DescribeNetworkInterfaces by the broker's private IP), name the
broker's group in the finding, open that one port to the mapping's VPC_SECURITY_GROUP alone, verify it
by read-back, and converge on a re-plan.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from remediate.sandbox import Sandbox
from remediate.sandbox.scenarios import build_scenario
from tests.conftest import CliRunner

NAME = "self-managed-broker-group-other-tier"


def _broker_interface(sandbox: Sandbox, address: str) -> dict[str, Any]:
    enis = sandbox.client("ec2").describe_network_interfaces(
        Filters=[{"Name": "addresses.private-ip-address", "Values": [address]}]
    )["NetworkInterfaces"]
    assert len(enis) == 1
    eni: dict[str, Any] = enis[0]
    return eni


def test_broker_group_is_named_opened_to_the_mapping_group_and_verified(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    sc = build_scenario(sandbox, NAME)
    (esm_group,) = sc.security_group_ids
    broker_group = _broker_interface(sandbox, "10.0.2.10")["Groups"][0]["GroupId"]
    assert broker_group != esm_group

    proc = cli("plan", "--esm", sc.esm_uuid, "--output", "json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert [f["code"] for f in plan["findings"]] == ["BROKER_PORTS_BLOCKED"]
    evidence = plan["findings"][0]["evidence"]
    assert any(broker_group in line and "ingress" in line for line in evidence["paths"]), evidence["paths"]
    assert {b["resource"] for p in evidence["blocked"] for b in p["blocks"]} == {broker_group}
    assert [(c["action"], c["resource"]) for c in plan["changes"]] == [("authorize_sg_ingress", broker_group)]

    run = cli("apply", "--esm", sc.esm_uuid, "--auto-approve")
    assert run.returncode == 0, run.stderr
    journal = next((Path(cli_env["REMEDIATE_STATE_DIR"]) / "runs").glob("*.jsonl"))
    verified = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [e["event"] for e in verified][-2:] == ["verify", "finish"]

    ec2 = sandbox.client("ec2")
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [broker_group]}])[
        "SecurityGroupRules"
    ]
    ingress = [r for r in rules if not r["IsEgress"]]
    added = [r for r in ingress if r.get("ReferencedGroupInfo", {}).get("GroupId") == esm_group]
    assert len(added) == 1, rules
    (rule,) = added
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 9092, 9092)
    (group,) = ec2.describe_security_groups(GroupIds=[broker_group])["SecurityGroups"]
    pairs = [u for p in group["IpPermissions"] for u in p["UserIdGroupPairs"] if u["GroupId"] == esm_group]
    assert len(pairs) == 1, group["IpPermissions"]
    assert "9092" in pairs[0].get("Description", "")
    assert "remediate:run-id" in {t["Key"] for t in rule.get("Tags", [])}
    # Nothing else opened: the app tier's rule is still the only other ingress, and no CIDR rule.
    assert len(ingress) == 2
    assert all("CidrIpv4" not in r for r in ingress)
    # The mapping's own group was not touched for the broker.
    assert not [
        r
        for r in ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [esm_group]}])[
            "SecurityGroupRules"
        ]
        if "remediate:run-id" in {t["Key"] for t in r.get("Tags", [])}
    ]

    replan = cli("plan", "--esm", sc.esm_uuid)
    assert replan.returncode == 0, replan.stderr
    assert "No changes." in replan.stdout
    assert "No problems found." in replan.stdout


def test_a_broker_ip_with_no_interface_keeps_the_egress_plan(sandbox: Sandbox, cli: CliRunner) -> None:
    """A broker IP no interface in the VPC holds: its ingress is unknown, so only egress is planned."""
    sc = build_scenario(sandbox, "self-managed-vpc-no-broker-egress")
    proc = cli("plan", "--esm", sc.esm_uuid, "--output", "json")
    assert proc.returncode == 0, proc.stderr
    changes = json.loads(proc.stdout)["changes"]
    assert {c["action"] for c in changes} == {"authorize_sg_egress"}


def test_a_denied_interface_read_is_could_not_check(sandbox: Sandbox, cli: CliRunner) -> None:
    """The broker's interface unread: COULD_NOT_CHECK names it, and nothing is planned on a group."""
    from remediate.sandbox.faults import FaultRule

    sc = build_scenario(sandbox, NAME)
    sandbox.faults.add(
        FaultRule(service="ec2", operation="DescribeNetworkInterfaces", kind="status", status=403)
    )
    proc = cli("plan", "--esm", sc.esm_uuid, "--output", "json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    unread = [f for f in plan["findings"] if f["code"] == "COULD_NOT_CHECK"]
    assert [f["evidence"]["what"] for f in unread] == [
        f"network interfaces of the brokers 10.0.2.10 in {sc.vpc_id}"
    ], plan["findings"]
    assert "BROKER_PORTS_BLOCKED" not in {f["code"] for f in plan["findings"]}
    assert not [c for c in plan["changes"] if c["action"] == "authorize_sg_ingress"]
