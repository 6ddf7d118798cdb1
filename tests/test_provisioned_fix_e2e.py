"""End-to-end: provisioned mode as a chosen fix for a VPC that cannot reach Lambda and STS (issue 15, item 7).

Never silent: without `--fix-with provisioned-mode` the plan creates endpoints and only lists the alternative,
with its cost basis; with it, the plan switches the mapping instead, and the sandbox's mapping has the
ProvisionedPollerConfig after apply.
"""

from __future__ import annotations

import json

import pytest

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner


def test_alternative_is_listed_not_planned(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "scram-no-nat")
    plan = json.loads(cli("plan", "--esm", scn.esm_uuid, "--output", "json").stdout)
    assert [f["code"] for f in plan["findings"]] == ["SERVICE_ENDPOINTS_UNREACHABLE"]
    assert "switch_to_provisioned_mode" not in [c["action"] for c in plan["changes"]]
    assert "create_vpc_endpoint" in [c["action"] for c in plan["changes"]]
    [offer] = plan["alternatives"]
    assert offer["because"] == ["SERVICE_ENDPOINTS_UNREACHABLE"]
    assert "--fix-with provisioned-mode" in offer["text"]
    assert "'MinimumPollers': 1" in offer["text"]
    assert "event poller unit" in offer["text"]
    text = cli("plan", "--esm", scn.esm_uuid).stdout
    assert "Alternatives (not planned; choose one with --fix-with):" in text


def test_fix_with_provisioned_mode(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "scram-no-nat")
    plan = json.loads(
        cli("plan", "--esm", scn.esm_uuid, "--fix-with", "provisioned-mode", "--output", "json").stdout
    )
    [change] = plan["changes"]
    assert change["action"] == "switch_to_provisioned_mode"
    assert change["after"]["ProvisionedPollerConfig"] == {"MinimumPollers": 1, "MaximumPollers": 200}
    assert plan["alternatives"] == []
    run = cli(
        "apply", "--esm", scn.esm_uuid, "--fix-with", "provisioned-mode", "--auto-approve", "--output", "json"
    )
    assert run.returncode == 0, run.stderr
    esm = sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)
    assert esm["ProvisionedPollerConfig"] == {"MinimumPollers": 1, "MaximumPollers": 200}
    assert not sandbox.client("ec2").describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [str(scn.vpc_id)]}]
    )["VpcEndpoints"]
    after = json.loads(cli("diagnose", "--esm", scn.esm_uuid, "--output", "json").stdout)
    assert after["findings"] == []
    undo = cli("rollback", json.loads(run.stdout)["run_id"], "--auto-approve")
    assert "by hand" in undo.stdout + undo.stderr


def test_fix_with_needs_an_esm(sandbox: Sandbox, cli: CliRunner) -> None:
    run = cli("apply", "--resume", "r-x", "--fix-with", "provisioned-mode")
    assert run.returncode == 1
    assert "--fix-with" in run.stderr


def test_sandbox_refuses_pollers_out_of_range(sandbox: Sandbox) -> None:
    scn = build_scenario(sandbox, "healthy-msk")
    lam = sandbox.client("lambda")
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match="MinimumPollers"):
        lam.update_event_source_mapping(UUID=scn.esm_uuid, ProvisionedPollerConfig={"MinimumPollers": 201})
