"""Issue 23, item 1: the trigger is never left off by the tool (audit 2026-12-06, N1 and N5).

Real CLI processes against the sandbox, killed or signalled inside the restart (between the disable
and the enable) and inside a rollback; then every way out: a plain re-run, `apply --resume`,
`rollback`. Each must end with the mapping Enabled as it was before the run (or, for a rollback of
a rollback, the baseline restored) and never send the operator in a circle.
"""

from __future__ import annotations

import signal

import pytest

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner, settle
from tests.safety import case_id, lock_tags, runs, signal_cases, signal_during, tagged

UPDATE = ("lambda", "UpdateEventSourceMapping")
MARK = "remediate:restarting"
SIGNALS = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -signal.SIGKILL}


def tags(sb: Sandbox, arn: str) -> dict[str, str]:
    found: dict[str, str] = sb.client("lambda").list_tags(Resource=arn).get("Tags", {})
    return found


def role_policies(sb: Sandbox, role: str) -> list[str]:
    names: list[str] = sb.client("iam").list_role_policies(RoleName=role)["PolicyNames"]
    return names


@pytest.mark.parametrize("way", ["rerun", "resume", "rollback"])
def test_n1_kill_between_disable_and_enable_every_way_out_enables_the_trigger(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str], way: str
) -> None:
    """SIGKILL while AWS handles the restart's disable: the ESM settles Disabled with 'User action',
    like a person's disable. A plain re-run, `--resume` and `rollback` each enable it again."""
    scn = build_scenario(sandbox, "scram-no-nat", role_grants_secret=False)
    assert scn.vpc_id is not None
    assert scn.role_name is not None
    policies_before = role_policies(sandbox, scn.role_name)
    args = ("apply", "--esm", scn.esm_uuid, "--auto-approve")
    ended = signal_during(sandbox, cli_env, args, (UPDATE,), 1, signal.SIGKILL)
    assert ended.returncode == -signal.SIGKILL
    assert settle(sandbox, scn.esm_uuid)["State"] == "Disabled"  # the tool's own disable landed
    if way == "rerun":
        out = cli(*args)
        assert out.returncode == 0, out.stderr
        assert f"was disabled by remediate run {ended.run_id}" in out.stderr
        assert cli("plan", "--esm", scn.esm_uuid, "--detailed-exitcode").returncode == 0
    elif way == "resume":
        out = cli("apply", "--resume", ended.run_id)
        assert out.returncode == 0, out.stderr
    else:
        out = cli("rollback", ended.run_id, "--auto-approve")
        assert out.returncode == 0, out.stderr
        assert "finish the run first" not in out.stdout + out.stderr
        assert tagged(sandbox, scn.vpc_id, ended.run_id) == []  # the baseline, all of it
        assert role_policies(sandbox, scn.role_name) == policies_before
        again = cli("rollback", ended.run_id, "--auto-approve")  # no circle: nothing left to do
        assert again.returncode == 0, again.stderr
    assert settle(sandbox, scn.esm_uuid)["State"] == "Enabled"
    assert MARK not in tags(sandbox, scn.esm_arn)
    assert lock_tags(sandbox, scn.esm_arn) == {}


@pytest.mark.parametrize(
    "case", signal_cases(("at-disable", "at-enable"), ("rerun", "resume", "rollback")), ids=case_id
)
def test_signal_in_the_disable_enable_window(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str], case: tuple[signal.Signals, str, str]
) -> None:
    """broker-timeout: c1 sets BatchSize 500 -> 1 (update 1), c2 restarts (update 2 disables, update 3
    enables). A signal at the disable or the enable, then each way out: the trigger ends Enabled,
    with the batch size of a finished run (re-run, resume) or of before the run (rollback). SIGKILL
    with every way out; SIGINT and SIGTERM take turns (`signal_cases`)."""
    sig, point, way = case
    boundary = 2 if point == "at-disable" else 3
    scn = build_scenario(sandbox, "broker-timeout")
    args = ("apply", "--esm", scn.esm_uuid, "--auto-approve")
    ended = signal_during(sandbox, cli_env, args, (UPDATE,), boundary, sig)
    assert ended.returncode == SIGNALS[sig], ended.stderr
    if way == "rerun":
        out = cli(*args)
    elif way == "resume":
        out = cli("apply", "--resume", ended.run_id)
    else:
        out = cli("rollback", ended.run_id, "--auto-approve")
    where = f"{sig.name} at update {boundary}, then {way}"
    assert out.returncode == 0, f"{where}: {out.stderr}"
    esm = settle(sandbox, scn.esm_uuid)
    assert (esm["State"], esm["BatchSize"]) == ("Enabled", 500 if way == "rollback" else 1), where
    assert MARK not in tags(sandbox, scn.esm_arn), where
    assert lock_tags(sandbox, scn.esm_arn) == {}, where


