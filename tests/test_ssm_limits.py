"""An Apply under SSM's limits, at 1/20 scale: 600 s steps become 30 s, ESM transitions are slowed.

The runner shrinks every SSM limit and duration by the same ratio (the script steps are told theirs in
REMEDIATE_SSM_STEP_SECONDS), and the sandbox makes each ESM transition last many slow reads. Whatever
happens (the apply fits, a transition outlasts the step's budget, the native restart fails, or someone
cancels the execution half-way) the run either completes or fails cleanly: the mapping ends Enabled,
its lock is released, and the journal in S3 says how the run ended, so `remediate rollback RUN_ID` and
`apply --resume RUN_ID` work from any machine.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from remediate.sandbox import Sandbox, build_scenario
from remediate.sandbox.faults import FaultRule
from remediate.ssm.document import Deploy, runbook
from remediate.ssm.runner import Runner, answer_all
from tests.conftest import REMEDIATE, settle
from tests.safety import lock_tags

SCALE = 1 / 20
ROLE = "arn:aws:iam::123456789012:role/automation"
BUCKET = "remediate-state"


def _slow(sb: Sandbox, reads: int, latency: float) -> None:
    """Each ESM transition lasts `reads` GetEventSourceMapping reads of `latency` seconds each."""
    sb.esm_transition_reads = reads
    sb.faults.add(
        FaultRule(service="lambda", operation="GetEventSourceMapping", kind="latency", latency=latency)
    )


def _setup(sb: Sandbox) -> Any:
    scn = build_scenario(sb, "broker-timeout")
    sb.client("s3").create_bucket(Bucket=BUCKET)
    return scn


def _runner(env: dict[str, str], on_progress: Any = None, scale: float = SCALE) -> Runner:
    return Runner(
        runbook(Deploy(approvers=["alice"], bucket=BUCKET)),
        approver=answer_all(True),
        env=env,
        region="us-east-1",
        time_scale=scale,
        poll_seconds=5.0,
        progress=on_progress,
    )


def _journal(sb: Sandbox, run_id: str) -> list[dict[str, Any]]:
    body = (
        sb.client("s3")
        .get_object(Bucket=BUCKET, Key=f"remediate/journals/123456789012/{run_id}.jsonl")["Body"]
        .read()
    )
    return [json.loads(line) for line in body.decode().splitlines()]


def _clean(sb: Sandbox, uuid: str) -> dict[str, Any]:
    """The end state every run must leave: Enabled and unlocked."""
    esm = settle(sb, uuid)
    assert esm["State"] == "Enabled"
    tags = lock_tags(sb, esm["EventSourceMappingArn"])
    assert tags == {}, tags
    return esm


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REMEDIATE, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_apply_completes_within_the_scaled_limits(
    sandbox: Sandbox, cli_env: dict[str, str], tmp_path: Path
) -> None:
    scn = _setup(sandbox)
    _slow(sandbox, reads=4, latency=0.2)
    execution = _runner(cli_env).run({"EsmId": scn.esm_uuid, "Mode": "Apply", "AutomationAssumeRole": ROLE})
    assert execution.status == "Success", execution.failure
    esm = _clean(sandbox, scn.esm_uuid)
    assert esm["BatchSize"] == 1
    run_id = execution.outputs["plan.RunId"]
    assert _journal(sandbox, run_id)[-1]["event"] == "finish"
    assert _journal(sandbox, run_id)[-1]["status"] == "done"

    # The journal outlives the SSM steps: another machine rolls the run back from S3.
    sandbox.faults.clear()
    sandbox.esm_transition_reads = 1
    env = {**cli_env, "REMEDIATE_STATE_DIR": str(tmp_path / "elsewhere"), "REMEDIATE_JOURNAL_BUCKET": BUCKET}
    result = _cli(env, "rollback", run_id, "--auto-approve")
    assert result.returncode == 0, result.stderr
    assert f"Rollback of {run_id} complete" in result.stdout
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 500


def test_a_transition_longer_than_the_step_budget_fails_cleanly_and_resumes(
    sandbox: Sandbox, cli_env: dict[str, str], tmp_path: Path
) -> None:
    scn = _setup(sandbox)
    _slow(sandbox, reads=60, latency=0.2)  # 12 s or more per transition; a step may wait 0.3 * 30 s
    execution = _runner(cli_env).run({"EsmId": scn.esm_uuid, "Mode": "Apply", "AutomationAssumeRole": ROLE})
    assert execution.status == "Failed"
    assert execution.failure.startswith("Step apply: AwsError: ESM ")
    assert "still Updating" in execution.failure
    assert [s.name for s in execution.steps][-2:] == ["apply", "cleanup"]
    assert execution.step("cleanup").status == "Success"
    _clean(sandbox, scn.esm_uuid)
    run_id = execution.outputs["plan.RunId"]
    assert _journal(sandbox, run_id)[-1] == {
        **_journal(sandbox, run_id)[-1],
        "event": "finish",
        "status": "failed",
    }

    # ... and the operator finishes it from the journal in S3, on another machine.
    sandbox.faults.clear()
    sandbox.esm_transition_reads = 1
    env = {**cli_env, "REMEDIATE_STATE_DIR": str(tmp_path / "elsewhere"), "REMEDIATE_JOURNAL_BUCKET": BUCKET}
    result = _cli(env, "apply", "--resume", run_id)
    assert result.returncode == 0, result.stderr
    assert _clean(sandbox, scn.esm_uuid)["BatchSize"] == 1


def test_a_failed_native_restart_ends_with_the_esm_enabled(sandbox: Sandbox, cli_env: dict[str, str]) -> None:
    scn = _setup(sandbox)
    _slow(sandbox, reads=4, latency=0.1)

    def on_progress(message: str) -> None:
        if message == "enable (aws:executeAwsApi): started":  # both tries at enabling fail
            sandbox.faults.add(
                FaultRule(
                    service="lambda", operation="UpdateEventSourceMapping", kind="status", status=500, times=2
                )
            )

    execution = _runner(cli_env, on_progress).run(
        {"EsmId": scn.esm_uuid, "Mode": "Apply", "AutomationAssumeRole": ROLE}
    )
    assert execution.status == "Failed"
    names = [s.name for s in execution.steps]
    assert names[names.index("disable") :] == [
        "disable",
        "waitDisabled",
        "enable",
        "enablePause",
        "enableAgain",
        "cleanup",
    ]
    assert "enabled ESM" in execution.step("cleanup").outputs["Outcome"]
    _clean(sandbox, scn.esm_uuid)
    assert _journal(sandbox, execution.outputs["plan.RunId"])[-1]["status"] == "failed"


@pytest.mark.parametrize(
    ("step", "status", "cleaned"),
    [("enable", "Success", False), ("disable", "Failed", True), ("enableAgain", "Failed", True)],
)
def test_one_failed_native_step_ends_as_its_handling_says(
    sandbox: Sandbox, cli_env: dict[str, str], step: str, status: str, cleaned: bool
) -> None:
    """issue 27, D4: a first enable that fails is handled (pause, enableAgain) and not critical, so a
    run whose retry succeeds ends Success; any other locked step's failure is critical: Failed, after
    `cleanup` left the ESM enabled and unlocked."""
    scn = _setup(sandbox)
    _slow(sandbox, reads=2, latency=0.05)
    fail_at = "enable" if step == "enableAgain" else step  # enableAgain runs only after enable failed

    def on_progress(message: str) -> None:
        if message == f"{fail_at} (aws:executeAwsApi): started":
            times = 2 if step == "enableAgain" else 1
            sandbox.faults.add(
                FaultRule(
                    service="lambda",
                    operation="UpdateEventSourceMapping",
                    kind="status",
                    status=500,
                    times=times,
                )
            )

    execution = _runner(cli_env, on_progress).run(
        {"EsmId": scn.esm_uuid, "Mode": "Apply", "AutomationAssumeRole": ROLE}
    )
    assert execution.status == status, execution.failure
    failed = [s.name for s in execution.steps if s.status == "Failed"]
    assert failed == (["enable", "enableAgain"] if step == "enableAgain" else [step])
    assert (execution.step("cleanup") is not None) == cleaned
    if not cleaned:
        assert execution.step("verify") is not None
        assert execution.step("verify").status == "Success"
    _clean(sandbox, scn.esm_uuid)


def test_a_cancel_mid_restart_is_cleaned_up_within_ssms_window_and_resumed(
    sandbox: Sandbox, cli_env: dict[str, str]
) -> None:
    """issue 27, D2: SSM runs the cancellation workflow for at most two minutes. The cancel cleanup
    never waits for the ESM: it asks for the enable if it can, releases the lock and journals the end
    within its 60 s (scaled), says what is left, and `apply --resume` finishes the restart. At 1/10
    scale: a script step's interpreter start is not scaled, and 1/20 of 60 s leaves it too little."""
    from remediate.ssm.limits import CANCEL_STEP_TIMEOUT

    scale = 1 / 10
    scn = _setup(sandbox)
    _slow(sandbox, reads=25, latency=0.1)  # a transition of 25 reads: longer than cleanup reads
    runner: Runner

    def on_progress(message: str) -> None:
        if message == "waitDisabled (aws:waitForAwsResourceProperty): started":
            runner.cancel()

    runner = _runner(cli_env, on_progress, scale)
    execution = runner.run({"EsmId": scn.esm_uuid, "Mode": "Apply", "AutomationAssumeRole": ROLE})
    assert execution.status == "Cancelled"
    assert execution.step("waitDisabled").status == "Cancelled"
    assert execution.step("cleanup") is None
    done = execution.step("cancelCleanup")
    assert done is not None
    assert done.status == "Success", done
    assert done.seconds < CANCEL_STEP_TIMEOUT * scale
    outcome = execution.outputs["cancelCleanup.Outcome"]
    assert "lock released" in outcome
    run_id = execution.outputs["plan.RunId"]
    esm = sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)
    assert lock_tags(sandbox, esm["EventSourceMappingArn"]) == {}
    assert _journal(sandbox, run_id)[-1]["status"] == "failed"
    # still Disabling (its transition outlasts the cleanup's few reads): Lambda refuses the enable
    assert f"left to settle: ESM {scn.esm_uuid} is Disabling" in outcome
    assert f"remediate apply --resume {run_id}" in outcome
    settle(sandbox, scn.esm_uuid)
    resumed = _cli(
        {**cli_env, "REMEDIATE_JOURNAL_BUCKET": BUCKET}, "apply", "--resume", run_id, "--auto-approve"
    )
    assert resumed.returncode == 0, resumed.stderr
    _clean(sandbox, scn.esm_uuid)


@pytest.mark.parametrize("limit", [600.0, 30.0])
def test_the_budget_follows_the_step_limit(monkeypatch: pytest.MonkeyPatch, limit: float) -> None:
    from remediate.ssm import limits

    monkeypatch.setenv(limits.STEP_SECONDS_ENV, str(limit))
    assert limits.step_seconds() == limit
    # a change starts only while two bounded waits and the margin still fit
    assert 2 * limits.WAIT_SHARE + limits.MARGIN_SHARE < 1
    monkeypatch.setenv(limits.STEP_SECONDS_ENV, "9999")
    assert limits.step_seconds() == 600.0
