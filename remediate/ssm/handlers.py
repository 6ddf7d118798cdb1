"""SSM Automation `aws:executeScript` handlers: plan, apply, finalize, verify and cleanup.

Each handler is a plain `handler(events, context) -> dict`, as AWS's own runbooks write them: inputs are
validated up front (one clear line on failure, which SSM shows as the step's failure message), the
returned payload stays under SSM's 100 KB, and the work is done by the same engine as the CLI: a
`remediate.run.machine.Run` with a reporter of its own.

An `aws:executeScript` step runs at most 600 s and its temporary directory is gone when it ends, so:
- `apply` applies the approved plan up to the ESM restart and returns; before each change it checks
  that a whole change (two bounded ESM waits) still fits its time budget, and every ESM wait inside
  it is bounded (`esm_transition_timeout` is a share of the step limit). The restart itself is done by
  the runbook's native steps. The lock stays taken across those steps.
- The journal is mirrored to `s3://BUCKET/remediate/journals/ACCOUNT/RUN_ID.jsonl` line by line
  (`run.journal_store`), so `finalize`, `cleanup` and the CLI (`rollback`, `apply --resume`) read it.
- `finalize` records the restart, verifies every change, releases the lock and records the end.
- `cleanup` runs when a locked step failed or was cancelled: it enables the ESM if the approved plan
  wanted it enabled (the restart may have stopped half-way), releases the lock, records the outcome.

With an empty `EsmId` (Diagnose or Plan across an Organization), `plan` finds the account's Kafka
mappings itself (`run.fleet.scan`) and writes one report to `remediate/reports/ACCOUNT/REGION/...`.

This module never imports click or rich: the SSM runtime runs it from the bundle (`remediate ssm-bundle`).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from remediate import actions, log
from remediate import plan as plan_file
from remediate.actions import ApplyContext
from remediate.actions.esm import update_esm, wait_for_state
from remediate.aws import Aws
from remediate.config import Settings, load_settings
from remediate.errors import InputError, PlanFileError, RemediateError, VerificationError
from remediate.facts import ESM_SETTLED_STATES
from remediate.observe.reads import parse_esm_id
from remediate.plan import Change, Plan, resolve_refs
from remediate.run import fleet, lock, playbook
from remediate.run.journal import Journal, RunRecord, check_run_id, new_run_id
from remediate.run.journal_store import S3JournalStore, caller_account, local_or_stored, mirrored
from remediate.run.machine import Mode, Run
from remediate.run.render import render_plan
from remediate.ssm import probe_step
from remediate.ssm.limits import (
    HANDOFF_SECONDS,
    MARGIN_SHARE,
    MESSAGE_LIMIT,
    PAYLOAD_BUDGET,
    PAYLOAD_LIMIT,
    WAIT_SHARE,
    step_seconds,
)
from remediate.write_scope import WriteScope

PLAN_KEY_PREFIX = "remediate/plans/"
REPORT_KEY_PREFIX = "remediate/reports/"
RESTART_ACTION = "reenable_esm"
"""The change the runbook's native steps make (its waits do not fit a script step)."""
SCAN_SHARE = 0.6
"""issue 27, D17: the share of the plan step's 600 s a fleet scan may start mappings in; the ones
running then finish (each observation is bounded) and the report is written within the rest."""
_MODES: dict[str, Mode] = {"Diagnose": "diagnose", "Plan": "plan", "Apply": "plan"}  # plan never applies


class BudgetExhausted(RemediateError):
    """The apply step stopped between changes: the next one might not finish within SSM's 600 s."""


