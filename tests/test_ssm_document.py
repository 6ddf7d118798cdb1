"""The generated runbook and its CloudFormation templates: shape, limits, deploy-time approval, cfn-lint."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from remediate.ssm import bundle as ssm_bundle
from remediate.ssm import handlers as ssm
from remediate.ssm.cloudformation import TEMPLATES, account_template, member_template, template_yaml
from remediate.ssm.document import (
    ATTACHMENT,
    DOCUMENT_LIMIT,
    ENTRY_MODULE,
    Attachment,
    Deploy,
    runbook,
    to_yaml,
)
from remediate.ssm.runner import validate

ROOT = Path(__file__).resolve().parent.parent
REMEDIATE = str(Path(sys.executable).with_name("remediate"))
_REF = re.compile(r"\{\{\s*([A-Za-z0-9_.:]+)\s*\}\}")
APPROVER = "arn:aws:iam::111122223333:role/OnCall"


def test_the_runbook_parses_and_fits_ssm_limits() -> None:
    text = to_yaml(runbook(Deploy(approvers=[APPROVER], attachment=Attachment(ATTACHMENT, "a" * 64, 123))))
    doc = yaml.safe_load(text)
    assert doc["schemaVersion"] == "0.3"
    assert len(text.encode()) < DOCUMENT_LIMIT
    assert doc["files"] == {ATTACHMENT: {"checksums": {"sha256": "a" * 64}, "size": 123}}
    assert set(doc["parameters"]) == {"EsmId", "AutomationAssumeRole", "Mode", "Probe"}  # issue 27, item 7
    validate(doc)


def test_approval_is_fixed_at_deploy_time() -> None:
    doc = runbook(Deploy(approvers=["alice", "bob"], min_approvals=2))
    [approve] = [s for s in doc["mainSteps"] if s["action"] == "aws:approve"]
    assert approve["inputs"]["Approvers"] == ["alice", "bob"]
    assert approve["inputs"]["MinRequiredApprovals"] == 2
    assert "NotificationArn" not in approve["inputs"]
    assert not {"Approvers", "MinRequiredApprovals", "AutoApprove"} & set(doc["parameters"])
    assert "{{ AutoApprove }}" not in json.dumps(doc)
    allowed = runbook(Deploy(approvers=["alice"], auto_approve=True))
    assert allowed["parameters"]["AutoApprove"]["default"] is False
    assert "{{ AutoApprove }}" in json.dumps(allowed)


@pytest.mark.parametrize(
    ("deploy", "message"),
    [
        (Deploy(approvers=[]), "1 to 10"),
        (Deploy(approvers=[f"u{i}" for i in range(11)]), "1 to 10"),
        (Deploy(approvers=["alice"], min_approvals=2), "cannot need more approvals"),
        (Deploy(approvers=["a"], notification_arn="arn:aws:sns:us-east-1:111122223333:alerts"), "Automation"),
        (Deploy(approvers=["a"], bucket="s3://x"), "bucket"),
    ],
)
def test_deploy_values_are_checked_like_ssm_does(deploy: Deploy, message: str) -> None:
    from remediate.errors import InputError

    with pytest.raises(InputError, match=message):
        deploy.check()


def test_every_step_that_runs_under_the_lock_cleans_up() -> None:
    steps = runbook()["mainSteps"]
    names = [s["name"] for s in steps]
    locked = names[names.index("apply") : names.index("finalize") + 1]
    for step in steps:
        if step["name"] in locked and step["action"] != "aws:branch":
            assert step.get("onCancel") == "step:cancelCleanup", step["name"]
            assert step["onFailure"] in ("step:cleanup", "step:enablePause"), step["name"]
            # issue 27, D4: explicit, since isCritical "is only evaluated if you explicitly define it";
            # the first enable's failure is handled (pause, enableAgain), so it must not fail the run.
            assert step["isCritical"] is (step["name"] != "enable"), step["name"]
    assert names[-2:] == ["cleanup", "cancelCleanup"]
    assert steps[-1]["isEnd"] is steps[-2]["isEnd"] is True
    assert steps[-1]["inputs"]["InputPayload"]["Cancelled"] is True
    assert steps[-1]["timeoutSeconds"] == 60
    assert next(s for s in steps if s["name"] == "finish")["isEnd"] is True


def test_the_esm_restart_is_native_and_script_steps_fit_600_seconds() -> None:
    steps = {s["name"]: s for s in runbook()["mainSteps"]}
    assert steps["disable"]["inputs"] == {
        "Service": "lambda",
        "Api": "UpdateEventSourceMapping",
        "UUID": "{{ plan.EsmUuid }}",
        "Enabled": False,
    }
    assert steps["enable"]["inputs"]["Enabled"] is True
    assert steps["waitDisabled"]["action"] == "aws:waitForAwsResourceProperty"
    assert steps["waitDisabled"]["inputs"]["PropertySelector"] == "$.State"
    assert steps["waitEnabled"]["inputs"]["DesiredValues"] == ["Enabled"]
    assert steps["enablePause"]["action"] == "aws:sleep"
    for step in steps.values():
        if step["action"] == "aws:executeScript":
            assert step["inputs"]["Runtime"] == "python3.11"
            assert step["inputs"]["Attachment"] == ATTACHMENT
            assert step["timeoutSeconds"] <= 600
            assert step["inputs"]["Handler"] == f"{ENTRY_MODULE}.{step['name']}"


def test_every_step_handler_exists_in_the_bundle(tmp_path: Path) -> None:
    bundle = ssm_bundle.build(tmp_path, with_dependencies=False)
    with zipfile.ZipFile(bundle.path) as zf:
        entry = ast.parse(zf.read(f"{ENTRY_MODULE}.py").decode())
        names = zf.namelist()
    exported = {
        alias.asname: alias.name
        for node in ast.walk(entry)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    scripts = [s for s in runbook()["mainSteps"] if s["action"] == "aws:executeScript"]
    assert {s["name"] for s in scripts} == set(ssm.HANDLERS)
    for step in scripts:
        function = exported[step["inputs"]["Handler"].split(".")[1]]
        assert callable(getattr(ssm, function))
    assert "remediate/ssm/handlers.py" in names


def test_cli_prints_the_runbook_with_the_bundle_checksum(tmp_path: Path) -> None:
    bundle = ssm_bundle.build(tmp_path, with_dependencies=False)
    out = subprocess.run(
        [REMEDIATE, "ssm-document", "--bundle", str(bundle.path), "--approver", APPROVER],
        capture_output=True,
        text=True,
        check=True,
    )
    doc = yaml.safe_load(out.stdout)
    assert doc["files"][ATTACHMENT] == {"checksums": {"sha256": bundle.sha256}, "size": bundle.size}


def test_cli_ssm_document_needs_approvers() -> None:
    out = subprocess.run([REMEDIATE, "ssm-document"], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.strip().endswith(
        "give --approver (1 to 10): the runbook's approval step names who may approve"
    )


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_the_committed_templates_are_the_generated_ones(kind: str) -> None:
    name, _ = TEMPLATES[kind]
    assert (ROOT / "deploy" / name).read_text() == template_yaml(kind), (
        f"regenerate: remediate ssm-document --cloudformation {kind} --out deploy/{name}"
    )


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_cfn_lint_passes_on_the_templates(kind: str) -> None:
    from cfnlint.api import ManualArgs, lint_file

    assert lint_file(ROOT / "deploy" / TEMPLATES[kind][0], ManualArgs()) == []


def test_cfn_lint_rejects_a_broken_template() -> None:
    from cfnlint.api import ManualArgs, lint

    broken = account_template()
    del broken["Resources"]["AutomationAssumeRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert lint(yaml.safe_dump(broken), ManualArgs())


# -- the templates' document is runbook() with the template's parameters ---------------------------


def _resolve(value: Any, params: dict[str, Any], conditions: dict[str, bool]) -> Any:
    """Ref, Fn::If, Fn::Sub and AWS::NoValue, as CloudFormation resolves them in a property."""
    none = object()

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            if set(v) == {"Ref"}:
                return none if v["Ref"] == "AWS::NoValue" else params[v["Ref"]]
            if set(v) == {"Fn::If"}:
                cond, yes, no = v["Fn::If"]
                return walk(yes if conditions[cond] else no)
            if set(v) == {"Fn::Sub"}:
                return re.sub(r"\$\{([^}]+)\}", lambda m: str(params[m.group(1)]), v["Fn::Sub"])
            out = {k: walk(x) for k, x in v.items()}
            return {k: x for k, x in out.items() if x is not none}
        if isinstance(v, list):
            return [x for x in (walk(i) for i in v) if x is not none]
        return v

    return walk(value)


@pytest.mark.parametrize("allow", [False, True])
@pytest.mark.parametrize("template", [account_template])
def test_the_templates_document_is_the_runbook(template: Any, allow: bool) -> None:
    params = {
        "Approvers": ["alice", "bob"],
        "MinRequiredApprovals": "2",
        "NotificationArn": "arn:aws:sns:eu-west-1:111122223333:AutomationApprovals",
        "Bucket": "remediate-state",
        "BundleSha256": "b" * 64,
        "BundleBucket": "bundles",
        "BundleKey": "releases/v1.zip",
        "FixableRolePath": "/service-role/",
        "FixableRoleTag": "",
        "FixableKeyArns": [""],
        "AllowProbe": str(allow).lower(),  # issue 27, item 7
    }
    document = template()["Resources"]["Runbook"]["Properties"]
    content = _resolve(document["Content"], params, {"HasNotificationArn": True, "AllowAutoApprove": allow})
    expected = runbook(
        Deploy(
            approvers=["alice", "bob"],
            min_approvals="2",
            notification_arn=params["NotificationArn"],
            auto_approve=allow,
            bucket="remediate-state",
            attachment=Attachment(ATTACHMENT, "b" * 64),
            fixable={"FixableRolePath": "/service-role/", "FixableRoleTag": "", "FixableKeyArns": [""]},
            allow_probe=str(allow).lower(),
        )
    )
    assert content == expected
    assert _resolve(document["Attachments"], params, {}) == [
        {"Key": "S3FileUrl", "Name": ATTACHMENT, "Values": ["s3://bundles/releases/v1.zip"]}
    ]


def test_the_execution_role_is_made_once_per_account() -> None:
    template = member_template()
    role = template["Resources"]["ExecutionRole"]
    assert role["Condition"] == "IsRoleRegion"
    assert role["Properties"]["RoleName"] == "Remediate-AutomationExecutionRole"
    trusted = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"]["Fn::Sub"]
    assert trusted.endswith(":role/Remediate-AutomationAdministrationRole")


def test_the_outputs_say_what_a_run_did_and_left() -> None:
    """issue 27, D15: the execution's outputs carry the cleanup's outcome, the plan's digest, what was
    applied and what remains; each names an output its step declares."""
    doc = runbook()
    declared = {f"{s['name']}.{o['Name']}" for s in doc["mainSteps"] for o in s.get("outputs", [])}
    wanted = {"cleanup.Outcome", "cancelCleanup.Outcome", "plan.PlanDigest", "verify.RemainingFindings"}
    assert wanted <= set(doc["outputs"])
    assert set(doc["outputs"]) <= declared


def test_the_stackset_can_be_created_by_a_delegated_administrator() -> None:
    """issue 27, D6: CreateStackSet's CallAs is DELEGATED_ADMIN in a delegated administrator account."""
    from remediate.ssm.cloudformation import admin_template

    template = admin_template()
    assert template["Resources"]["MemberStackSet"]["Properties"]["CallAs"] == {"Ref": "CallAs"}
    assert template["Parameters"]["CallAs"]["AllowedValues"] == ["SELF", "DELEGATED_ADMIN"]


def test_every_step_has_a_description_as_aws_runbooks_do() -> None:
    """issue 27, D15: the console shows each step's description; AWS's published runbooks give one."""
    from remediate.ssm.document import runbook as build

    steps = build()["mainSteps"]
    assert [s["name"] for s in steps if not str(s.get("description", "")).strip()] == []
    assert len({s["description"] for s in steps}) == len(steps)
