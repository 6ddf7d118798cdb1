"""Crash safety: SIGKILL an apply at each mutation, then resume it; the end state is the same."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import REMEDIATE, CliRunner, settle

UPDATE = ("lambda", "UpdateEventSourceMapping")


@pytest.mark.parametrize("boundary", [1, 2, 3])
def test_kill_at_each_esm_update_then_resume(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str], boundary: int
) -> None:
    """The broker-timeout apply makes three ESM updates (batch size, disable, enable): die during each."""
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.faults.add(
        FaultRule(service="lambda", operation="UpdateEventSourceMapping", kind="latency", latency=0.5)
    )
    proc = subprocess.Popen(
        [REMEDIATE, "apply", "--esm", scn.esm_uuid, "--auto-approve"],
        env=cli_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while sandbox.calls.count(UPDATE) < boundary:
        assert proc.poll() is None, "apply ended before reaching the boundary"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)  # mid-request: the server still applies the update it received
    proc.communicate(timeout=30)
    sandbox.faults.clear()

    journal = next((Path(cli_env["REMEDIATE_STATE_DIR"]) / "runs").glob("*.jsonl"))
    run_id = journal.stem
    resumed = cli("apply", "--resume", run_id)
    assert resumed.returncode == 0, resumed.stderr
    esm = settle(sandbox, scn.esm_uuid)
    assert (esm["State"], esm["BatchSize"]) == ("Enabled", 1)
    events = [json.loads(line)["event"] for line in journal.read_text().splitlines()]
    assert "resume" in events
    assert events[-1] == "finish"
    tags = sandbox.client("lambda").list_tags(Resource=scn.esm_arn).get("Tags", {})
    assert "remediate:lock" not in tags
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