class _Events(BaseModel):
    """The InputPayload every step receives; SSM substitutes `{{ ... }}` before the handler runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    EsmId: str = ""
    Bucket: str = Field("", pattern=r"^$|^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    Region: str = ""
    AccountId: str = ""
    ExecutionId: str = ""


class PlanEvents(_Events):
    Mode: Literal["Diagnose", "Plan", "Apply"] = "Plan"
    # issue 27: what this deployment's role may rewrite (deploy-time literals, never the starter's).
    FixableRolePath: str = ""
    FixableRoleTag: str = ""
    FixableKeyArns: list[str] = Field(default_factory=list)
    # issue 27, D5: the version this execution runs and the document's default/latest (native steps).
    DocumentVersion: str = ""
    DefaultVersion: str = ""
    LatestVersion: str = ""
    # issue 27, item 7: the starter's Probe, and the deployment's opt-in (a deploy-time literal).
    Probe: bool = False
    AllowProbe: bool = False

    def scope(self) -> WriteScope:
        keys = tuple(k for k in self.FixableKeyArns if k)
        return WriteScope(role_path=self.FixableRolePath, role_tag=self.FixableRoleTag, key_arns=keys).check()


class ApplyEvents(_Events):
    RunId: str = Field(min_length=1)
    Plan: str = ""
    PlanLocation: str = ""
    PlanDigest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")


class RunEvents(_Events):
    RunId: str = ""
    EsmUuid: str = ""
    Cancelled: bool = False
    """issue 27, D2: the onCancel cleanup, which SSM runs for at most two minutes: it never waits."""


class VerifyEvents(_Events):
    AppliedChanges: list[str] = Field(default_factory=list)
    RunId: str = ""


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


def _settings(region: str, **flags: Any) -> Settings:
    """Settings for a step: the SSM runtime's home may be read-only, so the journal goes to /tmp
    unless REMEDIATE_STATE_DIR says otherwise; flags would outrank the environment, so it is only
    passed when unset."""
    flags.update({"region": region or None, "log_format": "json", "color": False})
    if "REMEDIATE_STATE_DIR" not in os.environ:
        flags["state_dir"] = Path(tempfile.gettempdir()) / "remediate"
    settings = load_settings(None, **flags)
    log.configure(settings.log_format, settings.log_level, color=False)
    return settings


def _run(esm_id: str, mode: Mode, settings: Settings, aws: Aws, scope: WriteScope | None = None) -> Run:
    run = Run(
        esm_id=esm_id,
        mode=mode,
        settings=settings,
        aws=aws,
        playbooks=playbook.load(settings.playbooks_dir),
        reporter=SsmReporter(),
        manual_when=scope.manual_reason if scope is not None else None,
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


def _fit(out: dict[str, Any], key: str) -> None:
    """Drop items from the end of list output `key` until the payload fits SSM's cap (and say so)."""
    items: list[str] = out[key]
    while items and _size(out) > PAYLOAD_BUDGET:
        items.pop()
    if _size(out) > PAYLOAD_BUDGET:
        raise InputError(f"the step output does not fit SSM's {PAYLOAD_LIMIT // 1024} KB")


def _blank(mode: str) -> dict[str, Any]:
    return {
        "Mode": mode,
        "EsmUuid": "",
        "RunId": "",
        "Findings": [],
        "FindingCount": 0,
        "ChangeCount": 0,
        "Summary": "",
        "ManualSteps": [],
        "ApprovalMessage": "",
        "Plan": "",
        "PlanLocation": "",
        "PlanDigest": "",
        "Report": "",
        "Probe": "",  # issue 27, item 7
    }


