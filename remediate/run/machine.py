"""The run: one small, fixed `transitions` state machine from an ESM id to done or failed.

    pending -> observing -> diagnosed -> planned -> awaiting_approval -> applying -> verifying -> done
                                   \\-> done      \\-> done             \\-> refused
    any state -> failed (on an exception, routed by `on_exception`)

Each state's work runs in its `on_enter_*` callback, which then fires the next trigger; the machine
is queued, so that chain runs iteratively. `diagnose` and `plan` modes stop early. Entry points (CLI,
SSM handlers, demo) only construct a `Run`, give it a `Reporter`, call `execute()` and read the
result, so all three drive exactly the same engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from transitions import EventData, Machine

from remediate import actions
from remediate.actions import ApplyContext
from remediate.actions.esm import watch_error_text
from remediate.aws import Aws
from remediate.config import Settings
from remediate.errors import ApprovalRefused, RemediateError, StalePlanError, VerificationError
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.log import bind_run, get_logger
from remediate.observe.reads import observe, parse_esm_id
from remediate.plan import Change, Plan, resolve_refs
from remediate.run import lock
from remediate.run.engine import build_plan, diagnose
from remediate.run.journal import Journal, RunRecord, new_run_id
from remediate.run.playbook import Playbook
from remediate.run.rollback import rollback_plan

log = get_logger(__name__)
Mode = Literal["diagnose", "plan", "apply"]

STATES = [
    "pending",
    "observing",
    "diagnosed",
    "planned",
    "awaiting_approval",
    "applying",
    "verifying",
    "done",
    "failed",
    "refused",
]
TERMINAL = ("done", "failed", "refused")
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "start", "source": "pending", "dest": "observing"},
    {"trigger": "observed", "source": "observing", "dest": "diagnosed"},
    {"trigger": "plan_made", "source": "diagnosed", "dest": "planned", "conditions": "wants_plan"},
    {"trigger": "ask", "source": "planned", "dest": "awaiting_approval", "conditions": "wants_apply"},
    {"trigger": "approve", "source": "awaiting_approval", "dest": "applying"},
    {"trigger": "refuse", "source": "awaiting_approval", "dest": "refused"},
    {"trigger": "applied", "source": "applying", "dest": "verifying"},
    {"trigger": "verified", "source": "verifying", "dest": "done"},
    {"trigger": "finish", "source": ["diagnosed", "planned"], "dest": "done"},
    {"trigger": "fail", "source": "*", "dest": "failed"},
]


class Reporter(Protocol):
    """What an entry point provides: progress display and the approval decision."""

    def progress(self, message: str) -> None: ...

    def approve(self, plan: Plan) -> bool: ...


@dataclass
class Run:
    esm_id: str
    mode: Mode
    settings: Settings
    aws: Aws
    playbooks: list[Playbook]
    reporter: Reporter
    saved_plan: Plan | None = None
    resume: RunRecord | None = None
    rollback_of: tuple[str, RunRecord] | None = None
    probe_timeout: float | None = None  # `diagnose --probe`: probe the brokers, each step bounded
    watch: float = 0.0  # `apply --watch`: seconds to wait for AWS to clear the ESM's error text
    enable_user_disabled: bool = (
        False  # `scan --fix --enable-user-disabled`: may enable what a person disabled
    )
    fix_with: frozenset[str] = frozenset()  # `plan/apply --fix-with NAME`: a playbook's alternative fix
    run_id: str = field(default_factory=new_run_id)
    state: str = "pending"
    facts: Facts | None = None
    findings: list[Finding] = field(default_factory=list)
    plan: Plan | None = None
    applied_ids: list[str] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: BaseException | None = None
    locked: bool = False
    # -- SSM hooks (remediate/ssm/handlers.py); the CLI leaves both at their defaults ----------------
    # Where the journal is kept: a step's temp directory is lost when the step ends, so SSM mirrors it.
    journal_factory: Callable[[Path, str], Journal] = Journal
    # Asked before each change; False hands that change and the rest to the caller (the runbook
    # restarts the ESM with native steps), which then also owns the lock and the `finish` record.
    handoff: Callable[[Change], bool] | None = None
    handed_off: list[str] = field(default_factory=list)

    if TYPE_CHECKING:  # triggers, bound by transitions at runtime; declared for mypy

        def start(self) -> bool: ...
        def observed(self) -> bool: ...
        def plan_made(self) -> bool: ...
        def ask(self) -> bool: ...
        def approve(self) -> bool: ...
        def refuse(self) -> bool: ...
        def applied(self) -> bool: ...
        def verified(self) -> bool: ...
        def finish(self) -> bool: ...
        def fail(self) -> bool: ...

    def __post_init__(self) -> None:
        self.machine = Machine(
            model=self,
            states=STATES,
            transitions=TRANSITIONS,
            initial="pending",
            auto_transitions=False,
            queued=True,
            send_event=True,
            on_exception="on_error",
        )

    # -- conditions (real booleans) ---------------------------------------------------------------
    def wants_plan(self, _event: EventData) -> bool:
        return self.mode in ("plan", "apply")

    def wants_apply(self, _event: EventData) -> bool:
        return self.mode == "apply" and self.plan is not None and bool(self.plan.changes)

    # -- state work -------------------------------------------------------------------------------
    def on_enter_observing(self, _event: EventData) -> None:
        bind_run(self.run_id, parse_esm_id(self.esm_id))
        self.facts = observe(
            self.aws,
            self.esm_id,
            max_workers=self.settings.max_workers,
            probe_timeout=self.probe_timeout,
            metrics_minutes=self.settings.metrics_window,
        )
        if self.mode == "apply":
            # Locked before planning, like Terraform's state lock: what is shown for approval is
            # what gets applied, with no other run changing the ESM in between.
            lock.acquire(self.aws, self.facts.esm.arn, self.run_id, self.settings.lock_ttl)
            self.locked = True
        log.info("run.observed", fingerprint=self.facts.fingerprint(), aws_calls=self.aws.calls)
        self.observed()

    def on_enter_diagnosed(self, _event: EventData) -> None:
        assert self.facts is not None
        self.findings = diagnose(self.facts, self.playbooks)
        log.info("run.diagnosed", findings=[f.code for f in self.findings])
        if self.mode == "diagnose":
            self.finish()
        else:
            self.plan_made()

    def on_enter_planned(self, _event: EventData) -> None:
        assert self.facts is not None
        if self.rollback_of is not None:
            self.plan = rollback_plan(*self.rollback_of, self.facts, self._context(f"rollback-{self.run_id}"))
        elif self.resume is not None:
            # Resuming continues a plan that was approved and partly applied: the state has changed
            # by design, so there is no fingerprint to compare; every change re-checks is_done.
            self.plan = self.resume.plan
        elif self.saved_plan is not None:
            if self.saved_plan.fingerprint != self.facts.fingerprint():
                raise StalePlanError(
                    f"plan {self.saved_plan.plan_id} is stale: ESM {self.facts.esm.uuid} or its "
                    "resources changed since it was made; run `remediate plan` again"
                )
            self.plan = self.saved_plan
        else:
            self.plan = build_plan(
                self.facts,
                self.findings,
                self.playbooks,
                enable_user_disabled=self.enable_user_disabled,
                fix_with=self.fix_with,
            )
        if self.mode == "apply" and self.plan.changes:
            self.ask()
        else:
            self.finish()

    def on_enter_awaiting_approval(self, _event: EventData) -> None:
        assert self.plan is not None
        approved = self.saved_plan is not None or self.resume is not None or self.reporter.approve(self.plan)
        if approved:
            self.approve()
        else:
            self.refuse()

    def on_enter_applying(self, _event: EventData) -> None:
        assert self.plan is not None
        journal = self._journal()
        ctx = self._context()
        done: set[str] = set()
        if self.resume is None:
            journal.record("run", esm_uuid=self.plan.target.esm_uuid, plan=self.plan.to_json())
        else:
            journal.record("resume", done=sorted(self.resume.done))
            ctx.outputs.update(self.resume.outputs)
            self.outputs.update(self.resume.outputs)
            done = self.resume.done
        for change in self.plan.changes:
            if change.id in done:
                continue
            if self.handoff is not None and not self.handoff(change):
                self.handed_off = [c.id for c in self.plan.changes[self.plan.changes.index(change) :]]
                journal.record("handoff", change_ids=self.handed_off)
                break
            action = actions.get(change.action)
            resolved = change.model_copy(update={"after": resolve_refs(change.after, ctx.outputs)})
            if action.is_done(resolved, ctx):
                journal.record("skip", change_id=change.id, reason="already in effect")
                self.reporter.progress(f"{change.id} {change.action} {change.resource}: already in effect")
                continue
            journal.record(
                "begin",
                change_id=change.id,
                action=change.action,
                resource=change.resource,
                request=resolved.after,
            )
            try:
                outputs = action.apply(resolved, ctx)
            except BaseException as exc:
                journal.record("error", change_id=change.id, error=f"{type(exc).__name__}: {exc}")
                raise
            ctx.outputs[change.id] = outputs
            self.outputs[change.id] = outputs
            self.applied_ids.append(change.id)
            journal.record("end", change_id=change.id, outputs=outputs)
            self.reporter.progress(f"{change.id} {change.action} {change.resource}: done")
        self.applied()

    def on_enter_verifying(self, _event: EventData) -> None:
        assert self.plan is not None
        ctx = self._context(fresh=True)
        problems = []
        for change in self.plan.changes:
            if change.id in self.handed_off:
                continue
            made = change.model_copy(update={"after": resolve_refs(change.after, self.outputs)})
            problem = actions.get(change.action).verify(made, ctx)
            if problem:
                problems.append(f"{change.id}: {problem}")
        journal = self._journal()
        journal.record("verify", ok=not problems, problems=problems)
        if problems:
            raise VerificationError("verification failed: " + "; ".join(problems))
        if self.watch:
            watch_error_text(ctx, self.plan.target.esm_uuid, self.watch)
            journal.record("watch", ok=True, seconds=self.watch)
        self.verified()

    def on_enter_done(self, _event: EventData) -> None:
        if self.mode == "apply" and self.plan is not None and self.plan.changes and not self.handed_off:
            self._journal().record("finish", status="done")

    def on_error(self, event: EventData) -> None:
        self.error = event.error
        log.info("run.failed", state=self.state, error=str(event.error))
        if self.state in ("applying", "verifying"):
            self._journal().record("finish", status="failed", error=str(event.error))
        if self.state != "failed":
            self.fail()

    # -- driver -----------------------------------------------------------------------------------
    def _journal(self) -> Journal:
        return self.journal_factory(self.settings.state_dir, self.run_id)

    def _context(self, plan_id: str | None = None, *, fresh: bool = False) -> ApplyContext:
        if plan_id is None:
            assert self.plan is not None
            plan_id = self.plan.plan_id
        return ApplyContext(
            aws=self.aws.fresh() if fresh else self.aws,
            settings=self.settings,
            plan_id=plan_id,
            run_id=self.run_id,
            progress=self.reporter.progress,
        )

    def execute(self) -> Run:
        """Drive the run to a terminal state; raise what stopped it, if anything did."""
        try:
            self.start()
        finally:
            handed = self.handed_off and self.state == "done"  # the caller finishes the run
            if self.locked and self.facts is not None and not handed:
                lock.release(self.aws, self.facts.esm.arn, self.run_id)
        if self.state == "failed" and self.error is not None:
            raise self.error
        if self.state == "refused":
            raise ApprovalRefused("plan not approved; nothing was changed")
        if self.state != "done":
            raise RemediateError(f"run stopped in state {self.state}")
        return self


def mermaid() -> str:
    """The run's state diagram in Mermaid, read from a live machine built like every run's."""
    machine = Machine(states=STATES, transitions=TRANSITIONS, initial="pending", auto_transitions=False)
    lines = ["stateDiagram-v2", "    [*] --> pending"]
    for name, event in machine.events.items():
        for source, transitions in event.transitions.items():
            if name == "fail" and source in TERMINAL:
                continue
            lines.extend(f"    {source} --> {t.dest}: {name}" for t in transitions)
    lines.extend(f"    {state} --> [*]" for state in TERMINAL)
    return "\n".join(lines) + "\n"
