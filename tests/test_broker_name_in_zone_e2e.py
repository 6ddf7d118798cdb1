"""issue 21 (item 6, names): a self-managed broker given by a name in a private hosted zone of the VPC.

Route 53 DG ("Working with private hosted zones"): a private hosted zone associated with a VPC answers its
names there. The broker's name is a CNAME to the node's A record in the zone; the tool must follow it to the
private address, find that address's network interface (DescribeNetworkInterfaces by private IP) and weigh
its group exactly as for an IP literal: BROKER_PORTS_BLOCKED naming the broker's group, fixed there.
"""

from __future__ import annotations

import json

from remediate.sandbox import Sandbox
from remediate.sandbox.scenarios import build_scenario
from tests.conftest import CliRunner

ADDRESS = "10.0.1.10"  # the node's A record in the scenario's zone


def test_broker_name_resolves_through_the_zone_to_its_interface(sandbox: Sandbox, cli: CliRunner) -> None:
    sc = build_scenario(sandbox, "self-managed-broker-name-in-zone")
    (esm_group,) = sc.security_group_ids
    ec2 = sandbox.client("ec2")
    [eni] = ec2.describe_network_interfaces(
        Filters=[{"Name": "addresses.private-ip-address", "Values": [ADDRESS]}]
    )["NetworkInterfaces"]
    broker_group = eni["Groups"][0]["GroupId"]

    proc = cli("plan", "--esm", sc.esm_uuid, "--output", "json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert [f["code"] for f in plan["findings"]] == ["BROKER_PORTS_BLOCKED"]
    evidence = plan["findings"][0]["evidence"]
    # The group of the interface at the zone's answer: the name was followed through the CNAME to the A.
    assert {b["resource"] for p in evidence["blocked"] for b in p["blocks"]} == {broker_group}
    [change] = plan["changes"]
    assert (change["action"], change["resource"]) == ("authorize_sg_ingress", broker_group)

    run = cli("apply", "--esm", sc.esm_uuid, "--auto-approve")
    assert run.returncode == 0, run.stderr
    (group,) = ec2.describe_security_groups(GroupIds=[broker_group])["SecurityGroups"]
    opened = [
        (p["FromPort"], p["ToPort"])
        for p in group["IpPermissions"]
        if any(u["GroupId"] == esm_group for u in p["UserIdGroupPairs"])
    ]
    assert opened == [(9092, 9092)]
    replan = json.loads(cli("plan", "--esm", sc.esm_uuid, "--output", "json").stdout)
    assert replan["findings"] == []
    assert replan["changes"] == []


def test_name_no_zone_answers_stays_unresolved(sandbox: Sandbox, cli: CliRunner) -> None:
    """The same broker, but its zone is not associated with the VPC: nothing is resolved, nothing opened."""
    sc = build_scenario(
        sandbox, "self-managed-broker-name-in-zone", name="name-zone-elsewhere", private_zone_associated=False
    )
    proc = cli("plan", "--esm", sc.esm_uuid, "--output", "json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    codes = [f["code"] for f in plan["findings"]]
    assert "BROKER_DNS_UNRESOLVABLE" in codes
    assert not any(c["action"] == "authorize_sg_ingress" for c in plan["changes"])
