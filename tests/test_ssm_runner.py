"""The runbook, run step by step by the local runner: the proof that the document itself works."""

from __future__ import annotations

import subprocess
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from remediate.errors import InputError
from remediate.sandbox import Sandbox, build_scenario
from remediate.sandbox.faults import FaultRule
from remediate.ssm.document import Attachment, Deploy, runbook
from remediate.ssm.runner import Decision, Runner, Versions, answer_all, resolve_parameters, validate
from tests.conftest import CliRunner
from tests.safety import lock_tags

ROLE = "arn:aws:iam::123456789012:role/automation"
WRITES = ("Update", "Authorize", "Create", "Put", "Modify", "Associate", "Revoke", "Delete", "Tag", "Untag")
BUCKET = "remediate-state"
ACCOUNT = "123456789012"
"""The sandbox's account: journals are kept under it (issue 27, D8)."""


class Approvals:
    """Answers aws:approve steps for a test and remembers what it was shown."""

    def __init__(self, answer: bool, who: Sequence[str] | None = None) -> None:
        self.answer = answer
        self.who = who
        self.asked: list[tuple[str, str]] = []

    def __call__(self, step: str, message: str, approvers: Sequence[str], minimum: int) -> list[Decision]:
        self.asked.append((step, message))
        return [(p, self.answer) for p in (self.who if self.who is not None else approvers)]


def _scenario(sb: Sandbox, name: str) -> Any:
    scn = build_scenario(sb, name)
    sb.client("s3").create_bucket(Bucket=BUCKET)
    sb.clear_calls()
    return scn


def _writes(sb: Sandbox) -> list[str]:
    return [op for svc, op in sb.calls if op.startswith(WRITES) and svc != "s3"]


def _run(env: dict[str, str], approvals: Any, deploy: Deploy | None = None, **params: Any) -> Any:
    doc = runbook(deploy or Deploy(approvers=["alice"], bucket=BUCKET))
    runner = Runner(doc, approver=approvals, env=env, region="us-east-1", poll_seconds=0.01)
    return runner.run({"AutomationAssumeRole": ROLE, **params})


def test_approved_broker_timeout_is_fixed_end_to_end(sandbox: Sandbox, cli_env: dict[str, str]) -> None:
    scn = _scenario(sandbox, "broker-timeout")
    approvals = Approvals(True)
    execution = _run(cli_env, approvals, EsmId=scn.esm_uuid, Mode="Apply")
    assert execution.status == "Success", execution.failure
    assert [(s.name, s.status) for s in execution.steps] == [
        ("version", "Success"),
        ("defaultVersion", "Success"),
        ("plan", "Success"),
        ("decide", "Success"),
        ("approve", "Success"),
        ("apply", "Success"),
        ("waitSettled", "Success"),
        ("restart", "Success"),
        ("disable", "Success"),
        ("waitDisabled", "Success"),
        ("enable", "Success"),
        ("waitEnabled", "Success"),
        ("finalize", "Success"),
        ("verify", "Success"),
        ("finish", "Success"),
    ]
    [(step, message)] = approvals.asked
    assert step == "approve"
    assert "BatchSize = 500 -> 1" in message
    assert execution.outputs["plan.Summary"] == "Plan: 0 to add, 2 to change, 0 to destroy."
    assert len(execution.outputs["finalize.AppliedChanges"]) == 2
    assert execution.outputs["verify.Summary"] == "No changes."
    esm = sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)
    assert (esm["BatchSize"], esm["State"]) == (1, "Enabled")
    assert lock_tags(sandbox, esm["EventSourceMappingArn"]) == {}
    run_id = execution.outputs["plan.RunId"]
    journal = sandbox.client("s3").get_object(
        Bucket=BUCKET, Key=f"remediate/journals/{ACCOUNT}/{run_id}.jsonl"
    )
    events = [
        line.split('"event": "')[1].split('"')[0] for line in journal["Body"].read().decode().splitlines()
    ]
    assert events == ["run", "begin", "end", "handoff", "verify", "end", "verify", "finish"]


def test_rejected_plan_changes_nothing(sandbox: Sandbox, cli_env: dict[str, str]) -> None:
    scn = _scenario(sandbox, "broker-timeout")
    execution = _run(cli_env, Approvals(False), EsmId=scn.esm_uuid, Mode="Apply")
    assert execution.status == "Failed"
    assert "rejected" in execution.failure
    assert [s.name for s in execution.steps] == ["version", "defaultVersion", "plan", "decide", "approve"]
    assert _writes(sandbox) == []
    assert sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"] == 500


