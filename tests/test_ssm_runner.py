"""The runbook, run step by step by the local runner: the proof that the document itself works."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from remediate.errors import InputError
from remediate.sandbox import Sandbox, build_scenario
from remediate.ssm.document import runbook
from remediate.ssm.runner import Runner, resolve_parameters
from tests.conftest import CliRunner

ROLE = "arn:aws:iam::000000000000:role/automation"
WRITES = ("Update", "Authorize", "Create", "Put", "Modify", "Associate", "Revoke", "Delete")


class Approvals:
    """Answers aws:approve steps for a test and remembers what it was shown."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[tuple[str, str]] = []

    def __call__(self, step: str, message: str) -> bool:
        self.asked.append((step, message))
        return self.answer


@pytest.fixture
def step_env(cli_env: dict[str, str]) -> dict[str, str]:
    """What the SSM runtime gives a script step: credentials and region for the assume role."""
    return cli_env


def _scenario(sb: Sandbox, name: str) -> Any:
    scn = build_scenario(sb, name)
    sb.clear_calls()
    return scn


def _writes(sb: Sandbox) -> list[str]:
    return [op for _svc, op in sb.calls if op.startswith(WRITES)]


def _run(env: dict[str, str], approvals: Approvals, **params: Any) -> Any:
    runner = Runner(runbook(), approver=approvals, env=env)
    return runner.run({"AutomationAssumeRole": ROLE, "Approvers": ["alice"], **params})


def test_approved_broker_timeout_is_fixed_end_to_end(sandbox: Sandbox, step_env: dict[str, str]) -> None:
    scn = _scenario(sandbox, "broker-timeout")
    approvals = Approvals(True)
    execution = _run(step_env, approvals, EsmId=scn.esm_uuid, Mode="Apply")
    assert execution.status == "Success", execution.failure
    assert [(s.name, s.status) for s in execution.steps] == [
        ("plan", "Success"),
        ("decide", "Success"),
        ("approve", "Success"),
        ("apply", "Success"),
        ("verify", "Success"),
        ("finish", "Success"),
    ]
    [(step, message)] = approvals.asked
    assert step == "approve"
    assert "BatchSize = 500 -> 1" in message
    assert execution.outputs["plan.Summary"] == "Plan: 0 to add, 2 to change, 0 to destroy."
    assert len(execution.outputs["apply.AppliedChanges"]) == 2
    assert execution.outputs["verify.Summary"] == "No changes."
    esm = sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)
    assert (esm["BatchSize"], esm["State"]) == (1, "Enabled")


def test_rejected_plan_changes_nothing(sandbox: Sandbox, step_env: dict[str, str]) -> None:
    scn = _scenario(sandbox, "broker-timeout")
    execution = _run(step_env, Approvals(False), EsmId=scn.esm_uuid, Mode="Apply")
    assert execution.status == "Failed"
    assert "rejected" in execution.failure
    assert [s.name for s in execution.steps] == ["plan", "decide", "approve"]
    assert "apply.AppliedChanges" not in execution.outputs
    assert _writes(sandbox) == []
    assert sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"] == 500


def test_network_scenario_approve_applies_and_reject_changes_nothing(
    sandbox: Sandbox, step_env: dict[str, str]
) -> None:
    scn = _scenario(sandbox, "msk-iam-no-self-ingress")
    rejected = _run(step_env, Approvals(False), EsmId=scn.esm_uuid, Mode="Apply")
    assert rejected.status == "Failed"
    assert rejected.step("plan").outputs["ChangeCount"] > 0
    assert "BROKER_PORTS_BLOCKED" in " ".join(rejected.outputs["plan.Findings"])
    assert _writes(sandbox) == []

    approved = _run(step_env, Approvals(True), EsmId=scn.esm_uuid, Mode="Apply")
    assert approved.status == "Success", approved.failure
    actions = [c.split()[1] for c in approved.outputs["apply.AppliedChanges"]]
    assert "authorize_sg_ingress" in actions
    assert approved.step("verify").outputs["RemainingChangeCount"] == 0
    assert sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["State"] == "Enabled"


@pytest.mark.parametrize("mode", ["Diagnose", "Plan"])
def test_read_only_modes_end_after_the_plan(sandbox: Sandbox, step_env: dict[str, str], mode: str) -> None:
    scn = _scenario(sandbox, "broker-timeout")
    approvals = Approvals(True)
    execution = _run(step_env, approvals, EsmId=scn.esm_uuid, Mode=mode)
    assert execution.status == "Success"
    assert [s.name for s in execution.steps] == ["plan", "decide", "finish"]
    assert approvals.asked == []
    assert _writes(sandbox) == []


def test_auto_approve_skips_the_approval(sandbox: Sandbox, step_env: dict[str, str]) -> None:
    scn = _scenario(sandbox, "broker-timeout")
    approvals = Approvals(False)
    execution = _run(step_env, approvals, EsmId=scn.esm_uuid, Mode="Apply", AutoApprove="true")
    assert execution.status == "Success", execution.failure
    assert approvals.asked == []
    assert "approve" not in [s.name for s in execution.steps]


def test_nothing_to_change_ends_without_asking(sandbox: Sandbox, step_env: dict[str, str]) -> None:
    scn = _scenario(sandbox, "healthy-msk")
    approvals = Approvals(True)
    execution = _run(step_env, approvals, EsmId=scn.esm_uuid, Mode="Apply")
    assert execution.status == "Success"
    assert [s.name for s in execution.steps] == ["plan", "decide", "finish"]
    assert approvals.asked == []


