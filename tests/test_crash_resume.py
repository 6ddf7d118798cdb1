"""Crash safety: SIGKILL an apply at each ESM update, then resume it; the end state is the same.

SIGKILL (and SIGINT, SIGTERM) at every mutation of the network apply, then resume, re-run and roll back:
tests/test_safety_signals.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner, settle
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
