"""SSM Automation `aws:executeScript` handlers: plan, apply and verify.

Each handler is a plain `handler(events, context) -> dict`, as AWS's own runbooks write them: inputs are
validated up front (one clear line on failure, which SSM shows as the step's failure message), the
returned payload stays under SSM's 100 KB cap, and the work is done by the same engine as the CLI: a
`remediate.machine.Run` with a reporter of its own. So a runbook and `remediate apply` can never
disagree about what a fix is.

The approval happens between steps (`aws:approve`), so the apply step receives the approved plan and
applies exactly that plan: the saved plan is the approval (as with `remediate apply FILE`), a stale one
is refused by the engine (StalePlanError), and a plan whose digest differs from the one the approvers
saw is refused here. A plan too large for the step output goes to an S3 object named by the runbook's
`PlanBucket` parameter, and only its location and digest travel between steps.

This module never imports click or rich: the SSM runtime runs it from the bundle (`remediate ssm-bundle`).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from remediate import log
from remediate import plan as plan_file
from remediate.aws import Aws
from remediate.config import Settings, load_settings
from remediate.errors import InputError, PlanFileError, VerificationError
from remediate.observe.reads import parse_esm_id
from remediate.plan import Plan
from remediate.run import playbook
from remediate.run.machine import Mode, Run
from remediate.run.render import render_plan
from remediate.ssm.limits import MESSAGE_LIMIT, PAYLOAD_BUDGET, PAYLOAD_LIMIT

PLAN_KEY_PREFIX = "remediate/plans/"
_MODES: dict[str, Mode] = {
    "Diagnose": "diagnose",
    "Plan": "plan",
    "Apply": "plan",
}  # the plan step never applies


class _Events(BaseModel):
    """The InputPayload every step receives; SSM substitutes `{{ ... }}` before the handler runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    EsmId: str = Field(min_length=1)
    Region: str = ""
    ExecutionId: str = ""


class PlanEvents(_Events):
    Mode: Literal["Diagnose", "Plan", "Apply"] = "Plan"
    Approvers: list[str] = Field(default_factory=list)
    AutoApprove: bool = False
    PlanBucket: str = ""


class ApplyEvents(_Events):
    Plan: str = ""
    PlanLocation: str = ""
    PlanDigest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")


class VerifyEvents(_Events):
    AppliedChanges: list[str] = Field(default_factory=list)


class SsmReporter:
    """Progress goes to the step's log; approval is given only by the plan that was approved in SSM."""

    def __init__(self, approved: Plan | None = None) -> None:
        self.approved = approved
        self.messages: list[str] = []

    def progress(self, message: str) -> None:
        self.messages.append(message)
        log.get_logger(__name__).info("ssm.progress", message=message)

    def approve(self, plan: Plan) -> bool:
        return self.approved is not None and plan.plan_id == self.approved.plan_id


E = TypeVar("E", bound=BaseModel)


def _parse(model: type[E], events: Any) -> E:
    if not isinstance(events, dict):
        raise InputError(f"InputPayload must be a JSON object, got {type(events).__name__}")
    try:
        return model.model_validate(events)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "InputPayload"
        raise InputError(f"invalid InputPayload field {where}: {err['msg']}") from None


def _settings(region: str) -> Settings:
    """Settings for a step: the SSM runtime's home may be read-only, so the journal goes to /tmp
    unless REMEDIATE_STATE_DIR says otherwise; flags would outrank the environment, so it is only
    passed when unset."""
    flags: dict[str, Any] = {"region": region or None, "log_format": "json", "color": False}
    if "REMEDIATE_STATE_DIR" not in os.environ:
        flags["state_dir"] = Path(tempfile.gettempdir()) / "remediate"
    return load_settings(None, **flags)


def _run(events: _Events, mode: Mode, settings: Settings, aws: Aws, approved: Plan | None = None) -> Run:
    log.configure(settings.log_format, settings.log_level, color=False)
    run = Run(
        esm_id=events.EsmId,
        mode=mode,
        settings=settings,
        aws=aws,
        playbooks=playbook.load(settings.playbooks_dir),
        reporter=SsmReporter(approved),
        saved_plan=approved,
    )
    return run.execute()


def _size(payload: dict[str, Any]) -> int:
    return len(json.dumps(payload, separators=(",", ":")).encode())


def _approval_message(plan: Plan, where: str) -> str:
    """The plan's summary and rendered diff for the approvers, cut to SSM's 4096 characters."""
    text = f"remediate: {plan.summary()} ESM {plan.target.esm_uuid}, plan {plan.plan_id}\n\n"
    text += render_plan(plan, color=False)
    if len(text) <= MESSAGE_LIMIT:
        return text
    tail = f"\n... (truncated; the full plan is {where})"
    return text[: MESSAGE_LIMIT - len(tail)] + tail


