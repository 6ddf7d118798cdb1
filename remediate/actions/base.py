"""Action base classes and registry: each action plans, applies, verifies and declares its permissions.

An action is registered by name (the plan's `action` field). It turns a finding into drafts of
changes (`plan`, pure), checks whether a change is already in effect (`is_done`, a fresh read), makes
it (`apply`, idempotent: safe to call again after a crash), and reads it back (`verify`). The IAM
actions it calls are declared next to the code that calls them, so the tool's own least-privilege
policy is derived from the registry rather than written by hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, NoReturn

from pydantic import BaseModel, ConfigDict

from remediate.aws import Aws
from remediate.config import Settings
from remediate.errors import Interrupted
from remediate.evidence import Evidence
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Draft:
    """A change before the plan numbers it; `key` lets a later draft refer to its outputs."""

    change: Change
    key: str = ""


@dataclass
class ApplyContext:
    """What an action's apply, verify and undo see of the run.

    `fingerprint` is that of the facts the plan was computed from (a resumed run: of the journal's
    plan), so two runs that planned the same change from the same state send the same idempotency
    token. `outputs` are the journaled outputs of the run's changes so far. `cancelled` tells a long
    wait (verification, `--watch`) that the operator asked the run to stop.
    """

    aws: Aws
    settings: Settings
    plan_id: str
    run_id: str
    progress: Callable[[str], None] = lambda _msg: None
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    fingerprint: str = ""
    cancelled: Callable[[], int] = lambda: 0  # the signal that asked the run to stop, or 0

    def client_token(self, change: Change, salt: str = "") -> str:
        """Idempotency token for create calls: the same for every run that planned this change from
        the same state (a retry, a resume, or a concurrent run that got past the lock), so AWS makes
        the resource once. `salt` makes a fresh one when that token was already spent on a resource
        since deleted (EC2 answers a reused token with the original, even deleted, resource)."""
        seed = f"{self.fingerprint or self.plan_id}/{change.key()}/{salt}"
        return hashlib.sha256(seed.encode()).hexdigest()[:32]

    def check_cancelled(self) -> None:
        """Raise Interrupted if the operator asked the run to stop (long waits call this)."""
        signum = self.cancelled()
        if signum:
            raise Interrupted("stopped on request while waiting", signum)


class Action:
    name: ClassVar[str]
    order: ClassVar[int]  # position in a plan: network before policies before the ESM restart
    permissions: ClassVar[tuple[str, ...]]  # IAM actions that apply/verify call
    Params: ClassVar[type[BaseModel]] = NoParams
    # The evidence types whose findings this action can plan from; `Evidence` means it reads none of
    # the evidence (it plans from `Facts` alone). Playbook validation refuses an action listed for a
    # finding whose evidence it cannot read.
    accepts: ClassVar[tuple[type[Evidence], ...]] = (Evidence,)
    # For actions that create a resource: the output naming its id, and `created: True` in the
    # outputs when this run made it; the default `inverse` then deletes exactly that resource.
    created_id: ClassVar[str] = ""
    # A resumed run refuses a pending change whose `before` no longer matches what a fresh plan
    # says (someone changed it after the crash). False for a `before` that is not a setting but a
    # state that moves by itself (an ESM's State while it settles).
    before_is_setting: ClassVar[bool] = True
    # Whether `found` can tell this action's resources made by a run from anyone else's (the
    # run-id tag they carry from their creation).
    finds_own: ClassVar[bool] = False
    irreversible: ClassVar[bool] = False  # issue 23 (N13): no one can undo it, by hand or otherwise

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        raise NotImplementedError

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        raise NotImplementedError

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        raise NotImplementedError

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        """None when the change is in effect, else what is wrong, in one line.

        Rollback uses it too: a change that no longer verifies was altered since the run made it,
        and is then left alone rather than undone over someone else's work.
        """
        raise NotImplementedError

    def landed(self, change: Change) -> dict[str, Any]:
        """The outputs of a change the run began, whose answer was never journaled, and which is now
        found in effect: the run's own write landed before it stopped. For an action that cannot
        tell its own resources by their run-id tag (`finds_own` False), that is the only evidence."""
        return {"previous": change.before}

    def found(self, change: Change, ctx: ApplyContext) -> dict[str, Any] | None:
        """The outputs of `change` if this run (`ctx.run_id`) already made it, found by the run-id tag
        every created resource carries from its creation; None if it did not, or cannot be tagged.

        Resume and rollback ask this of a create whose journal line says it was begun but never
        ended (the process died, or the answer was lost, during the call): the resource may exist."""
        return None

    def moved(self, change: Change, ctx: ApplyContext) -> str | None:
        """Right before the write: None if the target still is as the plan's `before` says, else what it
        is now, in a few words (the run then stops instead of overwriting someone's change and
        journaling a wrong previous value). The default says nothing: the action's `apply` checks, or its
        `before` is not a setting."""
        return None

    def undo_interrupted(self, change: Change, ctx: ApplyContext) -> Change | None:
        """For a rollback: the change that puts back what `change`, begun but never ended (the run died
        or lost the answer during its call) and not in effect, left half done; None if it left nothing.
        The default, NotImplementedError, means only finishing the run can tell: the rollback refuses it."""
        raise NotImplementedError

    def drift(self, change: Change, outputs: dict[str, Any], ctx: ApplyContext) -> str | None:
        """Before a rollback undoes `change`: None if it is still as the run left it, else what was
        changed since, in one line (the rollback then refuses it). A resource already gone is not
        drift: its undo is simply already in effect. The default reads it back with `verify`."""
        return self.verify(change, ctx)

    def ready_to_delete(self, change: Change, ctx: ApplyContext, leaving: frozenset[str]) -> Change | str:
        """For a rollback's delete change: the change to make (possibly noting what it must wait
        for), or, if something besides `leaving` (what the same rollback removes first) still uses
        the resource, what does, in a few words: the rollback then refuses it."""
        return change

    def releases(self, change: Change, ctx: ApplyContext) -> set[str]:
        """Ids of what a delete change removes (the resource, and the rules it names)."""
        return {change.resource, *change.after.get("SecurityGroupRuleIds", [])}

    def inverse(self, change: Change, outputs: dict[str, Any]) -> Change | None:
        """The change that undoes `change`, given the outputs its apply journaled (pure).

        The default restores an update's previous values by swapping `before` and `after`, which is
        right for actions whose `before` records every attribute they set. For actions that create a
        resource (`created_id`) it is a `kind="delete"` change on the created id, which their `apply`,
        `is_done` and `verify` then handle. None means there is nothing to undo.
        """
        if change.kind == "update" and change.before is not None:
            return change.model_copy(
                update={"id": f"undo-{change.id}", "before": change.after, "after": change.before}
            )
        if change.kind == "create" and self.created_id:
            if not outputs.get("created"):
                return None  # the run found the resource (made by a concurrent run or a user), not made it
            made = str(outputs[self.created_id])
            return Change(
                id=f"undo-{change.id}",
                action=self.name,
                resource=made,
                kind="delete",
                before=change.after,
                after={self.created_id: made},
            )
        raise NotImplementedError(f"{self.name} cannot undo a {change.kind} change")


class ManualAction(Action):
    """An action no API can carry out (a certificate to reissue, Kafka ACLs to grant, a secret value
    to repair): its `plan` returns only `ManualStep`s, so no plan ever holds a change of it."""

    order = 70
    permissions = ()

    def _never(self, change: Change) -> NoReturn:
        raise AssertionError(f"{self.name} plans manual steps only, yet a plan holds change {change.id}")

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        self._never(change)

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        self._never(change)

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        self._never(change)


_REGISTRY: dict[str, Action] = {}


def register(cls: type[Action]) -> type[Action]:
    if cls.name in _REGISTRY:
        raise ValueError(f"action {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls()
    return cls


def registered() -> dict[str, Action]:
    return dict(_REGISTRY)


def get(name: str) -> Action:
    return _REGISTRY[name]
