"""Issue 23, item 2: shared resources have owners (audit 2026-12-06, N2).

Endpoints and their security group belong to the VPC, `remediate-esm-access` to the execution role:
every mapping of the same cluster or role relies on them. Rolling back one mapping's run keeps what
another live mapping relies on, and says so.
"""

from __future__ import annotations

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner
from tests.safety import runs, tagged


def test_n2_rollback_keeps_the_endpoints_and_role_policy_another_mapping_relies_on(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "scram-no-nat", role_grants_secret=False, peer_mappings=1)
    assert scn.vpc_id is not None
    (peer,) = scn.peer_uuids
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    run_id = runs(cli_env)[-1].stem
    assert cli("plan", "--esm", peer, "--detailed-exitcode").returncode == 0  # B is fixed by A's run
    made = tagged(sandbox, scn.vpc_id, run_id)
    undo = cli("rollback", run_id, "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    assert f"which ESM {peer} also relies on" in undo.stdout + undo.stderr
    assert tagged(sandbox, scn.vpc_id, run_id) == made  # the endpoints and their group are kept
    policies = sandbox.client("iam").list_role_policies(RoleName=scn.role_name)["PolicyNames"]
    assert "remediate-esm-access" in policies
    after = cli("plan", "--esm", peer, "--detailed-exitcode")
    assert after.returncode == 0, after.stdout


def test_a_rollback_with_no_other_mapping_removes_everything(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "scram-no-nat", role_grants_secret=False)
    assert scn.vpc_id is not None
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    run_id = runs(cli_env)[-1].stem
    undo = cli("rollback", run_id, "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    assert "also relies on" not in undo.stdout + undo.stderr
    assert tagged(sandbox, scn.vpc_id, run_id) == []
    policies = sandbox.client("iam").list_role_policies(RoleName=scn.role_name)["PolicyNames"]
    assert "remediate-esm-access" not in policies