def test_approvals_are_counted_against_min_required(sandbox: Sandbox, cli_env: dict[str, str]) -> None:
    scn = _scenario(sandbox, "broker-timeout")
    two = Deploy(approvers=["alice", "bob"], min_approvals=2, bucket=BUCKET)
    one_of_two = _run(cli_env, Approvals(True, who=["alice"]), two, EsmId=scn.esm_uuid, Mode="Apply")
    assert one_of_two.status == "Failed"
    assert "only 1 of the 2 required approval(s)" in one_of_two.failure
    stranger = _run(cli_env, Approvals(True, who=["mallory"]), EsmId=scn.esm_uuid, Mode="Apply")
    assert stranger.status == "Failed", "a principal who is not an approver does not count"
    assert _writes(sandbox) == []


def test_network_scenario_is_fixed(sandbox: Sandbox, cli_env: dict[str, str]) -> None:
    scn = _scenario(sandbox, "msk-iam-no-self-ingress")
    approved = _run(cli_env, Approvals(True), EsmId=scn.esm_uuid, Mode="Apply")
    assert approved.status == "Success", approved.failure
    actions = [c.split()[1] for c in approved.outputs["finalize.AppliedChanges"]]
    assert "authorize_sg_ingress" in actions
    assert approved.step("verify").outputs["RemainingChangeCount"] == 0
    assert sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["State"] == "Enabled"


@pytest.mark.parametrize("mode", ["Diagnose", "Plan"])
def test_read_only_modes_end_after_the_plan(sandbox: Sandbox, cli_env: dict[str, str], mode: str) -> None:
    scn = _scenario(sandbox, "broker-timeout")
    approvals = Approvals(True)
    execution = _run(cli_env, approvals, EsmId=scn.esm_uuid, Mode=mode)
    assert execution.status == "Success"
    assert [s.name for s in execution.steps] == ["version", "defaultVersion", "plan", "decide", "finish"]
    assert approvals.asked == []
    assert _writes(sandbox) == []


def test_auto_approve_exists_only_when_deployed_with_it(sandbox: Sandbox, cli_env: dict[str, str]) -> None:
    scn = _scenario(sandbox, "broker-timeout")
    with pytest.raises(InputError, match="unknown parameter AutoApprove"):
        _run(cli_env, Approvals(False), EsmId=scn.esm_uuid, Mode="Apply", AutoApprove="true")
    allowed = Deploy(approvers=["alice"], auto_approve=True, bucket=BUCKET)
    approvals = Approvals(False)
    execution = _run(cli_env, approvals, allowed, EsmId=scn.esm_uuid, Mode="Apply", AutoApprove="true")
    assert execution.status == "Success", execution.failure
    assert approvals.asked == []
    assert "approve" not in [s.name for s in execution.steps]


def test_nothing_to_change_ends_without_asking(sandbox: Sandbox, cli_env: dict[str, str]) -> None:
    scn = _scenario(sandbox, "healthy-msk")
    approvals = Approvals(True)
    execution = _run(cli_env, approvals, EsmId=scn.esm_uuid, Mode="Apply")
    assert execution.status == "Success"
    assert [s.name for s in execution.steps] == ["version", "defaultVersion", "plan", "decide", "finish"]
    assert approvals.asked == []


def test_an_assume_role_that_fails_stops_the_execution_before_any_step(
    sandbox: Sandbox, cli_env: dict[str, str]
) -> None:
    scn = _scenario(sandbox, "broker-timeout")
    sandbox.faults.add(FaultRule(service="sts", operation="AssumeRole", kind="status", status=403))
    execution = _run(cli_env, Approvals(True), EsmId=scn.esm_uuid, Mode="Apply")
    assert execution.status == "Failed"
    assert execution.failure.startswith(f"cannot assume the document's assumeRole {ROLE}")
    assert execution.steps == []


