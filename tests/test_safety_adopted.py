"""Issue 23, item 2 (audit 2026-12-06, N2b/N2c): what a later run relies on is not removed under it.

A run killed after its endpoints were made leaves them for the next run of the same mapping (on this
host, or on another with its own journals), which finds them in effect and verifies its fix on them.
Rolling back the killed run (the command its interrupt printed) keeps what the later run relies on
while that run stands, and says which run and why; once that run is rolled back too, they go.
"""

from __future__ import annotations

from pathlib import Path

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner
from tests.safety import kill_apply, tagged

ENDPOINT = (("ec2", "CreateVpcEndpoint"),)


def test_n2b_n2c_rollback_of_a_killed_run_keeps_what_the_rerun_relies_on(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """The re-run keeps its journals elsewhere (N2c: another host): only AWS can tell the rollback."""
    scn = build_scenario(sandbox, "scram-no-nat", role_grants_secret=False)
    assert scn.vpc_id is not None
    killed = kill_apply(sandbox, cli_env, scn.esm_uuid, ENDPOINT, 3)
    made = tagged(sandbox, scn.vpc_id, killed.run_id)
    assert len(made) == 5  # three endpoints, their group and its rule
    other = {"REMEDIATE_STATE_DIR": str(tmp_path / "other-host")}
    rerun = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", env=other)
    assert rerun.returncode == 0, rerun.stderr
    rerun_id = rerun.stdout.rsplit("Run id: ", 1)[1].split()[0]

    undo = cli("rollback", killed.run_id, "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    assert f"which run {rerun_id} (ESM {scn.esm_uuid}) relies on" in undo.stdout
    assert tagged(sandbox, scn.vpc_id, killed.run_id) == made
    after = cli("plan", "--esm", scn.esm_uuid, "--detailed-exitcode")
    assert after.returncode == 0, after.stdout

    # Once the later run is undone, nothing relies on them: the killed run's rollback removes them.
    assert cli("rollback", rerun_id, "--auto-approve", env=other).returncode == 0
    again = cli("rollback", killed.run_id, "--auto-approve")
    assert again.returncode == 0, again.stderr
    assert tagged(sandbox, scn.vpc_id, killed.run_id) == []


def test_item2_a_later_run_of_the_mapping_keeps_the_role_statement(sandbox: Sandbox, cli: CliRunner) -> None:
    """issue 23 item 2: R1 made `remediate-esm-access` and failed at its restart; R2, a later run of the
    same mapping, fixed something else and verified with the statement in place. `rollback R1` keeps
    the statement and names R2; once R2 is rolled back, `rollback R1` removes it."""
    from remediate.sandbox import FaultRule

    scn = build_scenario(sandbox, "role-missing-msk-access")
    sandbox.faults.add(
        FaultRule(service="lambda", operation="UpdateEventSourceMapping", kind="status", status=400, times=1)
    )
    first = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert first.returncode == 1, first.stderr
    r1 = first.stderr.split("Run id: ")[1].split()[0]
    lam = sandbox.client("lambda")
    function = lam.get_event_source_mapping(UUID=scn.esm_uuid)["FunctionArn"]
    lam.update_function_configuration(FunctionName=function, Timeout=900)
    second = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert second.returncode == 0, second.stderr
    r2 = second.stdout.rsplit("Run id: ", 1)[1].split()[0]
    iam = sandbox.client("iam")
    role = scn.role_arn.rsplit("/", 1)[-1]
    undo = cli("rollback", r1, "--auto-approve")
    assert f"which run {r2} (ESM {scn.esm_uuid}) relies on" in undo.stdout + undo.stderr, undo.stdout
    assert "remediate-esm-access" in iam.list_role_policies(RoleName=role)["PolicyNames"]
    assert cli("rollback", r2, "--auto-approve").returncode == 0
    again = cli("rollback", r1, "--auto-approve")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "remediate-esm-access" not in iam.list_role_policies(RoleName=role)["PolicyNames"]
