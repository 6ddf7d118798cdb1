"""The SSM Automation runbook (schemaVersion 0.3) and the CloudFormation template that deploys it.

Both are generated from code so that they cannot drift from the handlers they call or from the
least-privilege policy the code declares (`remediate iam-policy --mode apply`). The runbook's steps:

    plan (executeScript) -> decide (branch) -> approve | approveNotify (aws:approve) -> apply -> verify
                                 \\-> finish: Diagnose/Plan mode, no changes     \\-> apply: AutoApprove

`finish` is a no-op end step because a branch can only jump to a step. The approval has two variants
because `NotificationArn` is optional and an empty ARN is not a valid input of aws:approve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from remediate.errors import InputError
from remediate.ssm.limits import DOCUMENT_LIMIT, MESSAGE_LIMIT, STEP_TIMEOUT

SCHEMA_VERSION = "0.3"
RUNTIME = "python3.11"
ATTACHMENT = "remediate-ssm.zip"
ENTRY_MODULE = "remediate_ssm"
"""Module at the bundle's root; `Handler: remediate_ssm.<step>` (SSM's filename.method_name form)."""
ESM_PATTERN = (
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:event-source-mapping:[0-9a-fA-F-]{36})$"
)
_CONTEXT = {"Region": "{{ global:REGION }}", "ExecutionId": "{{ automation:EXECUTION_ID }}"}


@dataclass(frozen=True)
class Attachment:
    """The bundle as the document's `files` section names it."""

    name: str
    sha256: str
    size: int


def _script(step: str, payload: dict[str, Any], outputs: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "name": step,
        "action": "aws:executeScript",
        "timeoutSeconds": STEP_TIMEOUT,
        "onFailure": "Abort",
        "inputs": {
            "Runtime": RUNTIME,
            "Handler": f"{ENTRY_MODULE}.{step}",
            "Attachment": ATTACHMENT,
            "InputPayload": {**payload, **_CONTEXT},
        },
        "outputs": [{"Name": n, "Selector": f"$.Payload.{n}", "Type": t} for n, t in outputs],
    }


def _approve(step: str, notify: bool) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "Approvers": "{{ Approvers }}",
        "MinRequiredApprovals": "{{ MinRequiredApprovals }}",
        "Message": "{{ plan.ApprovalMessage }}",
    }
    if notify:
        inputs["NotificationArn"] = "{{ NotificationArn }}"
    return {
        "name": step,
        "action": "aws:approve",
        "onFailure": "Abort",
        "nextStep": "apply",
        "inputs": inputs,
    }


