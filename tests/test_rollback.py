"""Rollback undoes exactly what one run did, and refuses what was changed since."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from remediate.sandbox import Sandbox, Scenario, build_scenario
from tests.conftest import CliRunner, settle, vpc_inventory


def last_run(env: dict[str, str]) -> str:
    runs = sorted(
        (Path(env["REMEDIATE_STATE_DIR"]) / "runs").glob("*.jsonl"), key=lambda p: p.stat().st_mtime
    )
    return runs[-1].stem


def test_rollback_restores_batch_size(sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    run_id = last_run(cli_env)
    refused = cli("rollback", run_id)
    assert refused.returncode == 3  # approved like apply: no terminal, no --auto-approve
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 1
    undo = cli("rollback", run_id, "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    assert "~ BatchSize = 1 -> 500" in undo.stdout
    esm = settle(sandbox, scn.esm_uuid)
    assert (esm["State"], esm["BatchSize"]) == ("Enabled", 500)


def test_rollback_disables_what_the_run_enabled(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "disabled-by-lambda")
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    assert settle(sandbox, scn.esm_uuid)["State"] == "Enabled"
    undo = cli("rollback", last_run(cli_env), "--auto-approve", "--output", "json")
    assert undo.returncode == 0, undo.stderr
    assert json.loads(undo.stdout)["applied"] == ["undo-c1"]
    assert settle(sandbox, scn.esm_uuid)["State"] == "Disabled"


def test_rollback_refuses_a_resource_changed_since(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    settle(sandbox, scn.esm_uuid)
    sandbox.client("lambda").update_event_source_mapping(UUID=scn.esm_uuid, BatchSize=300)
    settle(sandbox, scn.esm_uuid)
    sandbox.clear_calls()
    undo = cli("rollback", last_run(cli_env), "--auto-approve")
    assert undo.returncode == 5, undo.stderr  # it refused something: not a success
    assert "not rolled back: c1 update_esm" in undo.stdout
    assert "No changes" in undo.stdout
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 300
    assert not [c for c in sandbox.calls if c == ("lambda", "UpdateEventSourceMapping")]


def snapshot(sb: Sandbox, scn: Scenario) -> dict[str, Any]:
    """Every resource the IAM, endpoint-policy, SCRAM and DNS playbooks can touch, as AWS reports it."""
    iam = sb.client("iam")
    ec2 = sb.client("ec2")
    role = iam.get_role(RoleName=scn.role_name)["Role"]
    inline = {
        name: iam.get_role_policy(RoleName=scn.role_name, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=scn.role_name)["PolicyNames"]
    }
    endpoints = {  # compared as documents: a restored policy may list its keys in another order
        e["VpcEndpointId"]: json.loads(e["PolicyDocument"]) if e.get("PolicyDocument") else None
        for e in ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [scn.vpc_id or "-"]}])[
            "VpcEndpoints"
        ]
        if e["State"] not in ("deleting", "deleted")
    }
    scram = (
        sorted(sb.client("kafka").list_scram_secrets(ClusterArn=scn.cluster_arn).get("SecretArnList", []))
        if scn.cluster_arn and scn.auth == "scram"
        else []
    )
    zones = (
        sorted(v["VPCId"] for v in sb.client("route53").get_hosted_zone(Id=scn.hosted_zone_id)["VPCs"])
        if scn.hosted_zone_id
        else []
    )
    network = vpc_inventory(sb, scn.vpc_id) if scn.vpc_id else {}
    return {
        "trust": role["AssumeRolePolicyDocument"],
        "inline": inline,
        "endpoints": endpoints,
        "scram": scram,
        "zones": zones,
        "network": network,
    }


@pytest.mark.parametrize(
    "name",
    [
        "role-not-trusted",
        "role-missing-msk-access",
        "lambda-endpoint-denies-invoke",
        "scram-secret-not-associated",
        "broker-dns-zone-not-associated",
        "msk-iam-no-self-ingress",
        "self-managed-vpc-no-broker-egress",
        "scram-no-nat",
        "vpc-dns-hostnames-off",
    ],
)
def test_rollback_returns_every_touched_resource_to_its_pre_apply_state(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str], name: str
) -> None:
    scn = build_scenario(sandbox, name)
    before = snapshot(sandbox, scn)
    applied = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert snapshot(sandbox, scn) != before
    undo = cli("rollback", last_run(cli_env), "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    assert "by hand" not in undo.stdout
    assert snapshot(sandbox, scn) == before
