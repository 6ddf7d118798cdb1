"""Defect 5: rollback broke its promise. It deleted resources changed after the run (a rule added to
the group it created, an endpoint policy replaced), exited 0 when it refused something, said
"changed since" on a second rollback, and recorded nothing, so `--resume` re-applied after it.

Defect 6: resume never checked staleness (it reverted a BatchSize set after the crash)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner, settle, vpc_inventory
from tests.safety import Ended, error_lines, events, runs, signal_during, start

UPDATE = ("lambda", "UpdateEventSourceMapping")


def rolled_back_by(env: dict[str, str], run_id: str) -> str:
    """The run id of the rollback the journal of `run_id` records last."""
    by: str = [e for e in events(env, run_id) if e["event"] == "rollback"][-1]["by"]
    return by


def applied_network(sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]) -> tuple[Any, str, str]:
    scn = build_scenario(sandbox, "scram-no-nat")
    assert scn.vpc_id is not None
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    group = sandbox.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"remediate-endpoints-{scn.vpc_id}"]}]
    )["SecurityGroups"][0]["GroupId"]
    return scn, runs(cli_env)[-1].stem, group


def test_defect_5_rollback_deletes_a_group_a_rule_was_added_to(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn, run_id, group = applied_network(sandbox, cli, cli_env)
    ec2 = sandbox.client("ec2")
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
        ],
    )
    undo = cli("rollback", run_id, "--auto-approve", "--output", "json")
    assert undo.returncode == 5, undo.stderr
    doc = json.loads(undo.stdout)
    assert doc["refused"] == ["c1"]
    assert any("were added to " + group in s["text"] for s in doc["plan"]["manual_steps"])
    left = vpc_inventory(sandbox, scn.vpc_id)
    assert left["endpoints"] == {}  # what was not changed since is undone
    assert left["groups"][f"remediate-endpoints-{scn.vpc_id}"] == 1
    assert left["rules"][f"remediate-endpoints-{scn.vpc_id}"] >= 2  # the user's rule is kept


def test_defect_5_rollback_deletes_an_endpoint_whose_policy_was_replaced(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn, run_id, _group = applied_network(sandbox, cli, cli_env)
    ec2 = sandbox.client("ec2")
    endpoint = ec2.describe_vpc_endpoints(
        Filters=[{"Name": "service-name", "Values": ["com.amazonaws.us-east-1.sts"]}]
    )["VpcEndpoints"][0]["VpcEndpointId"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:*", "Resource": "*"}],
    }
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint, PolicyDocument=json.dumps(policy))
    undo = cli("rollback", run_id, "--auto-approve")
    assert undo.returncode == 5, undo.stderr
    assert f"the policy of endpoint {endpoint} was replaced" in undo.stdout
    assert f"is still used by endpoint {endpoint}" in undo.stdout  # hence its group stays too
    left = vpc_inventory(sandbox, scn.vpc_id)
    assert left["endpoints"] == {"sts": 1}
    assert left["groups"][f"remediate-endpoints-{scn.vpc_id}"] == 1


def test_defect_5_rollback_exits_0_when_it_refused_items(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    settle(sandbox, scn.esm_uuid)
    sandbox.client("lambda").update_event_source_mapping(UUID=scn.esm_uuid, BatchSize=300)
    settle(sandbox, scn.esm_uuid)
    undo = cli("rollback", runs(cli_env)[-1].stem, "--auto-approve")
    assert undo.returncode == 5
    assert "refused 1 change(s) (c1)" in undo.stderr
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 300


def test_defect_5_second_rollback_says_changed_since_not_already_rolled_back(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn, run_id, _group = applied_network(sandbox, cli, cli_env)
    first = cli("rollback", run_id, "--auto-approve")
    assert first.returncode == 0, first.stderr
    rollback_id = rolled_back_by(cli_env, run_id)
    sandbox.clear_calls()
    second = cli("rollback", run_id, "--auto-approve")
    assert second.returncode == 0, second.stderr
    assert second.stdout == f"Run {run_id} was already rolled back by run {rollback_id}; nothing to do.\n"
    assert "changed since" not in second.stdout + second.stderr
    assert sandbox.calls == []  # decided from the journal alone
    recorded = [e for e in events(cli_env, run_id) if e["event"] == "rollback"]
    assert recorded[-1]["status"] == "done"
    assert recorded[-1]["by"] == rollback_id
    assert recorded[-1]["undone"] == ["c1", "c2", "c3", "c4"]
    assert vpc_inventory(sandbox, scn.vpc_id)["endpoints"] == {}


def test_defect_5_resume_after_rollback_reapplies_onto_deleted_resources(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "scram-no-nat")
    assert scn.vpc_id is not None
    killed = signal_during(
        sandbox,
        cli_env,
        ("apply", "--esm", scn.esm_uuid, "--auto-approve"),
        (("ec2", "CreateVpcEndpoint"),),
        2,
        signal.SIGKILL,
    )
    undo = cli("rollback", killed.run_id, "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    rollback_id = rolled_back_by(cli_env, killed.run_id)
    sandbox.clear_calls()
    resumed = cli("apply", "--resume", killed.run_id)
    assert resumed.returncode == 1
    (line,) = error_lines(resumed.stderr)
    assert f"run {killed.run_id} was rolled back by run {rollback_id}; there is nothing to resume" in line
    assert sandbox.calls == []
    assert vpc_inventory(sandbox, scn.vpc_id)["endpoints"] == {}


def test_defect_6_resume_never_checks_staleness(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    """Killed while its first change waited for the ESM to settle; then someone set BatchSize 300.
    Resuming must not revert that: it is refused like a stale plan (exit 4), nothing changed."""
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.esm_transition_reads = 10_000
    sandbox.set_esm_status(scn.esm_uuid, state="Updating")  # the run waits before its first write
    proc = start(cli_env, "apply", "--esm", scn.esm_uuid, "--auto-approve")
    journal: list[Path] = []
    while not journal or '"begin"' not in journal[0].read_text():  # waiting in c1 for the ESM to settle
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
        journal = runs(cli_env)
    proc.kill()
    proc.communicate(timeout=60)
    killed = Ended(proc.returncode, "", "", journal[0].stem)
    assert [e["event"] for e in events(cli_env, killed.run_id)] == ["run", "begin"]
    sandbox.esm_transition_reads = 2
    sandbox.set_esm_status(scn.esm_uuid, state="Enabled")
    sandbox.client("lambda").update_event_source_mapping(UUID=scn.esm_uuid, BatchSize=300)
    settle(sandbox, scn.esm_uuid)
    sandbox.clear_calls()
    resumed = cli("apply", "--resume", killed.run_id)
    assert resumed.returncode == 4, resumed.stderr
    (line,) = error_lines(resumed.stderr)
    assert "c1 update_esm" in line
    assert "{'BatchSize': 500}" in line
    assert "{'BatchSize': 300}" in line
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 300
    assert ("lambda", "UpdateEventSourceMapping") not in sandbox.calls