def _scan_account(ev: PlanEvents, settings: Settings) -> dict[str, Any]:
    """Every Kafka mapping of this account and Region: one report to the bucket, a summary as output."""
    aws = Aws.from_settings(settings)
    books = playbook.load(settings.playbooks_dir)
    results = fleet.scan(
        [aws],
        books,
        workers=settings.scan_workers,
        observe_workers=settings.max_workers,
        metrics_minutes=settings.metrics_window,
        stop_after=step_seconds() * SCAN_SHARE,  # issue 27, D17
        stray_disabled_days=settings.stray_disabled_days,  # issue 25
        monitoring_asked=settings.monitoring_fix,
    )
    unchecked = sum(1 for r in results if r.error == fleet.NOT_CHECKED)
    plans = fleet.fixes_for(results, books) if ev.Mode == "Plan" else []
    report = {
        **fleet.to_json(results),
        "account": ev.AccountId,
        "region": aws.region,
        "execution_id": ev.ExecutionId,
        "mode": ev.Mode,
        "plans": [fx.plan.to_json() for fx in plans],
        "complete": not unchecked,
    }
    out = _blank(ev.Mode)
    broken = [r for r in results if r.findings or r.error]
    out.update(
        Findings=[f"{r.esm_uuid} {f.code}: {f.summary}" for r in results for f in r.findings]
        + [f"{r.esm_uuid} ERROR: {r.error}" for r in results if r.error],
        FindingCount=sum(len(r.findings) for r in results),
        ChangeCount=sum(len(fx.plan.changes) for fx in plans),
        Summary=f"{len(results)} Kafka mapping(s) in {ev.AccountId or 'this account'} {aws.region}: "
        f"{len(broken)} with findings or errors."
        + (
            f" {unchecked} not checked within the step's time (the report lists them; run again, or per "
            "ESM, for those)."
            if unchecked
            else ""
        ),
    )
    if ev.Bucket:
        name = ev.ExecutionId or new_run_id()
        key = f"{REPORT_KEY_PREFIX}{ev.AccountId or 'account'}/{aws.region}/{name}.json"
        body = json.dumps(report, sort_keys=True, indent=1).encode()
        aws.call("s3", "put_object", Bucket=ev.Bucket, Key=key, Body=body, ContentType="application/json")
        out["Report"] = f"s3://{ev.Bucket}/{key}"
    _fit(out, "Findings")
    return out


def _here(ev: _Events) -> None:
    """issue 27, D12: an ESM ARN names its Region and account; the execution runs in one of each (its
    global:REGION and global:ACCOUNT_ID), so another's is refused by name, as the CLI refuses it."""
    from remediate.aws import arn_region_account

    parts = arn_region_account(ev.EsmId.strip())
    if parts is None:
        return
    region, account = parts
    if (ev.Region and region != ev.Region) or (ev.AccountId and account != ev.AccountId):
        raise InputError(
            f"ESM {ev.EsmId} is in {region} of account {account}; this execution runs in "
            f"{ev.Region or '?'} of account {ev.AccountId or '?'}: start it there"
        )


def check_version(ev: PlanEvents) -> None:
    """issue 27, D5: Apply runs only from the document's default version.

    Every earlier version of the document stays runnable (UpdateMethod NewVersion) and the starter may
    name one (StartAutomationExecution DocumentVersion): one deployed with AutoApprove allowed, or with
    other approvers, would bypass today's approval. `$DEFAULT` is the default by name; `$LATEST` only
    when the latest is the default (Systems Manager API reference, StartAutomationExecution
    DocumentVersion, DescribeDocument DefaultVersion/LatestVersion)."""
    if ev.Mode != "Apply":
        return
    version = ev.DocumentVersion
    if version == "$LATEST":
        version = ev.LatestVersion
    if version == "$DEFAULT" or (version and version == ev.DefaultVersion):
        return
    raise InputError(
        f"Mode Apply runs only from the document's default version {ev.DefaultVersion or '?'}, not from "
        f"version {ev.DocumentVersion or '?'}: an older version may carry other approvers or AutoApprove; "
        "start the default version (or make this one the default after review)"
    )


