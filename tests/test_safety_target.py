"""Defect 10: the wrong target. The region (and account) an ESM ARN, a plan file or a journal names
were ignored in favour of AWS_REGION, and an ARN of another account was accepted silently."""

from __future__ import annotations

import signal
from pathlib import Path

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner, settle
from tests.safety import error_lines, signal_during

ELSEWHERE = {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"}


def test_defect_10_the_region_in_an_esm_arn_is_ignored(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    run = cli("plan", "--esm", scn.esm_arn, "--detailed-exitcode", env=ELSEWHERE)
    assert run.returncode == 2, run.stderr
    assert "Plan: 0 to add, 2 to change, 0 to destroy." in run.stdout


def test_defect_10_the_region_in_a_plan_file_is_ignored(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    plan = tmp_path / "plan.json"
    assert cli("plan", "--esm", scn.esm_uuid, "--out", str(plan)).returncode == 0
    run = cli("apply", str(plan), env=ELSEWHERE)
    assert run.returncode == 0, run.stderr
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 1


def test_defect_10_the_region_in_a_journal_is_ignored(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    killed = signal_during(
        sandbox,
        cli_env,
        ("apply", "--esm", scn.esm_uuid, "--auto-approve"),
        (("lambda", "UpdateEventSourceMapping"),),
        1,
        signal.SIGKILL,
    )
    resumed = cli("apply", "--resume", killed.run_id, env=ELSEWHERE)
    assert resumed.returncode == 0, resumed.stderr
    undo = cli("rollback", killed.run_id, "--auto-approve", env=ELSEWHERE)
    assert undo.returncode == 0, undo.stderr
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 500


def test_defect_10_an_arn_of_another_account_is_accepted_silently(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    foreign = scn.esm_arn.replace(f":{sandbox.account_id}:", ":111111111111:")
    sandbox.clear_calls()
    run = cli("apply", "--esm", foreign, "--auto-approve")
    assert run.returncode == 1
    (line,) = error_lines(run.stderr)
    assert f"ESM {foreign} is in account 111111111111, but the AWS credentials are for account " in line
    assert f"account {sandbox.account_id}; use a profile of that account" in line
    assert sandbox.calls == [("sts", "GetCallerIdentity")]


def test_a_region_flag_that_contradicts_the_arn_is_one_line(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.clear_calls()
    run = cli("plan", "--esm", scn.esm_arn, "--region", "eu-west-1")
    assert run.returncode == 1
    (line,) = error_lines(run.stderr)
    assert f"--region eu-west-1 does not match ESM {scn.esm_arn}, which is in us-east-1" in line
    assert sandbox.calls == []
