"""`apply --target CHANGE_ID`: apply a subset of a plan (issue 23 item 8, Terraform's `-target`).

The subset is the changes named and, transitively, the changes whose outputs they use (`${c1.GroupId}`:
an endpoint needs the security group made for it), so a targeted change never refers to something
not made. A name the plan does not have is refused in one line listing the plan's change ids. The
narrowed plan is what is shown for approval, journaled, applied and verified; the rest of the plan
is left for a later `apply` (a fresh plan then proposes it again).
"""

from __future__ import annotations

from collections.abc import Iterable

from remediate.errors import InputError
from remediate.plan import Plan, referenced_changes


def narrow(plan: Plan, targets: Iterable[str]) -> Plan:
    """The plan with only the targeted changes and those they depend on, in the plan's order."""
    wanted = {t.strip() for t in targets}
    known = [c.id for c in plan.changes]
    unknown = sorted(wanted - set(known))
    if unknown:
        listed = ", ".join(known) if known else "none"
        raise InputError(
            f"--target {unknown[0]}: plan {plan.plan_id} has no change {unknown[0]} (its changes: {listed})"
        )
    by_id = {c.id: c for c in plan.changes}
    keep: set[str] = set()
    todo = list(wanted)
    while todo:
        cid = todo.pop()
        if cid in keep or cid not in by_id:
            continue
        keep.add(cid)
        todo.extend(referenced_changes(by_id[cid].after) - keep)
    return plan.model_copy(update={"changes": tuple(c for c in plan.changes if c.id in keep)})


def dependencies(plan: Plan, narrowed: Plan, targets: Iterable[str]) -> list[str]:
    """The changes the subset carries that were not named: what the named ones need."""
    named = {t.strip() for t in targets}
    return [c.id for c in narrowed.changes if c.id not in named]