def plan_handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Observe and diagnose (one ESM, or every Kafka mapping here); in Plan/Apply mode also plan."""
    ev = _parse(PlanEvents, events)
    if ev.Probe:  # issue 27, item 7
        probe_step.refuse(ev.AllowProbe, ev.Mode, ev.EsmId)
    if not ev.EsmId.strip():
        if ev.Mode == "Apply":
            raise InputError("Mode Apply needs an EsmId: across accounts only Diagnose and Plan run")
        return _scan_account(ev, _settings(ev.Region))
    check_version(ev)
    parse_esm_id(ev.EsmId)
    _here(ev)
    scope = ev.scope()
    settings = _settings(ev.Region)
    run = _run(ev.EsmId, _MODES[ev.Mode], settings, Aws.from_settings(settings), scope)
    probed = probe_step.run(run, scope, ev.Bucket, settings.state_dir) if ev.Probe else ""
    assert run.facts is not None
    out = _blank(ev.Mode)
    out.update(
        EsmUuid=run.facts.esm.uuid,
        RunId=new_run_id() if ev.Mode == "Apply" else "",
        Findings=[
            f"{f.code}: {f.summary}" + (" (measured by the probe)" if probe_step.is_measured(f) else "")
            for f in run.findings
        ],
        Probe=probed,
        FindingCount=len(run.findings),
        Summary=f"Diagnose mode: {len(run.findings)} finding(s).",
    )
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
    if not ev.Bucket:
        raise InputError(
            f"the plan ({len(text)} bytes) does not fit the {PAYLOAD_LIMIT // 1024} KB step output; "
            "deploy the runbook with a Bucket the AutomationAssumeRole can write"
        )
    key = f"{PLAN_KEY_PREFIX}{caller_account(run.aws)}/{ev.ExecutionId or run.plan.plan_id}.json"
    run.aws.call(
        "s3", "put_object", Bucket=ev.Bucket, Key=key, Body=text.encode(), ContentType="application/json"
    )
    location = f"s3://{ev.Bucket}/{key}"
    out.update(Plan="", PlanLocation=location)
    out["ApprovalMessage"] = _approval_message(run.plan, location)
    _fit(out, "Findings")
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


def _journal_factory(ev: _Events, aws: Aws) -> Callable[[Path, str], Journal]:
    if ev.Bucket:
        return mirrored(S3JournalStore(aws, ev.Bucket))
    if "REMEDIATE_STATE_DIR" in os.environ:  # a local run: the state directory outlives the step
        return Journal
    raise InputError("Mode Apply needs the deployment's Bucket: a step's own disk does not keep the journal")


def _restart_mode(change: Change) -> str:
    if change.after.get("State") != "Enabled":
        raise InputError(f"{change.id} {change.action}: the runbook only restarts or enables an ESM")
    return "restart" if change.after.get("Restart") else "enable"


def apply_handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Apply the approved plan up to the ESM restart (refused when stale); the runbook restarts it."""
    started = time.monotonic()
    limit = step_seconds()
    wait = limit * WAIT_SHARE
    ev = _parse(ApplyEvents, events)
    check_run_id(ev.RunId)
    base = _settings(ev.Region)
    settings = _settings(
        ev.Region,
        esm_transition_timeout=min(base.esm_transition_timeout, wait),
        lock_ttl=max(base.lock_ttl, HANDOFF_SECONDS),  # issue 27, D11: the native steps cannot renew it
    )
    aws = Aws.from_settings(settings)
    factory = _journal_factory(ev, aws)
    approved = _load_plan(ev, aws)

    def handoff(change: Change) -> bool:
        if change.action == RESTART_ACTION:
            return False
        left = limit * (1 - MARGIN_SHARE) - (time.monotonic() - started)
        if left < 2 * wait:
            raise BudgetExhausted(
                f"stopped before {change.id} {change.action}: {left:.0f}s left of the step's {limit:.0f}s "
                f"may not fit it; the changes made so far are journaled, continue with "
                f"`remediate apply --resume {ev.RunId}` (journal_bucket = {ev.Bucket or 'unset'})"
            )
        return True

    run = Run(
        esm_id=ev.EsmId,
        mode="apply",
        settings=settings,
        aws=aws,
        playbooks=playbook.load(settings.playbooks_dir),
        reporter=SsmReporter(approved),
        saved_plan=approved,
        run_id=ev.RunId,
        journal_factory=factory,
        handoff=handoff,
    ).execute()
    assert run.plan is not None
    by_id = {c.id: c for c in run.plan.changes}
    handed = [by_id[i] for i in run.handed_off]
    if len(handed) > 1:  # the restart is ordered last (order 90): nothing may follow it
        raise InputError(f"plan {run.plan.plan_id} has changes after the ESM restart; apply it with the CLI")
    return {
        "RunId": run.run_id,
        "PlanId": run.plan.plan_id,
        "AppliedChanges": [f"{i} {by_id[i].action} {by_id[i].resource}" for i in run.applied_ids],
        "Restart": _restart_mode(handed[0]) if handed else "none",
    }