def test_parameters_are_checked_like_ssm_does() -> None:
    doc = runbook()
    base = {"EsmId": "0f4c2c4e-1111-4222-8333-944455556666", "AutomationAssumeRole": ROLE}
    assert resolve_parameters(doc, base)["Mode"] == "Plan"
    assert resolve_parameters(doc, {"AutomationAssumeRole": ROLE})["EsmId"] == ""
    with pytest.raises(InputError, match="Mode"):
        resolve_parameters(doc, {**base, "Mode": "Fix"})
    with pytest.raises(InputError, match="EsmId"):
        resolve_parameters(doc, {**base, "EsmId": "nope"})
    with pytest.raises(InputError, match="required"):
        resolve_parameters(doc, {"EsmId": base["EsmId"]})
    with pytest.raises(InputError, match="not an IAM role ARN"):
        resolve_parameters(doc, {**base, "AutomationAssumeRole": "admin"})
    with pytest.raises(InputError, match="unknown parameter"):
        resolve_parameters(doc, {**base, "Extra": "1"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["mainSteps"][2].update(action="aws:approveXYZ"), "action 'aws:approveXYZ'"),
        (lambda d: d["mainSteps"][2]["inputs"].update(Runtime="python2.7"), "runtime 'python2.7'"),
        (lambda d: d["mainSteps"][2].update(timeoutSeconds=900), "at most 600 seconds"),
        (
            lambda d: d["mainSteps"][4]["inputs"].update(MinRequiredApprovals=2),
            "between 1 and the 1 approver",
        ),
        # issue 27, D13: zero is refused as zero, and an approval waits at most 30 days
        (
            lambda d: d["mainSteps"][4]["inputs"].update(MinRequiredApprovals=0),
            "MinRequiredApprovals 0 must be",
        ),
        (lambda d: d["mainSteps"][4].update(timeoutSeconds=2592001), "at most 2592000 seconds"),
        (lambda d: d["mainSteps"][4]["inputs"].update(Approvers=[]), "1 to 10"),
        (lambda d: d["mainSteps"][5].update(onFailure="step:plan"), "subsequent step"),
        (lambda d: d["mainSteps"][5]["inputs"]["InputPayload"].update(X="{{ nowhere.Out }}"), "nowhere.Out"),
        (lambda d: d["mainSteps"].append(dict(d["mainSteps"][2])), "used twice"),
        (lambda d: d["parameters"]["Mode"].update(type="Text"), "type 'Text'"),
        (lambda d: d.update(files={}), "not in the document's files"),
    ],
)
def test_create_time_validation_refuses_what_ssm_refuses(change: Any, message: str) -> None:
    doc = runbook(Deploy(approvers=["alice"], attachment=Attachment("remediate-ssm.zip", "a" * 64)))
    validate(doc)
    change(doc)
    with pytest.raises(InputError, match=message):
        validate(doc)


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
        "outputs": [f"run.{o['Name']}" for o in outputs],
    }


def _never(step: str, message: str, approvers: Sequence[str], minimum: int) -> list[Decision]:
    raise AssertionError("no approval expected")


def test_substitution_keeps_types_and_outputs_flow() -> None:
    doc = _script_doc(
        "def handler(events, context):\n    return {'Echo': events}\n",
        [{"Name": "Echo", "Selector": "$.Payload.Echo", "Type": "StringMap"}],
    )
    execution = Runner(doc, approver=_never, region="eu-west-1").run({"Items": ["a", "b"]})
    assert execution.status == "Success", execution.failure
    assert execution.outputs["run.Echo"] == {"Items": ["a", "b"], "Text": "hi x in eu-west-1"}


def test_a_step_sees_only_the_bundle_and_the_runtime() -> None:
    doc = _script_doc(
        "import sys\ndef handler(events, context):\n"
        "    import importlib.util\n"
        "    found = importlib.util.find_spec\n"
        "    return {'Seen': [m for m in ('boto3', 'pydantic', 'click', 'pytest') if found(m)]}\n",
        [{"Name": "Seen", "Selector": "$.Payload.Seen", "Type": "StringList"}],
    )
    execution = Runner(doc, approver=_never, region="eu-west-1").run({})
    assert execution.outputs["run.Seen"] == ["boto3"], "site-packages must not be on a step's import path"


def test_a_bundle_missing_a_dependency_fails_as_in_ssm(
    sandbox: Sandbox, cli_env: dict[str, str], tmp_path: Path
) -> None:
    from remediate.ssm import bundle as ssm_bundle

    scn = _scenario(sandbox, "broker-timeout")
    built = ssm_bundle.build(tmp_path, with_dependencies=False)
    doc = runbook(Deploy(approvers=["alice"], attachment=built.attachment))
    execution = Runner(doc, approver=_never, bundle=built.path, env=cli_env, region="us-east-1").run(
        {"EsmId": scn.esm_uuid, "AutomationAssumeRole": ROLE}
    )
    assert execution.status == "Failed"
    assert "ModuleNotFoundError" in execution.failure