def plan_handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Observe and diagnose the ESM; in Plan/Apply mode also plan. Changes nothing."""
    ev = _parse(PlanEvents, events)
    parse_esm_id(ev.EsmId)
    if ev.Mode == "Apply" and not ev.AutoApprove and not [a for a in ev.Approvers if a.strip()]:
        raise InputError("Mode Apply needs at least one approver in Approvers (or AutoApprove true)")
    if ev.PlanBucket and ("/" in ev.PlanBucket or ev.PlanBucket.startswith("s3:")):
        raise InputError(f"PlanBucket must be a bucket name, not {ev.PlanBucket!r}")
    settings = _settings(ev.Region)
    run = _run(ev, _MODES[ev.Mode], settings, Aws.from_settings(settings))
    assert run.facts is not None
    out: dict[str, Any] = {
        "Mode": ev.Mode,
        "EsmUuid": run.facts.esm.uuid,
        "Findings": [f"{f.code}: {f.summary}" for f in run.findings],
        "FindingCount": len(run.findings),
        "ChangeCount": 0,
        "Summary": f"Diagnose mode: {len(run.findings)} finding(s).",
        "ManualSteps": [],
        "ApprovalMessage": "",
        "Plan": "",
        "PlanLocation": "",
        "PlanDigest": "",
    }
    if run.plan is None:
        return out
    doc = run.plan.to_json()
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    out.update(
        ChangeCount=len(run.plan.changes),
        Summary=run.plan.summary(),
        ManualSteps=[s.text for s in run.plan.manual_steps],
        PlanDigest=doc["digest"],
        Plan=text,
    )
    out["ApprovalMessage"] = _approval_message(run.plan, "in this step's Plan output")
    if _size(out) <= PAYLOAD_BUDGET:
        return out
    if not ev.PlanBucket:
        raise InputError(
            f"the plan ({len(text)} bytes) does not fit the {PAYLOAD_LIMIT // 1024} KB step output; "
            "set the runbook parameter PlanBucket to an S3 bucket the AutomationAssumeRole can write"
        )
    key = f"{PLAN_KEY_PREFIX}{ev.ExecutionId or run.plan.plan_id}.json"
    run.aws.call(
        "s3", "put_object", Bucket=ev.PlanBucket, Key=key, Body=text.encode(), ContentType="application/json"
    )
    location = f"s3://{ev.PlanBucket}/{key}"
    out.update(Plan="", PlanLocation=location)
    out["ApprovalMessage"] = _approval_message(run.plan, location)
    if _size(out) > PAYLOAD_BUDGET:  # findings alone this large would be a bug in a check
        out["Findings"] = [f.code for f in run.findings]
    return out


def _load_plan(ev: ApplyEvents, aws: Aws) -> Plan:
    """The approved plan, inline or from S3, checked against the digest the approvers were shown."""
    if bool(ev.Plan) == bool(ev.PlanLocation):
        raise InputError("give exactly one of Plan (inline JSON) and PlanLocation (s3://bucket/key)")
    text = ev.Plan
    if ev.PlanLocation:
        bucket, _, key = ev.PlanLocation.removeprefix("s3://").partition("/")
        if not ev.PlanLocation.startswith("s3://") or not bucket or not key:
            raise InputError(f"PlanLocation must be s3://bucket/key, not {ev.PlanLocation!r}")
        body = aws.call("s3", "get_object", Bucket=bucket, Key=key)["Body"]
        text = body.read().decode()
    with tempfile.TemporaryDirectory(prefix="remediate-ssm-") as tmp:
        path = Path(tmp) / "plan.json"
        path.write_text(text)
        approved = plan_file.load(path)  # the one validation path: schema, digest, model
    digest = approved.to_json()["digest"]
    if digest != ev.PlanDigest:
        raise PlanFileError(f"plan {approved.plan_id} has digest {digest}, not the approved {ev.PlanDigest}")
    if approved.target.esm_uuid != parse_esm_id(ev.EsmId):
        raise InputError(f"plan {approved.plan_id} is for ESM {approved.target.esm_uuid}, not {ev.EsmId}")
    return approved


def apply_handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Apply exactly the approved plan (refused when stale), then verify each change as the CLI does."""
    ev = _parse(ApplyEvents, events)
    settings = _settings(ev.Region)
    aws = Aws.from_settings(settings)
    run = _run(ev, "apply", settings, aws, _load_plan(ev, aws))
    assert run.plan is not None
    by_id = {c.id: c for c in run.plan.changes}
    return {
        "RunId": run.run_id,
        "PlanId": run.plan.plan_id,
        "State": run.state,
        "AppliedChanges": [f"{i} {by_id[i].action} {by_id[i].resource}" for i in run.applied_ids],
        "AppliedCount": len(run.applied_ids),
    }


def verify_handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Re-observe from scratch: fail if a fresh plan still wants a change that was just applied."""
    ev = _parse(VerifyEvents, events)
    applied: set[tuple[str, str]] = set()
    for entry in ev.AppliedChanges:
        parts = entry.split(" ", 2)
        if len(parts) != 3:
            raise InputError(f"AppliedChanges entry {entry!r} is not 'ID ACTION RESOURCE'")
        applied.add((parts[1], parts[2]))
    settings = _settings(ev.Region)
    run = _run(ev, "plan", settings, Aws.from_settings(settings))
    assert run.plan is not None
    again = [f"{c.action} {c.resource}" for c in run.plan.changes if (c.action, c.resource) in applied]
    if again:
        raise VerificationError(
            "applied changes are not in effect, a fresh plan wants again: " + "; ".join(again)
        )
    return {
        "Verified": True,
        "RemainingFindings": [f"{f.code}: {f.summary}" for f in run.findings],
        "RemainingChangeCount": len(run.plan.changes),
        "Summary": run.plan.summary(),
    }


HANDLERS = {"plan": plan_handler, "apply": apply_handler, "verify": verify_handler}
"""Step name -> handler; the bundle's entry module exposes each under the step's name."""