def test_parameters_are_checked_like_ssm_does() -> None:
    doc = runbook()
    base = {"EsmId": "0f4c2c4e-1111-4222-8333-944455556666", "AutomationAssumeRole": ROLE}
    values = resolve_parameters(doc, {**base, "AutoApprove": ["true"], "MinRequiredApprovals": "2"})
    assert values["AutoApprove"] is True
    assert values["MinRequiredApprovals"] == 2
    assert values["Mode"] == "Plan"
    with pytest.raises(InputError, match="Mode"):
        resolve_parameters(doc, {**base, "Mode": "Fix"})
    with pytest.raises(InputError, match="EsmId"):
        resolve_parameters(doc, {**base, "EsmId": "nope"})
    with pytest.raises(InputError, match="required"):
        resolve_parameters(doc, {"AutomationAssumeRole": ROLE})
    with pytest.raises(InputError, match="unknown parameter"):
        resolve_parameters(doc, {**base, "Extra": "1"})


def _script_doc(script: str, outputs: list[dict[str, str]], timeout: int = 600) -> dict[str, Any]:
    return {
        "schemaVersion": "0.3",
        "parameters": {
            "Name": {"type": "String", "default": "x"},
            "Items": {"type": "StringList", "default": ["a"]},
        },
        "mainSteps": [
            {
                "name": "run",
                "action": "aws:executeScript",
                "timeoutSeconds": timeout,
                "inputs": {
                    "Runtime": "python3.11",
                    "Handler": "handler",
                    "Script": script,
                    "InputPayload": {"Items": "{{ Items }}", "Text": "hi {{ Name }} in {{ global:REGION }}"},
                },
                "outputs": outputs,
            }
        ],
        "outputs": ["run.Echo"],
    }


def _never(step: str, message: str) -> bool:
    raise AssertionError("no approval expected")


def test_substitution_keeps_types_and_outputs_flow() -> None:
    doc = _script_doc(
        "def handler(events, context):\n    return {'Echo': events}\n",
        [{"Name": "Echo", "Selector": "$.Payload.Echo", "Type": "StringMap"}],
    )
    execution = Runner(doc, approver=_never, region="eu-west-1").run({"Items": ["a", "b"]})
    assert execution.status == "Success", execution.failure
    assert execution.outputs["run.Echo"] == {"Items": ["a", "b"], "Text": "hi x in eu-west-1"}


def test_a_step_over_its_time_limit_fails() -> None:
    doc = _script_doc("import time\ndef handler(events, context):\n    time.sleep(30)\n", [], timeout=1)
    execution = Runner(doc, approver=_never).run({})
    assert execution.status == "Failed"
    assert "timed out after 1 seconds" in execution.failure
    assert Runner(doc, approver=_never, step_timeout=10_000).step_timeout == 600


def test_a_payload_over_100_kb_fails_the_step() -> None:
    doc = _script_doc("def handler(events, context):\n    return {'Big': 'x' * 200_000}\n", [])
    execution = Runner(doc, approver=_never).run({})
    assert execution.status == "Failed"
    assert "over the 102400 byte limit" in execution.failure


def test_an_output_of_the_wrong_type_fails_the_step() -> None:
    doc = _script_doc(
        "def handler(events, context):\n    return {'Echo': 3}\n",
        [{"Name": "Echo", "Selector": "$.Payload.Echo", "Type": "String"}],
    )
    execution = Runner(doc, approver=_never).run({})
    assert execution.status == "Failed"
    assert "not of type String" in execution.failure


def test_a_handler_error_fails_the_step_with_its_message() -> None:
    doc = _script_doc("def handler(events, context):\n    raise ValueError('bad input')\n", [])
    execution = Runner(doc, approver=_never).run({})
    assert execution.failure == "Step run: ValueError: bad input"


def test_a_bundle_whose_checksum_differs_from_the_document_is_refused(tmp_path: Path) -> None:
    from remediate.ssm.document import Attachment

    bundle = tmp_path / "remediate-ssm.zip"
    bundle.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    doc = runbook(Attachment("remediate-ssm.zip", "0" * 64, 22))
    execution = Runner(doc, approver=_never, bundle=bundle).run(
        {"EsmId": "0f4c2c4e-1111-4222-8333-944455556666", "AutomationAssumeRole": ROLE}
    )
    assert execution.status == "Failed"
    assert "does not match the document" in execution.failure


@pytest.mark.parametrize(("answer", "code"), [("yes", 0), ("no", 3)])
def test_cli_ssm_run_local(sandbox: Sandbox, cli: CliRunner, answer: str, code: int) -> None:
    scn = _scenario(sandbox, "broker-timeout")
    result: subprocess.CompletedProcess[str] = cli(
        "ssm-run", "--local", "--esm", scn.esm_uuid, "--approve", answer
    )
    assert result.returncode == code, result.stderr
    assert "BatchSize = 500 -> 1" in result.stderr
    batch = sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"]
    assert batch == (1 if answer == "yes" else 500)
    last = result.stdout.strip().splitlines()[-1]
    assert last.endswith(": Success" if answer == "yes" else ": Failed")


def test_cli_ssm_run_needs_local(cli: CliRunner) -> None:
    result = cli("ssm-run", "--esm", "0f4c2c4e-1111-4222-8333-944455556666")
    assert result.returncode == 1
    assert "only --local" in result.stderr
