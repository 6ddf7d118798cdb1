"""Defect 9: silent failures. A failed apply, or `--watch` timing out after changes, never printed the
run id or what changed; a denied UntagResource after a successful apply showed only the untag error
(exit 1) and hid the result; a lock release failure hid the real error.

And what every exit must show: the run id after any change, exactly one JSON document on standard
output with `--output json` (exits 3, 4 and a `--watch` timeout included), and the plan on standard
error before the question when standard output is JSON."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

import pytest

from remediate.sandbox import FaultRule, Sandbox, Scenario, build_scenario
from tests.conftest import REMEDIATE, CliRunner, settle
from tests.safety import error_lines, lock_tags, runs

CONNECTION = "PROBLEM: Connection error. Please check your event source connection configuration."


def deny(sandbox: Sandbox, service: str, operation: str) -> None:
    sandbox.faults.add(FaultRule(service=service, operation=operation, kind="status", status=403))


@pytest.mark.parametrize("output", ["text", "json"])
def test_defect_9_a_failed_apply_never_prints_the_run_id(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str], output: str
) -> None:
    scn = build_scenario(sandbox, "scram-no-nat")
    deny(sandbox, "ec2", "CreateVpcEndpoint")
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", "--output", output)
    assert run.returncode == 1
    (line,) = error_lines(run.stderr)
    assert "UnauthorizedOperation" in line
    run_id = runs(cli_env)[-1].stem
    assert f"Run id: {run_id}" in run.stderr
    assert "c1 create_security_group on remediate-endpoints-" in run.stderr
    assert f"Continue it: remediate apply --resume {run_id}" in run.stderr
    assert f"Undo it:     remediate rollback {run_id}" in run.stderr
    if output == "json":
        doc = json.loads(run.stdout)
        assert (doc["schema"], doc["run_id"], doc["state"], doc["applied"]) == (
            "remediate/apply@1",
            run_id,
            "failed",
            ["c1"],
        )
        assert "UnauthorizedOperation" in doc["error"]


def watch_scenario(sandbox: Sandbox) -> Scenario:
    """A fix without a restart: AWS's old error text stays until the pollers run again."""
    return build_scenario(sandbox, "msk-iam-no-self-ingress", last_processing_result=CONNECTION)


def test_defect_9_watch_timing_out_after_changes_hides_the_run_id(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = watch_scenario(sandbox)
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", "--watch", "1s", "--output", "json")
    assert run.returncode == 1
    (line,) = error_lines(run.stderr)
    assert "still reports" in line
    run_id = runs(cli_env)[-1].stem
    assert f"Run id: {run_id}" in run.stderr
    doc = json.loads(run.stdout)
    assert (doc["run_id"], doc["state"]) == (run_id, "failed")
    assert doc["applied"]  # the changes stay made, and are listed


def test_defect_9_a_denied_untag_after_success_hides_the_result(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    deny(sandbox, "lambda", "UntagResource")
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert run.returncode == 0, run.stderr
    assert "Apply complete! Resources: 0 added, 2 changed, 0 destroyed." in run.stdout
    assert error_lines(run.stderr) == []
    assert f"Warning: could not release the lock on ESM {scn.esm_uuid}" in run.stderr
    assert f"remediate unlock --esm {scn.esm_uuid}" in run.stderr
    sandbox.faults.clear()
    assert lock_tags(sandbox, scn.esm_arn) != {}
    assert cli("unlock", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0


def test_defect_9_a_lock_release_failure_hides_the_real_error(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    deny(sandbox, "lambda", "UntagResource")
    deny(sandbox, "lambda", "UpdateEventSourceMapping")
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert run.returncode == 1
    (line,) = error_lines(run.stderr)
    assert "update_event_source_mapping failed: AccessDeniedException" in line
    assert f"Warning: could not release the lock on ESM {scn.esm_uuid}" in run.stderr
    # issue 23: the Warning comes after the result (the Error line), as the contract says
    assert run.stderr.index("Error: ") < run.stderr.index("Warning: could not release")


@pytest.mark.parametrize("outcome", ["refused", "stale", "watch", "bad-input", "unknown-esm", "locked"])
def test_json_output_is_one_document_on_every_exit(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path, outcome: str
) -> None:
    scn = watch_scenario(sandbox) if outcome == "watch" else build_scenario(sandbox, "broker-timeout")
    args = ["apply", "--esm", scn.esm_uuid, "--output", "json"]
    expected = {"refused": 3, "stale": 4, "watch": 1, "bad-input": 1, "unknown-esm": 1, "locked": 1}[outcome]
    if outcome == "stale":
        plan = tmp_path / "plan.json"
        assert cli("plan", "--esm", scn.esm_uuid, "--out", str(plan)).returncode == 0
        sandbox.client("lambda").update_event_source_mapping(UUID=scn.esm_uuid, BatchSize=300)
        settle(sandbox, scn.esm_uuid)
        args = ["apply", str(plan), "--output", "json"]
    elif outcome == "watch":
        args += ["--auto-approve", "--watch", "1s"]
    elif outcome == "bad-input":
        args += ["--config", str(tmp_path / "missing.toml")]
    elif outcome == "unknown-esm":
        args = ["apply", "--esm", "11111111-2222-3333-4444-555555555555", "--output", "json"]
    elif outcome == "locked":
        sandbox.client("lambda").tag_resource(
            Resource=scn.esm_arn,
            Tags={"remediate:lock:abc": f"held/r-20260101T000000Z-abcdef/elsewhere/1/0/{2**31}"},
        )
        args += ["--auto-approve"]
    run = cli(*args)
    assert run.returncode == expected, run.stderr
    doc = json.loads(run.stdout)  # exactly one document: anything else would not parse
    assert len(error_lines(run.stderr)) == 1
    if outcome == "bad-input":
        assert (doc["schema"], doc["exit_code"]) == ("remediate/error@1", 1)
    else:
        assert doc["schema"] == "remediate/apply@1"
        assert doc["state"] == {"refused": "refused", "stale": "stale"}.get(outcome, "failed")


def test_the_plan_is_on_stderr_before_the_prompt_with_json_output(
    sandbox: Sandbox, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    master, terminal = pty.openpty()
    os.write(master, b"no\n")
    try:
        run = subprocess.run(
            [REMEDIATE, "apply", "--esm", scn.esm_uuid, "--output", "json"],
            env=cli_env,
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(master)
    assert run.returncode == 3, run.stderr
    plan_at = run.stderr.index("Plan: 0 to add, 2 to change, 0 to destroy.")
    assert plan_at < run.stderr.index("Do you want to perform these actions?")
    assert "~ BatchSize = 500 -> 1" in run.stderr
    assert json.loads(run.stdout)["state"] == "refused"