def test_plan_of_a_trigger_left_off_names_the_one_command(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    """`plan` (read only, it reads no tags) still says exactly which single AWS CLI command enables it."""
    scn = build_scenario(sandbox, "broker-timeout")
    args = ("apply", "--esm", scn.esm_uuid, "--auto-approve")
    signal_during(sandbox, cli_env, args, (UPDATE,), 2, signal.SIGKILL)
    assert settle(sandbox, scn.esm_uuid)["State"] == "Disabled"
    out = cli("plan", "--esm", scn.esm_uuid)
    assert f"aws lambda update-event-source-mapping --uuid {scn.esm_uuid} --enabled" in out.stdout


ROLLBACK_WRITES = (("iam", "DeleteRolePolicy"), ("ec2", "DeleteVpcEndpoints"), ("ec2", "DeleteSecurityGroup"))


@pytest.mark.parametrize("operation", ROLLBACK_WRITES, ids=lambda o: o[1])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=lambda s: s.name)
@pytest.mark.parametrize("way", ["rollback-again", "resume-the-rollback"])
def test_n5_signal_during_a_rollback_then_each_way_on_finishes_it(
    sandbox: Sandbox,
    cli: CliRunner,
    cli_env: dict[str, str],
    operation: tuple[str, str],
    sig: signal.Signals,
    way: str,
) -> None:
    """A rollback killed (or stopped) after one of its deletes took effect: rolling back again, or
    resuming the rollback, finishes it with exit 0: no false 'changed since', no advice to undo
    the undo, the baseline restored and the trigger Enabled."""
    scn = build_scenario(sandbox, "scram-no-nat", role_grants_secret=False)
    assert scn.vpc_id is not None
    assert scn.role_name is not None
    policies_before = role_policies(sandbox, scn.role_name)
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    run_id = runs(cli_env)[-1].stem
    ended = signal_during(sandbox, cli_env, ("rollback", run_id, "--auto-approve"), (operation,), 1, sig)
    assert ended.returncode == SIGNALS[sig], ended.stderr
    if way == "rollback-again":
        out = cli("rollback", run_id, "--auto-approve")
    else:
        out = cli("apply", "--resume", ended.run_id)
    where = f"{sig.name} at {operation[1]}, then {way}"
    assert out.returncode == 0, f"{where}: {out.stdout}{out.stderr}"
    assert "changed since" not in out.stdout + out.stderr, where
    assert tagged(sandbox, scn.vpc_id, run_id) == [], where
    assert role_policies(sandbox, scn.role_name) == policies_before, where
    assert settle(sandbox, scn.esm_uuid)["State"] == "Enabled", where
    assert lock_tags(sandbox, scn.esm_arn) == {}, where
    final = cli("rollback", run_id, "--auto-approve")  # the undone run is done with: nothing to do
    assert final.returncode == 0, f"{where}: {final.stderr}"


def test_n7_a_resume_counts_only_what_it_made(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    """Killed after the restart's disable of broker-timeout (c1 done): the resume makes only c2, so its
    summary says 0 added, 1 changed, not the plan's 2 changed."""
    scn = build_scenario(sandbox, "broker-timeout")
    args = ("apply", "--esm", scn.esm_uuid, "--auto-approve")
    ended = signal_during(sandbox, cli_env, args, (UPDATE,), 2, signal.SIGKILL)
    out = cli("apply", "--resume", ended.run_id)
    assert out.returncode == 0, out.stderr
    assert "Apply complete! Resources: 0 added, 1 changed, 0 destroyed." in out.stdout