def _context(aws: Aws, settings: Settings, record: RunRecord, run_id: str) -> ApplyContext:
    return ApplyContext(
        aws=aws.fresh(),
        settings=settings,
        plan_id=record.plan.plan_id,
        run_id=run_id,
        progress=SsmReporter().progress,
    )


def _journal(ev: RunEvents, aws: Aws, settings: Settings) -> Journal:
    journal = local_or_stored(settings.state_dir, ev.RunId, lambda: aws, ev.Bucket or None)
    if ev.Bucket:
        return mirrored(S3JournalStore(aws, ev.Bucket))(settings.state_dir, ev.RunId)
    return journal


def _handed_off(journal: Journal) -> list[str]:
    return [i for e in journal.entries() if e.get("event") == "handoff" for i in e.get("change_ids", [])]


def _esm(aws: Aws, uuid: str) -> dict[str, Any]:
    return aws.fresh().call("lambda", "get_event_source_mapping", UUID=uuid)


def _release(aws: Aws, uuid: str, run_id: str) -> None:
    """Drop the ESM's lock if this run holds it (never another run's)."""
    lock.release_run(aws, str(_esm(aws, uuid)["EventSourceMappingArn"]), run_id)


def finalize_handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """After the native restart: journal it, verify every change, release the lock, record the end."""
    ev = _parse(RunEvents, events)
    check_run_id(ev.RunId)
    settings = _settings(ev.Region)
    aws = Aws.from_settings(settings)
    journal = _journal(ev, aws, settings)
    record = RunRecord(journal)
    ctx = _context(aws, settings, record, ev.RunId)
    by_id = {c.id: c for c in record.plan.changes}
    for change_id in _handed_off(journal):
        change = by_id[change_id]
        problem = actions.get(change.action).verify(change, ctx)
        if problem:
            raise VerificationError(f"{change_id}: {problem}")
        journal.record("end", change_id=change_id, outputs={"previous": change.before})
    record = RunRecord(journal)
    problems = []
    for change in record.plan.changes:
        made = change.model_copy(update={"after": resolve_refs(change.after, record.outputs)})
        problem = actions.get(change.action).verify(made, ctx)
        if problem:
            problems.append(f"{change.id}: {problem}")
    journal.record("verify", ok=not problems, problems=problems)
    if problems:
        raise VerificationError("verification failed: " + "; ".join(problems))
    _release(aws, record.esm_uuid, ev.RunId)
    journal.record("finish", status="done")
    done = [c for c in record.plan.changes if c.id in record.done]
    return {
        "AppliedChanges": [f"{c.id} {c.action} {c.resource}" for c in done],
        "AppliedCount": len(done),
    }