def test_the_step_limit_scales_and_times_out() -> None:
    doc = _script_doc("import time\ndef handler(events, context):\n    time.sleep(30)\n", [], timeout=100)
    execution = Runner(doc, approver=_never, region="eu-west-1", time_scale=0.01).run({})
    assert execution.status == "TimedOut"
    assert "timed out after 1 seconds" in execution.failure


def test_a_payload_over_100_kb_is_cut_and_its_outputs_cannot_be_read() -> None:
    big = "def handler(events, context):\n    return {'Big': 'x' * 200_000, 'Small': 's'}\n"
    execution = Runner(
        _script_doc(big, [{"Name": "Small", "Selector": "$.Payload.Small", "Type": "String"}]),
        approver=_never,
        region="eu-west-1",
    ).run({})
    assert execution.status == "Failed"
    assert "SSM returns only the first 102400" in execution.failure
    silent = Runner(_script_doc(big, []), approver=_never, region="eu-west-1").run({})
    assert silent.status == "Success", "without outputs a cut payload goes unnoticed, as in SSM"


def test_an_output_of_the_wrong_type_fails_the_step() -> None:
    doc = _script_doc(
        "def handler(events, context):\n    return {'Echo': 3}\n",
        [{"Name": "Echo", "Selector": "$.Payload.Echo", "Type": "String"}],
    )
    execution = Runner(doc, approver=_never, region="eu-west-1").run({})
    assert execution.status == "Failed"
    assert "not of type String" in execution.failure


def test_a_handler_error_fails_the_step_with_its_message() -> None:
    doc = _script_doc("def handler(events, context):\n    raise ValueError('bad input')\n", [])
    execution = Runner(doc, approver=_never, region="eu-west-1").run({})
    assert execution.failure == "Step run: ValueError: bad input"


def test_the_runner_needs_a_region() -> None:
    with pytest.raises(InputError, match="needs a region"):
        Runner(runbook(), approver=_never, region="")


def test_a_bundle_whose_checksum_differs_from_the_document_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "remediate-ssm.zip"
    with zipfile.ZipFile(bundle, "w"):
        pass
    doc = runbook(Deploy(approvers=["alice"], attachment=Attachment("remediate-ssm.zip", "0" * 64, 22)))
    with pytest.raises(InputError, match="does not match the document"):
        Runner(doc, approver=_never, bundle=bundle, region="us-east-1")


@pytest.mark.parametrize(("answer", "code"), [("yes", 0), ("no", 3)])
def test_cli_ssm_run_local(sandbox: Sandbox, cli: CliRunner, answer: str, code: int) -> None:
    scn = _scenario(sandbox, "broker-timeout")
    result: subprocess.CompletedProcess[str] = cli(
        "ssm-run", "--local", "--esm", scn.esm_uuid, "--role-arn", ROLE, "--approve", answer
    )
    assert result.returncode == code, result.stderr
    assert "BatchSize = 500 -> 1" in result.stderr
    assert "  - plan (aws:executeScript): started" in result.stderr
    batch = sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"]
    assert batch == (1 if answer == "yes" else 500)
    last = result.stdout.strip().splitlines()[-1]
    assert last.endswith(": Success" if answer == "yes" else ": Failed")


def test_cli_ssm_run_needs_local_and_a_region(cli: CliRunner) -> None:
    result = cli("ssm-run", "--esm", "0f4c2c4e-1111-4222-8333-944455556666", "--role-arn", ROLE)
    assert result.returncode == 1
    assert "only --local" in result.stderr
    no_region = cli(
        "ssm-run", "--local", "--role-arn", ROLE, env={"AWS_REGION": "", "AWS_DEFAULT_REGION": ""}
    )
    assert no_region.returncode == 1
    assert no_region.stderr.strip().splitlines()[-1] == (
        "Error: ssm-run --local needs a region: --region, AWS_REGION or a profile's region"
    )


def test_answer_all_answers_for_every_approver() -> None:
    assert answer_all(True)("approve", "m", ["a", "b"], 2) == [("a", True), ("b", True)]


