"""The SSM Automation runbook (schemaVersion 0.3), generated from code.

    plan ─► decide ─┬─► finish                        Diagnose / Plan, or nothing to change
                    ├─► approve ─► apply              (aws:approve: approvers fixed at deploy time)
                    └─► apply                         AutoApprove, only if the deployment allows it
    apply ─► waitSettled ─► restart? ─┬─► disable ─► waitDisabled ─► enable ─► waitEnabled ─► finalize
                                      ├─► enable ─► waitEnabled ─► finalize
                                      └─► finalize ─► verify ─► finish
    any step from apply to finalize, failed or cancelled ─► cleanup (ESM enabled, lock released)

Why this shape (Systems Manager user guide):
- An `aws:executeScript` step runs at most 600 s, and an ESM transition may take longer, so the
  script steps never wait out a restart: `apply` makes every change up to the ESM restart and returns
  (it checks a time budget before each change), and the restart is native: `aws:executeAwsApi`
  UpdateEventSourceMapping and `aws:waitForAwsResourceProperty` on GetEventSourceMapping's `State`
  (automation-action-executeAwsApi.html, automation-action-waitForAwsResourceProperty.html), with one
  bounded `aws:sleep` before a second try at enabling (automation-action-sleep.html).
- `onFailure: step:cleanup` and `onCancel: step:cleanup` on every step that runs while the ESM is
  locked: failed or cancelled, the run ends with the ESM enabled (when the plan wanted it so), the
  lock released and the outcome journaled. The jump goes to a subsequent step, so `cleanup` is last
  (visual-designer-error-handling.html); the failed step stays critical, so the execution still ends
  Failed (automation-handling-timeouts.html, `isCritical`).
- `aws:approve` does not support multi-account and multi-Region automations: across an Organization
  only Diagnose and Plan run (an empty `EsmId` then means every Kafka mapping of the account and
  Region, one report to the deployment's bucket); Apply runs per account and ESM.
- Who approves is not the starter's choice: `Approvers`, `MinRequiredApprovals` and the notification
  topic are written into the document when it is deployed, and `AutoApprove` exists only in a
  document deployed with it allowed.

Values in `Deploy` may be literals (`remediate ssm-document`) or CloudFormation expressions
(`remediate.ssm.cloudformation`), so the stack's document and the printed one are the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from remediate.errors import InputError
from remediate.ssm.limits import (
    CANCEL_STEP_TIMEOUT,
    DOCUMENT_LIMIT,
    MAX_APPROVERS,
    MESSAGE_LIMIT,
    PYTHON_RUNTIME,
    STEP_TIMEOUT,
)

SCHEMA_VERSION = "0.3"
RUNTIME = PYTHON_RUNTIME
ATTACHMENT = "remediate-ssm.zip"
ENTRY_MODULE = "remediate_ssm"
"""Module at the bundle's root; `Handler: remediate_ssm.<step>` (SSM's filename.method_name form)."""
ESM_PATTERN = (
    r"^$|^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:event-source-mapping:[0-9a-fA-F-]{36})$"
)
TOPIC_PATTERN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:Automation[A-Za-z0-9_-]*$"
BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
ESM_WAIT_SECONDS = 900
"""How long a native wait for an ESM state may take (the engine's default esm_transition_timeout)."""
ENABLE_RETRY_PAUSE = "PT30S"
"""The one pause before the second try at enabling the ESM (it may still be settling)."""
_CONTEXT = {
    "Region": "{{ global:REGION }}",
    "AccountId": "{{ global:ACCOUNT_ID }}",
    "ExecutionId": "{{ automation:EXECUTION_ID }}",
}
_LOCKED: dict[str, Any] = {"onFailure": "step:cleanup", "onCancel": "step:cancelCleanup", "isCritical": True}
"""Steps that run while this run holds the ESM's lock: whatever happens, `cleanup` (failed) or
`cancelCleanup` (cancelled: it never waits, SSM gives the cancellation workflow two minutes) runs, and
the failure is critical, so the execution ends Failed (isCritical "is only evaluated if you explicitly
define it": automation-actions.md)."""


@dataclass(frozen=True)
class Attachment:
    """The bundle as the document's `files` section names it."""

    name: str
    sha256: Any
    size: int | None = None


@dataclass(frozen=True)
class Deploy:
    """What is fixed when the runbook is deployed (literals, or CloudFormation expressions)."""

    approvers: Any = ()
    min_approvals: Any = 1
    notification_arn: Any = None
    """None: no topic; else the ARN (or an expression that may yield AWS::NoValue)."""
    auto_approve: Any = False
    """False, True, or a CloudFormation condition name: whether the AutoApprove parameter exists."""
    bucket: Any = ""
    """Plans over 100 KB, journals and reports go to this bucket; empty: none (a local run only)."""
    attachment: Attachment | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    fixable: dict[str, Any] = field(default_factory=dict)
    """issue 27: FixableRolePath / FixableRoleTag / FixableKeyArns, what the role may rewrite
    (`write_scope`); the plan step makes the rest manual steps. Empty: no role or key policy."""
    allow_probe: Any = False
    """issue 27, item 7: whether `Probe: true` may run the probe (its role then has the probe's rights);
    a bool, or a CloudFormation expression giving "true"/"false"."""

    def check(self) -> None:
        """What SSM itself would refuse at create time, for literal values."""
        if isinstance(self.approvers, (list, tuple)):
            if not 1 <= len(self.approvers) <= MAX_APPROVERS:
                raise InputError(f"give 1 to {MAX_APPROVERS} approvers, not {len(self.approvers)}")
            if isinstance(self.min_approvals, int) and not 1 <= self.min_approvals <= len(self.approvers):
                raise InputError(
                    f"--min-approvals {self.min_approvals} must be between 1 and the {len(self.approvers)} "
                    "approver(s): aws:approve cannot need more approvals than it has approvers"
                )
        if isinstance(self.notification_arn, str):
            import re

            if not re.fullmatch(TOPIC_PATTERN, self.notification_arn):
                raise InputError(
                    f"{self.notification_arn!r} is not an SNS topic ARN whose name starts with Automation"
                )
        if isinstance(self.bucket, str) and self.bucket:
            import re

            if not re.fullmatch(BUCKET_PATTERN, self.bucket):
                raise InputError(f"{self.bucket!r} is not an S3 bucket name")


def _when(condition: Any, value: Any) -> Any:
    """`value` if the condition holds; a condition name becomes Fn::If with AWS::NoValue."""
    if isinstance(condition, str):
        return {"Fn::If": [condition, value, {"Ref": "AWS::NoValue"}]}
    return value if condition else None


def _script(
    step: str, payload: dict[str, Any], outputs: list[tuple[str, str]], **props: Any
) -> dict[str, Any]:
    return {
        "name": step,
        "action": "aws:executeScript",
        "timeoutSeconds": STEP_TIMEOUT,
        "onFailure": "Abort",
        **props,
        "inputs": {
            "Runtime": RUNTIME,
            "Handler": f"{ENTRY_MODULE}.{step}",
            "Attachment": ATTACHMENT,
            "InputPayload": {**payload, **_CONTEXT},
        },
        "outputs": [{"Name": n, "Selector": f"$.Payload.{n}", "Type": t} for n, t in outputs],
    }


def _set_enabled(step: str, enabled: bool, **props: Any) -> dict[str, Any]:
    return {
        "name": step,
        "action": "aws:executeAwsApi",
        **_LOCKED,
        **props,
        "inputs": {
            "Service": "lambda",
            "Api": "UpdateEventSourceMapping",
            "UUID": "{{ plan.EsmUuid }}",
            "Enabled": enabled,
        },
    }


def _wait_state(step: str, states: list[str], **props: Any) -> dict[str, Any]:
    return {
        "name": step,
        "action": "aws:waitForAwsResourceProperty",
        "timeoutSeconds": ESM_WAIT_SECONDS,
        **_LOCKED,
        **props,
        "inputs": {
            "Service": "lambda",
            "Api": "GetEventSourceMapping",
            "UUID": "{{ plan.EsmUuid }}",
            "PropertySelector": "$.State",
            "DesiredValues": states,
        },
    }


STEP_DESCRIPTIONS = {
    "plan": "Observes the mapping (or every Kafka mapping here), diagnoses it and, in Plan or Apply mode, "
    "plans the fix. Outputs: Findings, Summary, ManualSteps, the plan and its digest.",
    "decide": "Ends the run after Diagnose or Plan, or when nothing is to change; else asks for approval.",
    "approve": "The approvers fixed at deployment see the plan's summary and approve or reject it.",
    "apply": "Applies exactly the approved plan (a stale one is refused) up to the mapping's restart, "
    "under the mapping's lock, journaled to the deployment's bucket.",
    "waitSettled": "Waits until the mapping is Enabled or Disabled before the restart.",
    "restart": "Chooses the restart the plan wants: none, enable, or disable then enable.",
    "disable": "Disables the mapping (UpdateEventSourceMapping Enabled=false).",
    "waitDisabled": "Waits until the mapping is Disabled.",
    "enable": "Enables the mapping; a failure is retried once after a pause.",
    "enablePause": "Pauses before the second try at enabling the mapping.",
    "enableAgain": "The second try at enabling the mapping.",
    "waitEnabled": "Waits until the mapping is Enabled.",
    "finalize": "Verifies every change, releases the lock and records the end. Outputs: AppliedChanges.",
    "verify": "Observes again from scratch: fails if a change just made is wanted again. Outputs: "
    "RemainingFindings, Summary.",
    "finish": "The end of a successful run.",
    "cleanup": "After a failed step: enables the mapping if the plan wanted it, releases the lock, journals "
    "the failure. Output: Outcome.",
    "cancelCleanup": "After a cancel, within SSM's two minutes: one enable request, the lock released, the "
    "journal closed; what is left to settle is in Outcome (finish with apply --resume).",
}
"""issue 27, D15: one line per step, as AWS's published runbooks have."""


def _version_steps() -> list[dict[str, Any]]:
    """issue 27, D5: what version of the document this execution runs, and which is the default.

    Every version of a document stays runnable (`UpdateMethod: NewVersion`) and StartAutomationExecution
    takes a `DocumentVersion`, so an older version, deployed with AutoApprove allowed or with other
    approvers, could bypass today's approval. The execution reads its own version (GetAutomationExecution
    on `automation:EXECUTION_ID`: AutomationExecution.DocumentName/DocumentVersion) and the document's
    default (DescribeDocument: Document.DefaultVersion, LatestVersion; Systems Manager API reference), and
    `plan` refuses Mode Apply unless they agree (`handlers.check_version`)."""
    return [
        {
            "name": "version",
            "action": "aws:executeAwsApi",
            "onFailure": "Abort",
            "description": "Reads which document and version this execution runs (GetAutomationExecution).",
            "inputs": {
                "Service": "ssm",
                "Api": "GetAutomationExecution",
                "AutomationExecutionId": "{{ automation:EXECUTION_ID }}",
            },
            "outputs": [
                {"Name": "DocumentName", "Selector": "$.AutomationExecution.DocumentName", "Type": "String"},
                {
                    "Name": "DocumentVersion",
                    "Selector": "$.AutomationExecution.DocumentVersion",
                    "Type": "String",
                },
            ],
        },
        {
            "name": "defaultVersion",
            "action": "aws:executeAwsApi",
            "onFailure": "Abort",
            "description": "Reads the document's default and latest versions (DescribeDocument): Apply runs "
            "only from the default version, so an older one cannot bypass today's approval.",
            "inputs": {"Service": "ssm", "Api": "DescribeDocument", "Name": "{{ version.DocumentName }}"},
            "outputs": [
                {"Name": "DefaultVersion", "Selector": "$.Document.DefaultVersion", "Type": "String"},
                {"Name": "LatestVersion", "Selector": "$.Document.LatestVersion", "Type": "String"},
            ],
        },
    ]


_VERSION_INPUTS = {
    "DocumentVersion": "{{ version.DocumentVersion }}",
    "DefaultVersion": "{{ defaultVersion.DefaultVersion }}",
    "LatestVersion": "{{ defaultVersion.LatestVersion }}",
}


def runbook(deploy: Deploy | None = None) -> dict[str, Any]:
    """The Automation document as data."""
    d = deploy or Deploy(approvers=["local-operator"])
    parameters: dict[str, Any] = {
        "EsmId": {
            "type": "String",
            "description": "The mapping (UUID or ARN). Empty: every Kafka mapping here (Diagnose/Plan only).",
            "default": "",
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
        # issue 27, item 7: refused by the plan step unless the deployment opted in (AllowProbe).
        "Probe": {
            "type": "Boolean",
            "description": "Diagnose/Plan: also run the probe (a short-lived Lambda function where the "
            "pollers stand, deleted with its log group) and report what it measured. Only where the "
            "deployment allows it (AllowProbe).",
            "default": False,
        },
    }
    auto = _when(
        d.auto_approve,
        {
            "type": "Boolean",
            "description": "Apply without the approval step (this deployment allows it).",
            "default": False,
        },
    )
    if auto is not None:
        parameters["AutoApprove"] = auto
    choices: list[Any] = [
        {"NextStep": "finish", "Not": {"Variable": "{{ Mode }}", "StringEquals": "Apply"}},
        {"NextStep": "finish", "Variable": "{{ plan.ChangeCount }}", "NumericEquals": 0},
    ]
    auto_choice = _when(
        d.auto_approve, {"NextStep": "apply", "Variable": "{{ AutoApprove }}", "BooleanEquals": True}
    )
    if auto_choice is not None:
        choices.append(auto_choice)
    approve_inputs: dict[str, Any] = {
        "Approvers": d.approvers if not isinstance(d.approvers, tuple) else list(d.approvers),
        "MinRequiredApprovals": d.min_approvals,
        "Message": "{{ plan.ApprovalMessage }}",
    }
    if d.notification_arn is not None:
        approve_inputs["NotificationArn"] = d.notification_arn
    common = {"EsmId": "{{ EsmId }}", "Bucket": d.bucket}
    steps: list[dict[str, Any]] = [
        *_version_steps(),
        _script(
            "plan",
            {
                **common,
                "Mode": "{{ Mode }}",
                **d.fixable,
                **_VERSION_INPUTS,
                "Probe": "{{ Probe }}",
                "AllowProbe": d.allow_probe,
            },
            [
                ("EsmUuid", "String"),
                ("RunId", "String"),
                ("Findings", "StringList"),
                ("FindingCount", "Integer"),
                ("ChangeCount", "Integer"),
                ("Summary", "String"),
                ("ManualSteps", "StringList"),
                ("ApprovalMessage", "String"),
                ("Plan", "String"),
                ("PlanLocation", "String"),
                ("PlanDigest", "String"),
                ("Report", "String"),
                ("Probe", "String"),
            ],
        ),
        {"name": "decide", "action": "aws:branch", "inputs": {"Choices": choices, "Default": "approve"}},
        {
            "name": "approve",
            "action": "aws:approve",
            "onFailure": "Abort",
            "nextStep": "apply",
            "inputs": approve_inputs,
        },
        _script(
            "apply",
            {
                **common,
                "RunId": "{{ plan.RunId }}",
                "Plan": "{{ plan.Plan }}",
                "PlanLocation": "{{ plan.PlanLocation }}",
                "PlanDigest": "{{ plan.PlanDigest }}",
            },
            [("RunId", "String"), ("AppliedChanges", "StringList"), ("Restart", "String")],
            **_LOCKED,
        ),
        _wait_state("waitSettled", ["Enabled", "Disabled"]),
        {
            "name": "restart",
            "action": "aws:branch",
            "inputs": {
                "Choices": [
                    {"NextStep": "finalize", "Variable": "{{ apply.Restart }}", "StringEquals": "none"},
                    {"NextStep": "enable", "Variable": "{{ apply.Restart }}", "StringEquals": "enable"},
                ],
                "Default": "disable",
            },
        },
        _set_enabled("disable", False),
        _wait_state("waitDisabled", ["Disabled"]),
        # A failed first try is handled (a pause, then enableAgain): not critical, or a run whose retry
        # succeeds would still end Failed (automation-handling-timeouts.html, isCritical).
        _set_enabled("enable", True, onFailure="step:enablePause", isCritical=False, nextStep="waitEnabled"),
        {"name": "enablePause", "action": "aws:sleep", **_LOCKED, "inputs": {"Duration": ENABLE_RETRY_PAUSE}},
        _set_enabled("enableAgain", True),
        _wait_state("waitEnabled", ["Enabled"]),
        _script(
            "finalize",
            {**common, "RunId": "{{ plan.RunId }}"},
            [("AppliedChanges", "StringList"), ("AppliedCount", "Integer")],
            **_LOCKED,
        ),
        _script(
            "verify",
            {**common, "AppliedChanges": "{{ finalize.AppliedChanges }}", "RunId": "{{ plan.RunId }}"},
            [("RemainingFindings", "StringList"), ("RemainingChangeCount", "Integer"), ("Summary", "String")],
        ),
        {"name": "finish", "action": "aws:sleep", "isEnd": True, "inputs": {"Duration": "PT0S"}},
        _script(
            "cleanup",
            {**common, "RunId": "{{ plan.RunId }}", "EsmUuid": "{{ plan.EsmUuid }}"},
            [("Outcome", "String")],
            isEnd=True,
        ),
        _script(
            "cancelCleanup",
            {**common, "RunId": "{{ plan.RunId }}", "EsmUuid": "{{ plan.EsmUuid }}", "Cancelled": True},
            [("Outcome", "String")],
            timeoutSeconds=CANCEL_STEP_TIMEOUT,
            isEnd=True,
        ),
    ]
    for step in steps:  # issue 27, D15: AWS's runbooks describe every step (the console shows it)
        if "description" not in step:
            step["description"] = STEP_DESCRIPTIONS[step["name"]]
    doc: dict[str, Any] = {
        "description": (
            "# remediate: diagnose and fix a Lambda event source mapping for Amazon MSK / Kafka\n\n"
            "Runs the same engine as the `remediate` CLI. Diagnose and Plan change nothing; with an "
            "empty EsmId they cover every Kafka mapping of the account and Region. Apply shows the plan "
            f"to the approvers fixed at deployment (its summary, at most {MESSAGE_LIMIT} characters), "
            "applies exactly the approved plan (a stale one is refused), restarts the mapping with native "
            "steps, then re-observes to verify. A failed or cancelled Apply leaves the mapping enabled and "
            "unlocked, and its journal in the deployment's bucket for `remediate rollback RUN_ID`."
        ),
        "schemaVersion": SCHEMA_VERSION,
        "assumeRole": "{{ AutomationAssumeRole }}",
        "parameters": parameters,
        "mainSteps": steps,
        "outputs": [
            "plan.Findings",
            "plan.Summary",
            "plan.ManualSteps",
            "plan.Report",
            "plan.RunId",
            "finalize.AppliedChanges",
            "verify.Summary",
            "cleanup.Outcome",
            "cancelCleanup.Outcome",
            # issue 27, D15: what AWS's runbooks expose, so a run's outputs say what it did and left
            "plan.PlanDigest",
            "finalize.AppliedCount",
            "verify.RemainingFindings",
            "plan.Probe",  # issue 27, item 7: the probe's run, what it left (nothing) and measured
        ],
    }
    if d.attachment is not None:
        entry: dict[str, Any] = {"checksums": {"sha256": d.attachment.sha256}}
        if d.attachment.size is not None:
            entry["size"] = d.attachment.size
        doc["files"] = {d.attachment.name: entry}
    return doc


class _PlainDumper(yaml.SafeDumper):
    """No anchors or aliases: CloudFormation rejects YAML aliases, and SSM documents need none."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, width=110, allow_unicode=True)


def to_yaml(doc: dict[str, Any]) -> str:
    """YAML text in the document's own key order; refuses a document over SSM's 64 KB limit."""
    text = dump(doc)
    if len(text.encode()) > DOCUMENT_LIMIT:
        raise InputError(f"the runbook is {len(text.encode())} bytes, over SSM's {DOCUMENT_LIMIT} byte limit")
    return text
