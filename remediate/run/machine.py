"""The run: one small, fixed `transitions` state machine from an ESM id to done or failed.

    pending -> observing -> diagnosed -> planned -> awaiting_approval -> applying -> verifying -> done
                                   \\-> done      \\-> done             \\-> refused
    any state -> failed (on an exception, routed by `on_exception`)

Each state's work runs in its `on_enter_*` callback, which then fires the next trigger; the machine
is queued, so that chain runs iteratively. `diagnose` and `plan` modes stop early. Entry points (CLI,
SSM handlers, demo) only construct a `Run`, give it a `Reporter`, call `execute()` and read the
result, so all three drive exactly the same engine.

An apply run's safety, in the order it happens: the state directory is checked writable and the
journals it continues are claimed (flock) before anything else; the ESM lock is taken right after
observing, renewed while the run lives, and released at the end whatever happens (a failed release
is a warning, never hiding the run's own outcome). Between two changes the run stops when asked
(`Stop`, set by the entry point on SIGINT/SIGTERM, which this module never handles itself) or when
its lock was taken away; the change in flight always finishes and is journaled first. A resumed run
re-plans from fresh facts and refuses (StalePlanError) a pending change whose starting point moved;
creates interrupted mid-call are found again by their run-id tag. A rollback records itself in the
journal of the run it undoes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from transitions import EventData, Machine

from remediate import actions, plan_check, restart_mark
from remediate.actions import ApplyContext
from remediate.actions.esm import watch_error_text
from remediate.aws import Aws
from remediate.config import Settings
from remediate.errors import (
    ApprovalRefused,
    InputError,
    Interrupted,
    LockedError,
    PlanFileError,
    RemediateError,
    StalePlanError,
    VerificationError,
)
from remediate.facts import ESM_DISABLED_STATES, Facts
from remediate.findings import Finding
from remediate.log import bind_run, get_logger
from remediate.observe.reads import observe, parse_esm_id
from remediate.plan import Change, Plan, resolve_refs
from remediate.run import journal as journals
from remediate.run import reliance, subset
from remediate.run.denial import denial
from remediate.run.dependants import VPC_SHARED
from remediate.run.engine import build_plan, diagnose
from remediate.run.journal import Journal, RunRecord, new_run_id
from remediate.run.lock import EsmLock, esm_arn
from remediate.run.playbook import Playbook
from remediate.run.rollback import rollback_plan
from remediate.run.vpc_lock import VpcLock

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


class Stop:
    """A request to stop at the next safe point, set by an entry point (the CLI on SIGINT/SIGTERM).

    `armed` says the run has begun changing things: from then on a request is honoured between two
    AWS mutations, never inside one; before, the entry point may simply abort, nothing being changed.
    """

    def __init__(self) -> None:
        self.signum = 0
        self.armed = False

    @property
    def requested(self) -> bool:
        return self.signum != 0

    def request(self, signum: int) -> None:
        self.signum = self.signum or signum


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
    targets: frozenset[str] = frozenset()  # issue 23: `apply --target ID`: only these changes (subset.py)
    run_id: str = field(default_factory=new_run_id)
    stop: Stop = field(default_factory=Stop)
    state: str = "pending"
    facts: Facts | None = None
    findings: list[Finding] = field(default_factory=list)
    plan: Plan | None = None
    applied_ids: list[str] = field(default_factory=list)
    skipped_ids: list[str] = field(default_factory=list)
    in_flight: str | None = None  # the change whose AWS call was under way when the run stopped
    refused: list[str] = field(default_factory=list)  # a rollback's changes it would not undo
    denied: tuple[str, str] | None = None  # issue 23: (change id, the call AWS refused with a 403)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: BaseException | None = None
    warnings: list[str] = field(default_factory=list)
    lock: EsmLock | None = None
    vpc_lock: VpcLock | None = None  # issue 23 (N6): the lock on the VPC's shared endpoint work
    journal: Journal | None = None
    original: Journal | None = None  # a rollback's: the journal of the run it undoes
    restarted_by: str | None = None  # the run whose restart left the ESM disabled (its mark is on it)
    # -- SSM hooks (remediate/ssm/handlers.py); the CLI leaves both at their defaults ----------------
    # Where the journal is kept: a step's temp directory is lost when the step ends, so SSM mirrors it.
    journal_factory: Callable[[Path, str], Journal] = Journal
    # Asked before each change; False hands that change and the rest to the caller (the runbook
    # restarts the ESM with native steps), which then also owns the lock and the `finish` record.
    handoff: Callable[[Change], bool] | None = None
    handed_off: list[str] = field(default_factory=list)
    manual_when: Callable[[Facts, Change], str | None] | None = None  # issue 27: engine.build_plan's

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

    # -- what the run did -------------------------------------------------------------------------
    @property
    def changed(self) -> bool:
        """Whether this run (with what it resumed) has changed anything in AWS, or may have."""
        earlier = bool(self.resume and (self.resume.outputs or self.resume.in_flight))
        return bool(self.applied_ids or self.in_flight or earlier)

    @property
    def journaled_id(self) -> str | None:
        """The run id a script may keep: None while no journal exists for it (a run that failed
        before its first record, or had nothing to do), since `rollback`/`runs show` could not find
        it (issue 23, operator-hunt N7)."""
        journal = self.journal or self._journal()
        return self.run_id if journal.exists() else None

    @property
    def undoes(self) -> str | None:
        """The run this one rolls back, if it is a rollback (started as one, or resumed)."""
        if self.rollback_of is not None:
            return self.rollback_of[0]
        return self.resume.rollback_of if self.resume is not None else None

    # -- conditions (real booleans) ---------------------------------------------------------------
    def wants_plan(self, _event: EventData) -> bool:
        return self.mode in ("plan", "apply")

    def wants_apply(self, _event: EventData) -> bool:
        return self.mode == "apply" and self.plan is not None and bool(self.plan.changes)

    # -- state work -------------------------------------------------------------------------------
    def on_enter_observing(self, _event: EventData) -> None:
        bind_run(self.run_id, parse_esm_id(self.esm_id))
        if self.mode == "apply":
            self._prepare_journals()
            # Locked before observing, like Terraform's state lock before its refresh: the facts the
            # plan is made from, the plan shown for approval and what is applied all come from a
            # time no other run was changing the ESM.
            uuid, arn = esm_arn(self.aws, self.esm_id)
            self.lock = EsmLock(self.aws, arn, uuid, self.run_id, self.settings.lock_ttl)
            # A tag write in flight must land before the lock can be given back, or it would land
            # after: an interrupt here is deferred until the lock is taken (or refused).
            self.stop.armed = True
            try:
                self.lock.acquire()
            finally:
                self.stop.armed = False
            self.lock.start_renewing()
            if self.stop.requested:
                raise Interrupted("stopped on request before planning", self.stop.signum)
        self.facts = observe(
            self.aws,
            self.esm_id,
            max_workers=self.settings.max_workers,
            probe_timeout=self.probe_timeout,
            metrics_minutes=self.settings.metrics_window,
            stray_disabled_days=self.settings.stray_disabled_days,  # issue 25
            monitoring_asked=self.settings.monitoring_fix or "monitoring" in self.fix_with,
        )
        log.info("run.observed", fingerprint=self.facts.fingerprint(), aws_calls=self.aws.calls)
        self._read_restart_mark()
        self.observed()

    def _read_restart_mark(self) -> None:
        """A restart's mark, read with the lock: on a disabled ESM whose last change it explains, the
        ESM was left off by that run (this run enables it); on any other, a finished restart's: removed."""
        mark = restart_mark.parse(self.lock.tags) if self.lock is not None else None
        if mark is None or self.lock is None or self.facts is None:
            return
        window = self.settings.esm_transition_timeout + 60.0  # the disable waits, then is retried
        if self.facts.esm.state in ESM_DISABLED_STATES:
            if mark.explains(self.facts.esm.last_modified, window):
                self.restarted_by = mark.run_id
        else:  # Enabled, or on its way there: the restart's enable landed
            with contextlib.suppress(RemediateError):  # tidying; the next run tries again
                restart_mark.clear(self.aws, self.lock.esm_arn)

    def _prepare_journals(self) -> None:
        """Before the lock and before any question: the state directory must take journals, a plan
        must name only known actions, and the journals this run continues are claimed (flock), so
        two processes on this machine never write one run."""
        journals.check_writable(self.settings.state_dir)
        if self.saved_plan is not None:
            plan_check.forbidden(self.saved_plan, f"plan {self.saved_plan.plan_id}")
        for plan in (self.saved_plan, self.resume.plan if self.resume else None):
            unknown = sorted({c.action for c in (plan.changes if plan else ())} - set(actions.registry()))
            if plan is not None and unknown:
                raise PlanFileError(f"plan {plan.plan_id} names an unknown action {unknown[0]!r}")
        if self.resume is not None:
            self.journal = self._journal().open()
            self.resume = RunRecord(self.journal)  # read again, now that no one else can write it
            check_resumable(self.run_id, self.resume)
        undoes = self.undoes
        if undoes is not None:
            self.original = Journal(self.settings.state_dir, undoes).open()

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
            ctx = self._context(f"rollback-{self.run_id}")
            self.plan, self.refused = rollback_plan(*self.rollback_of, self.facts, ctx)
        elif self.resume is not None:
            # Resuming continues a plan that was approved and partly applied: the state has changed
            # by design, so the fingerprint cannot be compared; instead a fresh plan must agree with
            # every change still to make about where it starts from.
            if self.resume.rollback_of is None:  # a rollback's changes are undos, not a fresh plan's
                self._refuse_drift(self.resume)
            self.plan = self.resume.plan
        elif self.saved_plan is not None:
            if self.saved_plan.fingerprint != self.facts.fingerprint():
                raise StalePlanError(
                    f"plan {self.saved_plan.plan_id} is stale: ESM {self.facts.esm.uuid} or its "
                    "resources changed since it was made; run `remediate plan` again"
                )
            self._refuse_foreign(self.saved_plan)
            self.plan = self.saved_plan
        else:
            if self.restarted_by is not None:
                self.reporter.progress(
                    f"ESM {self.facts.esm.uuid} was disabled by remediate run {self.restarted_by}, which "
                    "stopped between the disable and the enable of its restart: this run enables it again"
                )
            self.plan = build_plan(
                self.facts,
                self.findings,
                self.playbooks,
                enable_user_disabled=self.enable_user_disabled or self.restarted_by is not None,
                fix_with=self.fix_with,
                manual_when=self.manual_when,
            )
            # issue 23 (N18): an alternative no finding offers changes nothing; say so
            found = {f.playbook for f in self.findings}
            offered = {name for pb in self.playbooks if pb.name in found for name in pb.alternatives}
            self.warnings.extend(
                f"--fix-with {name} is ignored: no finding of ESM {self.facts.esm.uuid} offers it"
                for name in sorted(self.fix_with - offered)
            )
        if self.targets and self.rollback_of is None and self.resume is None:
            full = self.plan
            self.plan = subset.narrow(full, self.targets)
            needed = subset.dependencies(full, self.plan, self.targets)
            self.reporter.progress(
                f"--target: {len(self.plan.changes)} of the plan's {len(full.changes)} change(s)"
                + (f" ({', '.join(needed)}: needed by a target)" if needed else "")
            )
        if self.mode == "apply" and self.plan.changes:
            self.ask()
        else:
            self.finish()

    def _refuse_foreign(self, saved: Plan) -> None:
        """PlanFileError unless the saved plan's changes are exactly what the engine plans now from the
        same state (with no alternative fix, or with the one the file chose): a file edited by hand,
        digest recomputed, approves nothing the engine would not plan."""
        assert self.facts is not None
        chosen = {name for pb in self.playbooks for name in pb.alternatives}
        fresh = [
            build_plan(
                self.facts,
                self.findings,
                self.playbooks,
                enable_user_disabled=self.enable_user_disabled or self.restarted_by is not None or enable,
                fix_with=fix,
            )
            for fix in [frozenset[str](), *(frozenset({name}) for name in sorted(chosen))]
            for enable in (False, True)
        ]
        differences = [plan_check.difference(saved, plan) for plan in fresh]
        if all(differences):
            raise PlanFileError(
                f"plan {saved.plan_id} is refused: {differences[0]}; it approves only what remediate "
                "plans, so run `remediate plan --out FILE` again"
            )

    def _refuse_drift(self, record: RunRecord) -> None:
        """StalePlanError if a change the run has not finished would now start from another state
        than the one it was planned from (someone changed it after the run stopped)."""
        assert self.facts is not None
        fresh = build_plan(self.facts, self.findings, self.playbooks)

        def slot(c: Change) -> tuple[str, str, tuple[str, ...]]:
            return (c.action, c.resource, tuple(sorted(c.after)))

        now = {slot(c): c for c in fresh.changes}
        for change in record.plan.changes:
            if change.id in record.done or change.before is None:
                continue
            if not actions.get(change.action).before_is_setting:
                continue
            current = now.get(slot(change))
            if current is not None and current.before != change.before:
                raise StalePlanError(
                    f"run {self.run_id} cannot be resumed: {change.id} {change.action} on "
                    f"{change.resource} was planned from {change.before}, but it is now "
                    f"{current.before} (changed after the run stopped); nothing was changed. "
                    f"Undo what the run did with `remediate rollback {self.run_id}`, or plan again"
                )

    def on_enter_awaiting_approval(self, _event: EventData) -> None:
        assert self.plan is not None
        approved = self.saved_plan is not None or self.resume is not None or self.reporter.approve(self.plan)
        if approved:
            self.approve()
        else:
            self.refuse()

    def on_enter_applying(self, _event: EventData) -> None:
        assert self.plan is not None
        self.stop.armed = True
        journal = self.journal = self.journal or self._journal()
        ctx = self._context()
        done: set[str] = set()
        if self.resume is None:
            extra: dict[str, Any] = {}
            if self.rollback_of is not None:
                extra = {"rollback_of": self.rollback_of[0], "refused": self.refused}
            journal.record("run", esm_uuid=self.plan.target.esm_uuid, plan=self.plan.to_json(), **extra)
        else:
            journal.record("resume", done=sorted(self.resume.done))
            ctx.outputs.update(self.resume.outputs)
            self.outputs.update(self.resume.outputs)
            done = self.resume.done
        self._refuse_moved(ctx, done | (self.resume.in_flight if self.resume is not None else set()))
        self._lock_vpc(done)
        if self.original is not None:
            self.original.record("rollback", by=self.run_id, status="started")
        for change in self.plan.changes:
            if change.id in done:
                continue
            self._safe_point(change.id)
            if self.handoff is not None and not self.handoff(change):
                self.handed_off = [c.id for c in self.plan.changes[self.plan.changes.index(change) :]]
                journal.record("handoff", change_ids=self.handed_off)
                break
            action = actions.get(change.action)
            resolved = change.model_copy(update={"after": resolve_refs(change.after, ctx.outputs)})
            if action.is_done(resolved, ctx):
                # In effect already: this run's own doing if it made it before it stopped (a change
                # whose answer was never journaled: a create found by its run-id tag, or a write the
                # run had begun), else someone else's.
                mine = self._landed(action, resolved, ctx)
                if mine is not None:
                    self._made(journal, ctx, change, mine, found=True)
                    continue
                journal.record("skip", change_id=change.id, reason="already in effect")
                self.skipped_ids.append(change.id)
                self.reporter.progress(f"{change.id} {change.action} {change.resource}: already in effect")
                continue
            moved = action.moved(resolved, ctx)
            if moved is not None:
                raise StalePlanError(
                    f"stopped before {change.id} {change.action} on {change.resource}: {moved}; it changed "
                    "after the plan was made, and is left as it is. Plan again"
                )
            journal.record(
                "begin",
                change_id=change.id,
                action=change.action,
                resource=change.resource,
                request=resolved.after,
            )
            self.in_flight = change.id
            answered = self.aws.writes_answered()
            try:
                outputs = action.apply(resolved, ctx)
            except BaseException as exc:
                journal.record("error", change_id=change.id, error=f"{type(exc).__name__}: {exc}")
                refusal = denial(exc)
                if refusal is not None:
                    self.denied = (change.id, refusal)
                    if self.aws.writes_answered() == answered:  # refused before it changed anything
                        self.in_flight = None
                raise
            self._made(journal, ctx, change, outputs)
            self.in_flight = None
        self._safe_point("verification")
        self.applied()

    def _lock_vpc(self, done: set[str]) -> None:
        """Before the first change: take the lock on the VPC's endpoint work if this run makes
        endpoints or their group there (issue 23, N6); another run's lock refuses this one in one line,
        with nothing changed, instead of AWS's private-DNS conflict half way."""
        assert self.plan is not None
        vpcs = {
            str(c.after["VpcId"])
            for c in self.plan.changes
            if c.id not in done and c.action in VPC_SHARED and c.kind == "create" and c.after.get("VpcId")
        }
        if not vpcs or self.lock is None:
            return
        self.vpc_lock = VpcLock(self.aws, min(vpcs), self.lock.esm_uuid, self.run_id, self.settings.lock_ttl)
        self.vpc_lock.acquire()
        self.vpc_lock.start_renewing()

    def _refuse_moved(self, ctx: ApplyContext, settled: set[str]) -> None:
        """Before the first write: StalePlanError if any change still to make would start from another
        state than the plan's `before` (a colleague's change while the question waited, or after the run
        stopped): the run then changes nothing more, instead of stopping half way at that change."""
        assert self.plan is not None
        for change in self.plan.changes:
            if change.id in settled or not actions.get(change.action).before_is_setting:
                continue
            moved = actions.get(change.action).moved(change, ctx)
            if moved is not None:
                undo = f", or undo the run with `remediate rollback {self.run_id}`" if self.changed else ""
                raise StalePlanError(
                    f"{change.id} {change.action} on {change.resource}: {moved}; it changed after the plan "
                    f"was made, and this run changed nothing more. Plan again{undo}"
                )

    def _landed(self, action: actions.Action, change: Change, ctx: ApplyContext) -> dict[str, Any] | None:
        if self.resume is None:
            return None
        if action.finds_own:
            return action.found(change, ctx)
        return action.landed(change) if change.id in self.resume.in_flight else None

    def _made(
        self,
        journal: Journal,
        ctx: ApplyContext,
        change: Change,
        outputs: dict[str, Any],
        found: bool = False,
    ) -> None:
        ctx.outputs[change.id] = outputs
        self.outputs[change.id] = outputs
        self.applied_ids.append(change.id)
        journal.record("end", change_id=change.id, outputs=outputs, **({"found": True} if found else {}))
        how = "found, made by this run before it stopped" if found else "done"
        self.reporter.progress(f"{change.id} {change.action} {change.resource}: {how}")

    def _safe_point(self, before: str) -> None:
        """Between two changes: stop here if the operator asked, or if the lock was taken away."""
        if self.stop.requested:
            raise Interrupted(f"stopped on request before {before}", self.stop.signum)
        if self.lock is not None:
            self.lock.check()  # issue 23: `remediate unlock` stops the holder before its next write
        if self.lock is not None and self.lock.lost.is_set():
            how = "expired (it could not be renewed)" if self.lock.expired else "was removed"
            raise LockedError(
                f"the lock on ESM {self.lock.esm_uuid} {how} while this run held it"
                f"{'' if self.lock.expired else ' (remediate unlock?)'}; stopped before {before}"
            )

    def on_enter_verifying(self, _event: EventData) -> None:
        assert self.plan is not None
        ctx = self._context(fresh=True)
        ctx.outputs.update(self.outputs)
        problems = []
        for change in self.plan.changes:
            if change.id in self.handed_off:
                continue
            made = change.model_copy(update={"after": resolve_refs(change.after, self.outputs)})
            problem = actions.get(change.action).verify(made, ctx)
            if problem:
                problems.append(f"{change.id}: {problem}")
        journal = self.journal or self._journal()
        journal.record("verify", ok=not problems, problems=problems)
        if problems:
            raise VerificationError("verification failed: " + "; ".join(problems))
        if self.watch:
            watch_error_text(ctx, self.plan.target.esm_uuid, self.watch)
            journal.record("watch", ok=True, seconds=self.watch)
        self.verified()

    def on_enter_done(self, _event: EventData) -> None:
        if self.mode == "apply" and self.plan is not None and self.plan.changes and not self.handed_off:
            assert self.journal is not None
            self.journal.record("finish", status="done")
            self._record_rollback("done")
            # issue 23 (N2b/c): what other runs made and this verified fix relies on is tagged so, and
            # a rollback's run relies on nothing any more
            network = self.facts.network if self.facts is not None else None
            vpc = network.vpc.id if network is not None and network.vpc is not None else None
            if self.rollback_of is None:
                reliance.record(self.aws, vpc, self.run_id, self.plan.target.esm_uuid)
            else:
                reliance.release(self.aws, vpc, self.rollback_of[0])

    def _record_rollback(self, status: str) -> None:
        """A rollback tells the journal of the run it undoes how far it got, so a second rollback
        knows what is already undone and `--resume` of the undone run is refused."""
        if self.original is None:
            return
        finished = set(self.applied_ids) | set(self.skipped_ids)
        if self.resume is not None:
            finished |= self.resume.done
        refused = self.refused or (self.resume.refused if self.resume is not None else [])
        self.original.record(
            "rollback",
            by=self.run_id,
            status=status,
            undone=sorted(cid.removeprefix("undo-") for cid in finished),
            refused=sorted(refused),
        )

    def on_error(self, event: EventData) -> None:
        self.error = event.error
        log.info("run.failed", state=self.state, error=str(event.error))
        if self.state in ("applying", "verifying"):
            self._finish_failed(event.error)
        if self.state != "failed":
            self.fail()

    def _finish_failed(self, error: BaseException | None) -> None:
        status = "interrupted" if isinstance(error, Interrupted | KeyboardInterrupt) else "failed"
        journal = self.journal or self._journal()
        with contextlib.suppress(RemediateError):  # the journal's own failure must not hide the error
            journal.record("finish", status=status, error=str(error) or type(error).__name__)
            self._record_rollback(status)

    # -- driver -----------------------------------------------------------------------------------
    def _journal(self) -> Journal:
        """A new handle on this run's journal (SSM's factory mirrors it to S3)."""
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
            fingerprint=self.plan.fingerprint if self.plan is not None else "",
            cancelled=lambda: self.stop.signum,
        )

    def execute(self) -> Run:
        """Drive the run to a terminal state; raise what stopped it, if anything did."""
        try:
            self.start()
        except BaseException as exc:  # a second Ctrl-C: no safe point was waited for
            if self.state in ("applying", "verifying"):
                self._finish_failed(exc)
            raise
        finally:
            self._release()
        if self.state == "failed" and self.error is not None:
            raise self.error
        if self.state == "refused":
            raise ApprovalRefused("plan not approved; nothing was changed")
        if self.state != "done":
            raise RemediateError(f"run stopped in state {self.state}")
        return self

    def _release(self) -> None:
        """Release the lock and the journals; a failure here is reported, never raised over the
        run's own outcome (its result, or the error that stopped it)."""
        self.stop.armed = True  # the untag in flight finishes even if a signal comes now
        if self.lock is not None and self.handed_off and self.state == "done":
            self.lock.hand_over()  # the runbook's finalize or cleanup step releases it
        elif self.lock is not None:
            try:
                self.lock.release()
            except RemediateError as exc:
                esm = self.lock.esm_uuid
                self.warnings.append(
                    f"could not release the lock on ESM {esm} ({exc}); it expires by itself, "
                    f"or remove it with: remediate unlock --esm {esm}"
                )
        if self.vpc_lock is not None:
            try:
                self.vpc_lock.release()
            except RemediateError as exc:
                self.warnings.append(
                    f"could not release the lock on VPC {self.vpc_lock.vpc_id}'s endpoint work ({exc}); "
                    "it expires by itself"
                )
        for journal in (self.journal, self.original):
            if journal is not None:
                journal.close()


def check_resumable(run_id: str, record: RunRecord) -> None:
    """InputError unless the journal's run can be continued."""
    if record.rollbacks:
        by = record.rollbacks[-1].get("by", "?")
        raise InputError(f"run {run_id} was rolled back by run {by}; there is nothing to resume")
    if record.finished:
        raise InputError(f"run {run_id} already finished; nothing to resume")


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