def test_the_cancellation_workflow_is_cut_at_ssms_two_minutes() -> None:
    """issue 27, D2: "Automation runs the cancellation workflow for a maximum of two minutes"
    (automation-actions.md, onCancel): an onCancel step still running then is stopped."""
    doc = {
        "schemaVersion": "0.3",
        "mainSteps": [
            {
                "name": "work",
                "action": "aws:sleep",
                "onCancel": "step:undo",
                "inputs": {"Duration": "PT600S"},
            },
            {"name": "done", "action": "aws:sleep", "isEnd": True, "inputs": {"Duration": "PT0S"}},
            {"name": "undo", "action": "aws:sleep", "isEnd": True, "inputs": {"Duration": "PT200S"}},
        ],
    }
    runner: Runner

    def on_progress(message: str) -> None:
        if message == "work (aws:sleep): started":
            threading.Timer(0.1, runner.cancel).start()

    runner = Runner(
        doc, approver=answer_all(True), env={}, region="us-east-1", time_scale=1 / 100, progress=on_progress
    )
    execution = runner.run({})
    assert execution.status == "Cancelled"
    undo = execution.step("undo")
    assert undo is not None
    assert undo.status == "TimedOut"
    assert undo.failure == "the cancellation workflow ran over SSM's 120 s"
    assert 1.0 < undo.seconds < 1.6  # 120 s at 1/100, not the 2 s the step asked for


def test_grown_broker_storage_is_verified_although_the_metrics_still_show_a_full_disk(
    sandbox: Sandbox, cli_env: dict[str, str]
) -> None:
    """issue 27, D10: after UpdateBrokerStorage the disk-use metrics still show the old use, so a fresh
    plan wants to grow again, from the new size: the applied change is in effect and the run succeeds,
    with the new need reported as remaining (a second growth waits out MSK's cool-down anyway)."""
    scn = _scenario(sandbox, "broker-storage-full")
    execution = _run(cli_env, Approvals(True), EsmId=scn.esm_uuid, Mode="Apply")
    assert execution.status == "Success", execution.failure
    verified = execution.step("verify")
    assert verified is not None
    # issue 23 (N9): the lagging metrics are read as shares of the new size, so no second growth remains
    assert verified.outputs["RemainingChangeCount"] == 0
    cluster = sandbox.client("kafka").list_clusters_v2()["ClusterInfoList"][0]
    size = cluster["Provisioned"]["BrokerNodeGroupInfo"]["StorageInfo"]["EbsStorageInfo"]["VolumeSize"]
    assert size > 1000  # grown from the scenario's 1000 GiB per broker


# issue 27, D5: Apply runs only from the document's default version.
def test_apply_from_an_older_auto_approve_version_is_refused_before_anything(
    sandbox: Sandbox, cli_env: dict[str, str]
) -> None:
    scn = _scenario(sandbox, "broker-timeout")
    old = runbook(Deploy(approvers=["alice"], auto_approve=True, bucket=BUCKET))
    runner = Runner(
        old,
        approver=Approvals(False),
        env=cli_env,
        region="us-east-1",
        poll_seconds=0.01,
        versions=Versions(running="1", default="2"),
    )
    execution = runner.run(
        {"AutomationAssumeRole": ROLE, "EsmId": scn.esm_uuid, "Mode": "Apply", "AutoApprove": "true"}
    )
    assert execution.status == "Failed"
    assert "runs only from the document's default version 2, not from version 1" in execution.failure
    assert [s.name for s in execution.steps] == ["version", "defaultVersion", "plan"]
    assert _writes(sandbox) == []
    assert sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"] == 500


@pytest.mark.parametrize(("running", "mode"), [("2", "Apply"), ("1", "Plan"), ("$DEFAULT", "Apply")])
def test_the_default_version_applies_and_older_ones_still_diagnose(
    sandbox: Sandbox, cli_env: dict[str, str], running: str, mode: str
) -> None:
    scn = _scenario(sandbox, "broker-timeout")
    doc = runbook(Deploy(approvers=["alice"], bucket=BUCKET))
    runner = Runner(
        doc,
        approver=Approvals(True),
        env=cli_env,
        region="us-east-1",
        poll_seconds=0.01,
        versions=Versions(running=running, default="2"),
    )
    execution = runner.run({"AutomationAssumeRole": ROLE, "EsmId": scn.esm_uuid, "Mode": mode})
    assert execution.status == "Success", execution.failure
    assert execution.step("version").outputs["DocumentVersion"] == running
    assert execution.step("defaultVersion").outputs["DefaultVersion"] == "2"
    batch = sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"]
    assert batch == (1 if mode == "Apply" else 500)


def test_cli_ssm_run_refuses_apply_from_a_non_default_version(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = _scenario(sandbox, "broker-timeout")
    args = ("ssm-run", "--local", "--esm", scn.esm_uuid, "--role-arn", ROLE, "--approve", "yes")
    result = cli(*args, "--document-version", "3", "--default-version", "4")
    assert result.returncode == 1, result.stderr
    assert "not from version 3" in result.stdout + result.stderr
    assert sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"] == 500