def cleanup_handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """A locked step failed or was cancelled: enable the ESM if the plan wanted it, unlock, journal.

    On a failure the step has 600 s, so it waits for the ESM to settle and to be enabled. On a cancel
    ("Automation runs the cancellation workflow for a maximum of two minutes", Systems Manager user
    guide, automation-actions.md, `onCancel`) it never waits (`_enable_now`): one enable request if the
    ESM is Disabled, then the lock and the journal, with few short retries, within the step's
    CANCEL_STEP_TIMEOUT; what is left to settle is in the Outcome, for `remediate apply --resume RUN_ID`."""
    ev = _parse(RunEvents, events)
    if not ev.RunId:
        return {"Outcome": "no run was started; nothing to clean up"}
    check_run_id(ev.RunId)
    quick = {"retry_attempts": 3, "retry_max_delay": 2.0} if ev.Cancelled else {}
    settings = _settings(ev.Region, esm_transition_timeout=step_seconds() * WAIT_SHARE, **quick)
    aws = Aws.from_settings(settings)
    uuid = parse_esm_id(ev.EsmUuid)
    try:
        journal: Journal | None = _journal(ev, aws, settings)
        entries = journal.entries() if journal is not None else []
    except InputError:
        journal, entries = None, []
    said: list[str] = []
    left = ""
    if journal is not None and entries:
        record = RunRecord(journal)
        by_id = {c.id: c for c in record.plan.changes}
        wanted = [by_id[i] for i in _handed_off(journal) if by_id[i].after.get("State") == "Enabled"]
        if wanted and ev.Cancelled:
            left = _enable_now(aws, uuid, said)
        elif wanted:
            ctx = _context(aws, settings, record, ev.RunId)
            esm = wait_for_state(ctx, uuid, ESM_SETTLED_STATES)
            if esm["State"] != "Enabled":
                update_esm(ctx, uuid, Enabled=True)
                wait_for_state(ctx, uuid, frozenset({"Enabled"}))
                said.append(f"enabled ESM {uuid}")
            else:
                said.append(f"ESM {uuid} is Enabled")
    _release(aws, uuid, ev.RunId)
    said.append("lock released")
    if left:
        said.append(f"left to settle: {left}; finish with `remediate apply --resume {ev.RunId}`")
    if journal is not None and entries and not any(e.get("event") == "finish" for e in entries):
        journal.record(
            "finish",
            status="failed",
            error=f"execution {ev.ExecutionId or '?'} {'was cancelled' if ev.Cancelled else 'failed'}; "
            f"cleanup: {', '.join(said)}",
        )
    return {"Outcome": f"{'; '.join(said)}; ESM {uuid} is {_esm(aws, uuid).get('State')}"}


def _enable_now(aws: Aws, uuid: str, said: list[str]) -> str:
    """One enable request without waiting for the ESM to settle; what is left to settle, or ""."""
    state = str(_esm(aws, uuid).get("State"))
    if state in ("Enabled", "Enabling"):
        said.append(f"ESM {uuid} is {state}")
        return ""
    try:
        aws.fresh().call("lambda", "update_event_source_mapping", UUID=uuid, Enabled=True)
    except RemediateError as exc:  # Disabling/Updating: Lambda refuses updates until it settles
        return f"ESM {uuid} is {state} and could not be enabled yet ({exc})"
    said.append(f"asked Lambda to enable ESM {uuid} (it was {state})")
    return ""


def verify_handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Re-observe from scratch: fail if a fresh plan still wants a change that was just applied.

    A change is "wanted again" when the fresh plan starts it from the same `before` as the approved one
    (with the run's journal, `RunId`): then it is not in effect. A fresh change from another `before`
    is a new need of a change that did take effect, e.g. MSK storage grown while the disk metrics still
    show the old use (issue 27, D10): it is reported as remaining, not as a failed apply."""
    ev = _parse(VerifyEvents, events)
    applied: set[tuple[str, str]] = set()
    for entry in ev.AppliedChanges:
        parts = entry.split(" ", 2)
        if len(parts) != 3:
            raise InputError(f"AppliedChanges entry {entry!r} is not 'ID ACTION RESOURCE'")
        applied.add((parts[1], parts[2]))
    settings = _settings(ev.Region)
    aws = Aws.from_settings(settings)
    before: dict[tuple[str, str], Any] = {}
    if ev.RunId:
        check_run_id(ev.RunId)
        record = RunRecord(_journal(RunEvents(RunId=ev.RunId, Bucket=ev.Bucket), aws, settings))
        before = {(c.action, c.resource): c.before for c in record.plan.changes}
    run = _run(ev.EsmId, "plan", settings, aws)
    assert run.plan is not None
    again = [
        f"{c.action} {c.resource}"
        for c in run.plan.changes
        if (c.action, c.resource) in applied and before.get((c.action, c.resource), c.before) == c.before
    ]
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


HANDLERS = {
    "plan": plan_handler,
    "apply": apply_handler,
    "finalize": finalize_handler,
    "verify": verify_handler,
    "cleanup": cleanup_handler,
    "cancelCleanup": cleanup_handler,  # issue 27: the onCancel step, with Cancelled true in its payload
}
"""Step name -> handler; the bundle's entry module exposes each under the step's name."""
