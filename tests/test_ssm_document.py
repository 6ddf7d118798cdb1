"""The generated runbook and its CloudFormation template: shape, limits, and the least-privilege role."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import yaml

from remediate.iam_policy import policy_document
from remediate.ssm import bundle as ssm_bundle
from remediate.ssm import handlers as ssm
from remediate.ssm.document import (
    ATTACHMENT,
    DOCUMENT_LIMIT,
    ENTRY_MODULE,
    Attachment,
    cloudformation_template,
    runbook,
    template_yaml,
    to_yaml,
)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "remediate-runbook.yaml"
REMEDIATE = str(Path(sys.executable).with_name("remediate"))
_REF = re.compile(r"\{\{\s*([A-Za-z0-9_.:]+)\s*\}\}")


def _refs(value: Any) -> set[str]:
    return set(_REF.findall(json.dumps(value)))


def test_the_runbook_parses_and_fits_ssm_limits() -> None:
    text = to_yaml(runbook(Attachment(ATTACHMENT, "a" * 64, 123)))
    doc = yaml.safe_load(text)
    assert doc["schemaVersion"] == "0.3"
    assert len(text.encode()) < DOCUMENT_LIMIT
    assert doc["files"] == {ATTACHMENT: {"checksums": {"sha256": "a" * 64}, "size": 123}}
    assert set(doc["parameters"]) >= {
        "EsmId",
        "AutomationAssumeRole",
        "Mode",
        "Approvers",
        "MinRequiredApprovals",
        "NotificationArn",
        "AutoApprove",
    }
    assert doc["parameters"]["Mode"]["allowedValues"] == ["Diagnose", "Plan", "Apply"]
    assert doc["parameters"]["AutoApprove"]["default"] is False
    assert [s["action"] for s in doc["mainSteps"]] == [
        "aws:executeScript",
        "aws:branch",
        "aws:approve",
        "aws:approve",
        "aws:executeScript",
        "aws:executeScript",
        "aws:sleep",
    ]


def test_every_reference_resolves_to_a_parameter_or_an_earlier_output() -> None:
    doc = runbook()
    known = set(doc["parameters"]) | {"global:REGION", "automation:EXECUTION_ID"}
    names = [s["name"] for s in doc["mainSteps"]]
    for step in doc["mainSteps"]:
        unresolved = _refs(step["inputs"]) - known
        assert not unresolved, f"{step['name']} uses {unresolved}"
        known |= {f"{step['name']}.{o['Name']}" for o in step.get("outputs", [])}
        known |= {f"{step['name']}.ApprovalStatus"} if step["action"] == "aws:approve" else set()
        for target in [step.get("nextStep"), *[c["NextStep"] for c in step["inputs"].get("Choices", [])]]:
            assert target is None or target in names
    assert set(doc["outputs"]) <= known


def test_script_steps_run_python311_within_the_limits() -> None:
    for step in runbook()["mainSteps"]:
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
    for step in runbook()["mainSteps"]:
        if step["action"] == "aws:executeScript":
            function = exported[step["inputs"]["Handler"].split(".")[1]]
            assert callable(getattr(ssm, function))
    assert "remediate/ssm/handlers.py" in names


def test_the_approval_message_is_the_plan_summary() -> None:
    approvals = [s for s in runbook()["mainSteps"] if s["action"] == "aws:approve"]
    assert {s["inputs"]["Message"] for s in approvals} == {"{{ plan.ApprovalMessage }}"}
    assert [("NotificationArn" in s["inputs"]) for s in approvals] == [False, True]
    assert ssm.MESSAGE_LIMIT == 4096


def test_cli_prints_the_runbook_with_the_bundle_checksum(tmp_path: Path) -> None:
    bundle = ssm_bundle.build(tmp_path, with_dependencies=False)
    out = subprocess.run(
        [REMEDIATE, "ssm-document", "--bundle", str(bundle.path)], capture_output=True, text=True, check=True
    )
    doc = yaml.safe_load(out.stdout)
    assert doc["files"][ATTACHMENT] == {"checksums": {"sha256": bundle.sha256}, "size": bundle.size}


def test_the_committed_template_is_the_generated_one() -> None:
    assert TEMPLATE.read_text() == template_yaml(), (
        "regenerate: remediate ssm-document --cloudformation --out deploy/remediate-runbook.yaml"
    )


def test_cfn_lint_passes_on_the_template() -> None:
    from cfnlint.api import ManualArgs, lint, lint_file

    assert lint_file(TEMPLATE, ManualArgs()) == []
    broken = cloudformation_template()
    del broken["Resources"]["AutomationAssumeRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert lint(yaml.safe_dump(broken), ManualArgs()), "cfn-lint should reject a role without a trust policy"


def test_the_role_policy_is_exactly_iam_policy_apply() -> None:
    template = yaml.safe_load(TEMPLATE.read_text())
    [policy] = template["Resources"]["AutomationAssumeRole"]["Properties"]["Policies"]
    printed = subprocess.run(
        [REMEDIATE, "iam-policy", "--mode", "apply"], capture_output=True, text=True, check=True
    ).stdout
    assert policy["PolicyDocument"] == json.loads(printed) == policy_document("apply")
    assert template == cloudformation_template()


def test_the_template_embeds_the_runbook() -> None:
    content = cloudformation_template()["Resources"]["Runbook"]["Properties"]["Content"]
    assert content["mainSteps"] == runbook()["mainSteps"]
    assert content["files"] == {ATTACHMENT: {"checksums": {"sha256": {"Ref": "BundleSha256"}}}}