def runbook(attachment: Attachment | None = None) -> dict[str, Any]:
    """The Automation document as data; `files` names the bundle when it is known."""
    parameters: dict[str, Any] = {
        "EsmId": {
            "type": "String",
            "description": "The event source mapping to diagnose and fix: its UUID or ARN.",
            "allowedPattern": ESM_PATTERN,
        },
        "AutomationAssumeRole": {
            "type": "AWS::IAM::Role::Arn",
            "description": "The role the steps run as (deploy/remediate-runbook.yaml creates it).",
        },
        "Mode": {
            "type": "String",
            "description": "Diagnose: findings. Plan: and the plan. Apply: plan, approve, apply, verify.",
            "allowedValues": ["Diagnose", "Plan", "Apply"],
            "default": "Plan",
        },
        "Approvers": {
            "type": "StringList",
            "description": "IAM users or roles (at most 10) who may approve the plan in Apply mode.",
            "default": [],
        },
        "MinRequiredApprovals": {
            "type": "Integer",
            "description": "Approvals needed before the plan is applied.",
            "default": 1,
        },
        "NotificationArn": {
            "type": "String",
            "description": "Optional SNS topic (name starting with Automation) told of approval requests.",
            "default": "",
            "allowedPattern": r"^$|^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:Automation[A-Za-z0-9_-]*$",
        },
        "AutoApprove": {
            "type": "Boolean",
            "description": "Apply without the approval step; leave false unless reviewed elsewhere.",
            "default": False,
        },
        "PlanBucket": {
            "type": "String",
            "description": "Optional S3 bucket for a plan too large for a step output (100 KB).",
            "default": "",
            "allowedPattern": r"^$|^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        },
    }
    steps = [
        _script(
            "plan",
            {
                "EsmId": "{{ EsmId }}",
                "Mode": "{{ Mode }}",
                "Approvers": "{{ Approvers }}",
                "AutoApprove": "{{ AutoApprove }}",
                "PlanBucket": "{{ PlanBucket }}",
            },
            [
                ("Findings", "StringList"),
                ("FindingCount", "Integer"),
                ("ChangeCount", "Integer"),
                ("Summary", "String"),
                ("ManualSteps", "StringList"),
                ("ApprovalMessage", "String"),
                ("Plan", "String"),
                ("PlanLocation", "String"),
                ("PlanDigest", "String"),
            ],
        ),
        {
            "name": "decide",
            "action": "aws:branch",
            "inputs": {
                "Choices": [
                    {"NextStep": "finish", "Not": {"Variable": "{{ Mode }}", "StringEquals": "Apply"}},
                    {"NextStep": "finish", "Variable": "{{ plan.ChangeCount }}", "NumericEquals": 0},
                    {"NextStep": "apply", "Variable": "{{ AutoApprove }}", "BooleanEquals": True},
                    {"NextStep": "approveNotify", "Variable": "{{ NotificationArn }}", "StartsWith": "arn:"},
                ],
                "Default": "approve",
            },
        },
        _approve("approve", notify=False),
        _approve("approveNotify", notify=True),
        _script(
            "apply",
            {
                "EsmId": "{{ EsmId }}",
                "Plan": "{{ plan.Plan }}",
                "PlanLocation": "{{ plan.PlanLocation }}",
                "PlanDigest": "{{ plan.PlanDigest }}",
            },
            [("RunId", "String"), ("AppliedChanges", "StringList"), ("AppliedCount", "Integer")],
        ),
        _script(
            "verify",
            {"EsmId": "{{ EsmId }}", "AppliedChanges": "{{ apply.AppliedChanges }}"},
            [("RemainingFindings", "StringList"), ("RemainingChangeCount", "Integer"), ("Summary", "String")],
        ),
        {"name": "finish", "action": "aws:sleep", "isEnd": True, "inputs": {"Duration": "PT0S"}},
    ]
    doc: dict[str, Any] = {
        "description": (
            "# remediate: diagnose and fix a Lambda event source mapping for Amazon MSK / Kafka\n\n"
            "Runs the same engine as the `remediate` CLI. Diagnose and Plan change nothing. Apply shows "
            f"the plan to the approvers (its summary, at most {MESSAGE_LIMIT} characters), applies exactly "
            "the approved plan (a stale one is refused), then re-observes to verify."
        ),
        "schemaVersion": SCHEMA_VERSION,
        "assumeRole": "{{ AutomationAssumeRole }}",
        "parameters": parameters,
        "mainSteps": steps,
        "outputs": [
            "plan.Findings",
            "plan.Summary",
            "plan.ManualSteps",
            "apply.AppliedChanges",
            "verify.Summary",
        ],
    }
    if attachment is not None:
        doc["files"] = {
            attachment.name: {"checksums": {"sha256": attachment.sha256}, "size": attachment.size}
        }
    return doc


def to_yaml(doc: dict[str, Any]) -> str:
    """YAML text in the document's own key order; refuses a document over SSM's 64 KB limit."""
    text = yaml.safe_dump(doc, sort_keys=False, width=110, allow_unicode=True)
    if len(text.encode()) > DOCUMENT_LIMIT:
        raise InputError(f"the runbook is {len(text.encode())} bytes, over SSM's {DOCUMENT_LIMIT} byte limit")
    return text


def cloudformation_template() -> dict[str, Any]:
    """A stack with the runbook (its bundle from S3) and its AutomationAssumeRole.

    The role's inline policy `RemediateEngine` is exactly `remediate iam-policy --mode apply`; the S3
    reads and writes a large plan needs are a separate, optional policy scoped to one bucket prefix.
    Intrinsics are written in their long form so the file is plain YAML.
    """
    from remediate.iam_policy import policy_document

    content = runbook()
    # `size` is optional in `files` and a Ref yields a string, so only the checksum is given here.
    content["files"] = {ATTACHMENT: {"checksums": {"sha256": {"Ref": "BundleSha256"}}}}
    plan_objects = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${PlanBucket}/" + "remediate/plans/*"}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "remediate: the SSM Automation runbook and its least-privilege AutomationAssumeRole.",
        "Parameters": {
            "DocumentName": {"Type": "String", "Default": "Remediate-KafkaEventSourceMapping"},
            "BundleBucket": {"Type": "String", "Description": "S3 bucket holding the bundle."},
            "BundleKey": {
                "Type": "String",
                "Default": ATTACHMENT,
                "Description": f"Key of the bundle ({ATTACHMENT}, from `remediate ssm-bundle`).",
            },
            "BundleSha256": {
                "Type": "String",
                "AllowedPattern": "^[0-9a-f]{64}$",
                "Description": "sha256 of the bundle, as printed by `remediate ssm-bundle`.",
            },
            "PlanBucket": {
                "Type": "String",
                "Default": "",
                "Description": "Optional bucket for plans over 100 KB (the runbook's PlanBucket parameter).",
            },
        },
        "Conditions": {"HasPlanBucket": {"Fn::Not": [{"Fn::Equals": [{"Ref": "PlanBucket"}, ""]}]}},
        "Resources": {
            "AutomationAssumeRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Description": "Runs the remediate runbook's steps.",
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "RemediateTrustSsmAutomation",
                                "Effect": "Allow",
                                "Principal": {"Service": "ssm.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                                "Condition": {
                                    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
                                },
                            }
                        ],
                    },
                    "Policies": [
                        {"PolicyName": "RemediateEngine", "PolicyDocument": policy_document("apply")}
                    ],
                },
            },
            "PlanStorePolicy": {
                "Type": "AWS::IAM::RolePolicy",
                "Condition": "HasPlanBucket",
                "Properties": {
                    "RoleName": {"Ref": "AutomationAssumeRole"},
                    "PolicyName": "RemediatePlanStore",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "RemediatePlanStore",
                                "Effect": "Allow",
                                "Action": ["s3:PutObject", "s3:GetObject"],
                                "Resource": plan_objects,
                            }
                        ],
                    },
                },
            },
            "Runbook": {
                "Type": "AWS::SSM::Document",
                "Properties": {
                    "Name": {"Ref": "DocumentName"},
                    "DocumentType": "Automation",
                    "DocumentFormat": "YAML",
                    "UpdateMethod": "NewVersion",
                    "Attachments": [
                        {
                            "Key": "SourceUrl",
                            "Values": [{"Fn::Sub": "s3://${BundleBucket}/${BundleKey}"}],
                        }
                    ],
                    "Content": content,
                },
            },
        },
        "Outputs": {
            "DocumentName": {"Value": {"Ref": "Runbook"}},
            "AutomationAssumeRoleArn": {"Value": {"Fn::GetAtt": ["AutomationAssumeRole", "Arn"]}},
        },
    }


def template_yaml() -> str:
    header = (
        "# Generated by `remediate ssm-document --cloudformation`; do not edit by hand.\n"
        "# Deploy: remediate ssm-bundle --out dist && aws s3 cp dist/remediate-ssm.zip s3://BUCKET/ && \\\n"
        "#   aws cloudformation deploy --template-file deploy/remediate-runbook.yaml \\\n"
        "#   --stack-name remediate --capabilities CAPABILITY_IAM \\\n"
        "#   --parameter-overrides BundleBucket=BUCKET BundleSha256=...\n"
    )
    return header + yaml.safe_dump(cloudformation_template(), sort_keys=False, width=110)
