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
    aws: Aws
    settings: Settings
    plan_id: str
    run_id: str
    progress: Callable[[str], None] = lambda _msg: None
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def client_token(self, change: Change) -> str:
        """Idempotency token for create calls: the same plan and change always send the same one."""
        return hashlib.sha256(f"{self.plan_id}/{change.id}".encode()).hexdigest()[:32]


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
