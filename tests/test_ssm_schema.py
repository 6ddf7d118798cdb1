"""The generated runbook validates against AWS's published SSM Automation document schema.

The schema (npm `aws-ssm-document-language-service` 1.0.0, `dist/schema.json`, Apache-2.0; vendored in
tests/vendor/ with its license) predates some of what SSM accepts today. Those allowances, and only
those, are made here, in `ALLOWANCES`, each with the page that says SSM accepts it; everything else
must validate with zero errors.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from remediate.ssm.document import Attachment, Deploy, runbook

VENDOR = Path(__file__).resolve().parent / "vendor" / "aws-ssm-document-language-service"
SCHEMA_SHA256 = "d93aff07bb25de38e622ddd50ef7c622a4b4cd7b489da6d035a3c3a4fb59532b"

ALLOWANCES = {
    "Runtime python3.11": "aws:executeScript runbooks on python3.6-3.8 can no longer be created; AWS "
    "recommends python3.11 (automation-action-executeScript.html). The schema lists 3.6 and 3.7 only.",
    "Parameter types AWS::*": "AWS::IAM::Role::Arn and the other AWS::* parameter types are Automation "
    "parameter types (the assumeRole parameter of AWS's own runbooks); the schema lists six basic ones.",
    "Step property onCancel": "On cancel jumps to a step, like onFailure "
    "(visual-designer-error-handling.html); the schema's step properties predate it.",
}


def schema() -> dict[str, Any]:
    data = (VENDOR / "schema.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCHEMA_SHA256, "the vendored schema changed: see its README"
    return json.loads(data)


def with_allowances(base: dict[str, Any]) -> dict[str, Any]:
    """The schema, widened by exactly the ALLOWANCES above."""
    s = copy.deepcopy(base)
    step = s["properties"]["mainSteps"]["items"]
    for rule in step["allOf"]:
        if rule.get("if", {}).get("properties", {}).get("action", {}).get("const") == "aws:executeScript":
            rule["then"]["properties"]["inputs"]["properties"]["Runtime"]["oneOf"].append(
                {"enum": ["python3.11"]}
            )
    step["properties"]["onCancel"] = step["properties"]["onFailure"]
    param = s["properties"]["parameters"]["patternProperties"]["^.*$"]["properties"]["type"]
    s["properties"]["parameters"]["patternProperties"]["^.*$"]["properties"]["type"] = {
        "anyOf": [param, {"type": "string", "pattern": "^AWS::[A-Za-z0-9:]+$"}]
    }
    return s


def errors(doc: dict[str, Any], against: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(against)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc))


DEPLOYS = {
    "minimal": Deploy(approvers=["arn:aws:iam::111122223333:role/OnCall"]),
    "full": Deploy(
        approvers=["alice", "arn:aws:iam::111122223333:role/OnCall"],
        min_approvals=2,
        notification_arn="arn:aws:sns:eu-west-1:111122223333:AutomationApprovals",
        auto_approve=True,
        bucket="remediate-state",
        attachment=Attachment("remediate-ssm.zip", "a" * 64, 1234),
    ),
}


@pytest.mark.parametrize("name", sorted(DEPLOYS))
def test_the_runbook_validates_against_aws_schema_with_only_the_listed_allowances(name: str) -> None:
    assert errors(runbook(DEPLOYS[name]), with_allowances(schema())) == []


def test_each_allowance_is_needed_and_nothing_else_is_allowed() -> None:
    """Against the schema as published, the runbook fails exactly where an allowance applies."""

    def kind(err: str) -> str:
        if err.endswith("Runtime: 'python3.11' is not valid under any of the given schemas"):
            return "Runtime python3.11"
        if "'AWS::IAM::Role::Arn' is not one of" in err:
            return "Parameter types AWS::*"
        if "('onCancel' was unexpected)" in err:
            return "Step property onCancel"
        return err

    found = {kind(e) for e in errors(runbook(DEPLOYS["full"]), schema())}
    assert found == set(ALLOWANCES)


@pytest.mark.parametrize(
    ("broken", "where"),
    [
        (lambda d: d["mainSteps"][2].update(action="aws:approveXYZ"), "mainSteps/2/action"),
        (lambda d: d["mainSteps"][2]["inputs"].update(Runtime="python2.7"), "Runtime"),
        (lambda d: d["parameters"]["Mode"].update(type="Text"), "parameters/Mode"),
        (lambda d: d["mainSteps"][0].update(onFailure="Retry"), "onFailure"),
        (lambda d: d.update(schemaVersion="0.2"), "schemaVersion"),
    ],
)
def test_the_check_rejects_what_ssm_rejects(broken: Any, where: str) -> None:
    doc = runbook(DEPLOYS["minimal"])
    broken(doc)
    found = errors(doc, with_allowances(schema()))
    assert any(where in e for e in found), found
