"""Crash safety: SIGKILL an apply at each mutation, then resume it; the end state is the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner, settle, vpc_inventory
from tests.safety import kill_apply, lock_tags

UPDATE = ("lambda", "UpdateEventSourceMapping")


@pytest.mark.parametrize("boundary", [1, 2, 3])
def test_kill_at_each_esm_update_then_resume(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str], boundary: int
) -> None:
    """The broker-timeout apply makes three ESM updates (batch size, disable, enable): die during each."""
    scn = build_scenario(sandbox, "broker-timeout")
    run_id = kill_apply(sandbox, cli_env, scn.esm_uuid, (UPDATE,), boundary).run_id
    journal = Path(cli_env["REMEDIATE_STATE_DIR"]) / "runs" / f"{run_id}.jsonl"
    resumed = cli("apply", "--resume", run_id)
    assert resumed.returncode == 0, resumed.stderr
    esm = settle(sandbox, scn.esm_uuid)
    assert (esm["State"], esm["BatchSize"]) == ("Enabled", 1)
    events = [json.loads(line)["event"] for line in journal.read_text().splitlines()]
    assert "resume" in events
    assert events[-1] == "finish"
    assert lock_tags(sandbox, scn.esm_arn) == {}
    again = cli("plan", "--esm", scn.esm_uuid, "--detailed-exitcode")
    assert again.returncode == 0, again.stdout


def test_resume_of_a_finished_run_is_refused(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    run_id = next((Path(cli_env["REMEDIATE_STATE_DIR"]) / "runs").glob("*.jsonl")).stem
    again = cli("apply", "--resume", run_id)
    assert again.returncode == 1
    assert "already finished" in again.stderr


def test_resume_of_an_unknown_run(cli: CliRunner) -> None:
    run = cli("apply", "--resume", "r-nope")
    assert run.returncode == 1
    assert "no journal for run r-nope" in run.stderr


# Every mutation the network scenario's apply makes (plus the ESM restart at its end).
NETWORK_WRITES = (
    ("ec2", "CreateSecurityGroup"),
    ("ec2", "AuthorizeSecurityGroupIngress"),
    ("ec2", "AuthorizeSecurityGroupEgress"),
    ("ec2", "CreateVpcEndpoint"),
    ("lambda", "UpdateEventSourceMapping"),
)


def same_shape(inventory: dict[str, Any], vpc_id: str) -> str:
    """An inventory with this scenario's VPC id taken out of names, to compare two scenario builds."""
    return json.dumps(inventory, sort_keys=True).replace(vpc_id, "VPC")


def test_kill_at_every_mutation_of_the_network_apply_then_resume(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """SCRAM without NAT: a security group, its rules, three endpoints, egress rules, an ESM restart.
    Die during each of those calls in turn (the server still completes the call it received), resume,
    and compare with an uninterrupted run: same resources, none twice."""
    reference = build_scenario(sandbox, "scram-no-nat")
    assert reference.vpc_id is not None
    sandbox.clear_calls()
    assert cli("apply", "--esm", reference.esm_uuid, "--auto-approve").returncode == 0
    expected = same_shape(vpc_inventory(sandbox, reference.vpc_id), reference.vpc_id)
    boundaries = sum(1 for c in sandbox.calls if c in NETWORK_WRITES)
    assert boundaries >= 5  # the group, its ingress rule, three endpoints

    for boundary in range(1, boundaries + 1):
        sandbox.reset()
        scn = build_scenario(sandbox, "scram-no-nat")
        assert scn.vpc_id is not None
        state = tmp_path / f"state-{boundary}"
        run_id = kill_apply(
            sandbox, {**cli_env, "REMEDIATE_STATE_DIR": str(state)}, scn.esm_uuid, NETWORK_WRITES, boundary
        ).run_id
        resumed = cli("apply", "--resume", run_id, env={"REMEDIATE_STATE_DIR": str(state)})
        assert resumed.returncode == 0, f"boundary {boundary}: {resumed.stderr}"
        assert same_shape(vpc_inventory(sandbox, scn.vpc_id), scn.vpc_id) == expected, f"boundary {boundary}"
        assert settle(sandbox, scn.esm_uuid)["State"] == "Enabled"
        replan = cli(
            "plan", "--esm", scn.esm_uuid, "--detailed-exitcode", env={"REMEDIATE_STATE_DIR": str(state)}
        )
        assert replan.returncode == 0, f"boundary {boundary}: {replan.stdout}"
