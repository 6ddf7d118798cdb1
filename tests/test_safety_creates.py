"""Defect 2: in-flight creates were lost. A create interrupted mid-call (SIGKILL, a lost answer) was
journaled `created: false` on resume or retry, so rollback left the run-tagged resource behind; and
rollback deleted the security group a surviving endpoint still used, retrying AWS's
DependencyViolation for 900 s."""

from __future__ import annotations

import json
import signal

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import CliRunner, settle, vpc_inventory
from tests.safety import events, runs, signal_during, tagged

CREATE_ENDPOINT = ("ec2", "CreateVpcEndpoint")


def test_defect_2_in_flight_create_is_lost_on_resume(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "scram-no-nat")
    assert scn.vpc_id is not None
    before = vpc_inventory(sandbox, scn.vpc_id)
    killed = signal_during(
        sandbox,
        cli_env,
        ("apply", "--esm", scn.esm_uuid, "--auto-approve"),
        (CREATE_ENDPOINT,),
        2,
        signal.SIGKILL,
    )
    in_flight = [e for e in events(cli_env, killed.run_id) if e["event"] == "begin"][-1]["change_id"]
    resumed = cli("apply", "--resume", killed.run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{in_flight} create_vpc_endpoint" in resumed.stderr
    assert "found, made by this run before it stopped" in resumed.stderr
    (end,) = [
        e for e in events(cli_env, killed.run_id) if e["event"] == "end" and e["change_id"] == in_flight
    ]
    assert end["outputs"]["created"] is True
    assert cli("rollback", killed.run_id, "--auto-approve").returncode == 0
    assert vpc_inventory(sandbox, scn.vpc_id) == before
    assert tagged(sandbox, scn.vpc_id, killed.run_id) == []


def lost_answer(sandbox: Sandbox, operation: str) -> FaultRule:
    """The call takes effect, then the connection drops: the client retries into what it made."""
    return sandbox.faults.add(
        FaultRule(service="ec2", operation=operation, kind="reset", phase="response", times=1)
    )


def test_defect_2_retried_create_group_answered_duplicate_is_not_the_runs_own(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "scram-no-nat")
    assert scn.vpc_id is not None
    before = vpc_inventory(sandbox, scn.vpc_id)
    rule = lost_answer(sandbox, "CreateSecurityGroup")
    applied = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", "--output", "json")
    assert applied.returncode == 0, applied.stderr
    assert sandbox.faults.fired(rule) == 1
    run_id = json.loads(applied.stdout)["run_id"]
    (end,) = [e for e in events(cli_env, run_id) if e["event"] == "end" and e["change_id"] == "c1"]
    assert end["outputs"]["created"] is True
    assert cli("rollback", run_id, "--auto-approve").returncode == 0
    assert vpc_inventory(sandbox, scn.vpc_id) == before
    assert tagged(sandbox, scn.vpc_id, run_id) == []


def test_defect_2_retried_rule_answered_duplicate_is_not_the_runs_own(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "msk-iam-no-self-ingress")
    assert scn.vpc_id is not None
    before = vpc_inventory(sandbox, scn.vpc_id)
    rule = lost_answer(sandbox, "AuthorizeSecurityGroupIngress")
    applied = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert sandbox.faults.fired(rule) == 1
    run_id = runs(cli_env)[-1].stem
    ends = [e for e in events(cli_env, run_id) if e["event"] == "end" and e["outputs"].get("GroupId")]
    assert ends
    assert all(e["outputs"]["created"] and e["outputs"]["SecurityGroupRuleIds"] for e in ends)
    assert cli("rollback", run_id, "--auto-approve").returncode == 0
    assert vpc_inventory(sandbox, scn.vpc_id) == before


def test_defect_2_rollback_deletes_the_group_a_surviving_endpoint_uses(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    """Someone else's endpoint uses the group the run created: the rollback deletes the run's
    endpoints, refuses the group at once (a manual step naming that endpoint, exit 5), and the group
    stays, instead of retrying DependencyViolation until the transition timeout."""
    scn = build_scenario(sandbox, "scram-no-nat")
    assert scn.vpc_id is not None
    env = {"REMEDIATE_ESM_TRANSITION_TIMEOUT": "30"}
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve", env=env).returncode == 0
    run_id = runs(cli_env)[-1].stem
    ec2 = sandbox.client("ec2")
    group = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"remediate-endpoints-{scn.vpc_id}"]}]
    )["SecurityGroups"][0]["GroupId"]
    subnets = [
        s["SubnetId"]
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [scn.vpc_id]}])["Subnets"]
    ]
    theirs = ec2.create_vpc_endpoint(
        VpcId=scn.vpc_id,
        ServiceName="com.amazonaws.us-east-1.sqs",
        VpcEndpointType="Interface",
        SubnetIds=subnets[:1],
        SecurityGroupIds=[group],
    )["VpcEndpoint"]["VpcEndpointId"]
    sandbox.clear_calls()
    undo = cli("rollback", run_id, "--auto-approve", env=env)
    assert undo.returncode == 5, undo.stderr
    assert ("ec2", "DeleteSecurityGroup") not in sandbox.calls  # refused, not tried against AWS
    assert f"is still used by endpoint {theirs}" in undo.stdout
    assert "DependencyViolation" not in undo.stderr
    left = vpc_inventory(sandbox, scn.vpc_id)
    assert left["endpoints"] == {"sqs": 1}  # the run's endpoints are gone, theirs is not
    assert left["groups"][f"remediate-endpoints-{scn.vpc_id}"] == 1


def test_defect_2_an_in_flight_update_that_landed_is_someone_elses(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    """Killed while its BatchSize write was answered: the resume finds it in effect, journals it as
    the run's own (not "already in effect"), and the rollback restores the previous value."""
    scn = build_scenario(sandbox, "broker-timeout")
    killed = signal_during(
        sandbox,
        cli_env,
        ("apply", "--esm", scn.esm_uuid, "--auto-approve"),
        (("lambda", "UpdateEventSourceMapping"),),
        1,
        signal.SIGKILL,
    )
    assert cli("apply", "--resume", killed.run_id).returncode == 0
    journaled = [e for e in events(cli_env, killed.run_id) if e.get("change_id") == "c1"]
    assert [e["event"] for e in journaled] == ["begin", "end"]
    assert journaled[-1]["found"] is True
    assert cli("rollback", killed.run_id, "--auto-approve").returncode == 0
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 500
