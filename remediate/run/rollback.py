"""Rollback: undo exactly what one run did, newest first, and nothing else.

The run's journal is the only source of truth about what it did: each finished change and the
outputs its apply recorded (created ids, previous values). What it may also have made, a create
whose call was interrupted before its answer was journaled, is found by the run-id tag the
resource carries from its creation. Then, for each change to undo:

- a change the run skipped (already in effect), or a resource it found rather than made, was not
  its doing and is not touched;
- a change altered since the run made it (`drift`: a rule added to a group it created, an endpoint
  policy replaced, a setting changed) is refused, as a manual step;
- a delete that something else still needs (a security group another endpoint, network interface
  or rule uses) is refused, as a manual step, instead of being tried against AWS's
  DependencyViolation;
- an endpoint, an endpoint security group or a role's inline policy that another live mapping
  relies on (same cluster or VPC, same role: `dependants`) is kept, and the plan says which mapping
  keeps it; so is an endpoint or its group that a later run recorded it relies on (`reliance`);
- changes an earlier rollback already undid are left out, and so is a change whose undo is found
  already in effect (an earlier rollback was killed after that undo landed);
- a change the run began but never finished is put back when its action knows how
  (`undo_interrupted`: a restart stopped between disable and enable is enabled again), else refused.

The refused changes are returned with the plan; the CLI exits EXIT_PARTIAL when there are any.
"""

from __future__ import annotations

from typing import Any

from remediate import actions
from remediate.actions import ApplyContext
from remediate.facts import Facts
from remediate.plan import PLAN_SCHEMA, Change, ManualStep, Plan, new_plan_id, resolve_refs, utc_now
from remediate.run import later_runs, reliance
from remediate.run.dependants import QUEUE_SHARED, ROLE_SHARED, VPC_SHARED, Dependants
from remediate.run.journal import RunRecord


def rollback_plan(run_id: str, record: RunRecord, facts: Facts, ctx: ApplyContext) -> tuple[Plan, list[str]]:
    """The plan that undoes `run_id`, and the ids of the changes it refuses to undo."""
    # Reads about the run's own resources are made as that run: its id finds its run-id tags.
    seen = ApplyContext(
        aws=ctx.aws,
        settings=ctx.settings,
        plan_id=record.plan.plan_id,
        run_id=run_id,
        progress=ctx.progress,
        outputs=dict(record.outputs),
        fingerprint=record.plan.fingerprint,
    )
    changes: list[Change] = []
    manual: list[ManualStep] = []
    refused: list[str] = []
    leaving: set[str] = set()  # ids of what this rollback removes before the next (older) change
    kept: list[ManualStep] = []  # shared resources another mapping relies on (issue 23)
    dependants = Dependants(ctx.aws, record.plan.target)

    def refuse(change: Change, text: str) -> None:
        manual.append(ManualStep(because=change.because, text=text))
        refused.append(change.id)

    for change in reversed(record.plan.changes):
        if change.id in record.undone:
            continue
        action = actions.get(change.action)
        outputs: dict[str, Any] | None = record.outputs.get(change.id)
        try:
            made = change.model_copy(update={"after": resolve_refs(change.after, seen.outputs)})
        except KeyError:  # it refers to an output of a change that was never made: nor was it
            continue
        if outputs is None:
            if action.finds_own:
                outputs = action.found(made, seen)
                if outputs is None:
                    continue  # the create never took effect
                seen.outputs[change.id] = outputs
            elif change.id in record.in_flight and action.verify(made, seen) is None:
                outputs = action.landed(made)  # its write landed before the run stopped
            elif change.id in record.in_flight:
                try:
                    recovery = action.undo_interrupted(made, seen)
                except NotImplementedError:
                    refuse(
                        change,
                        f"{change.id} {change.action} on {change.resource} was interrupted; finish the run "
                        f"first (remediate apply --resume {run_id}), then roll it back",
                    )
                    continue
                if recovery is not None:  # e.g. a restart stopped between its disable and its enable
                    changes.append(recovery)
                continue
            else:
                continue
        try:
            inverse = action.inverse(made, outputs)
        except NotImplementedError as exc:
            if action.irreversible:  # issue 23 (operator-hunt N13): not "by hand", not "changed since"
                refuse(change, f"{change.id} {change.action} on {change.resource} cannot be undone: {exc}")
            else:
                refuse(change, f"undo {change.id} by hand: {exc}")
            continue
        if inverse is None:
            continue
        if action.is_done(inverse, seen):
            continue  # already undone (by an earlier, interrupted rollback): nothing left to undo
        drift = action.drift(made, outputs, seen)
        if drift is not None:
            refuse(
                change,
                f"not rolled back: {change.id} {change.action} on {change.resource} changed since run "
                f"{run_id} ({drift}); check it by hand",
            )
            continue
        runs: list[str] = []
        if inverse.kind == "delete" and change.action in VPC_SHARED:
            # issue 23 (N2b/c): a later run of this or another mapping verified its fix on it
            runs = list(reliance.relied_on_by(ctx.aws, change.action, inverse.resource, run_id))
        elif inverse.kind == "delete" and change.action in ROLE_SHARED:
            # issue 23 (item 2): a later verified run of this mapping relies on the statement
            runs = list(later_runs.relying_runs(ctx.settings.state_dir, run_id, record.esm_uuid))
        if runs:
            kept.append(
                ManualStep(
                    because=change.because,
                    text=f"kept: {change.id} {change.action} {inverse.resource}, which run "
                    f"{', '.join(runs)} relies on: it was in effect when that run verified its fix; "
                    "roll that run back first to remove it",
                )
            )
            continue
        if inverse.kind == "delete" and change.action in VPC_SHARED | ROLE_SHARED | QUEUE_SHARED:
            others = dependants.relying_on(change, made.after.get("VpcId"))
            if others:
                kept.append(
                    ManualStep(
                        because=change.because,
                        text=f"kept: {change.id} {change.action} {inverse.resource}, which ESM "
                        f"{', '.join(others)} also relies on (shared by the VPC, the role, or as its "
                        "on-failure destination); it is left in place while that mapping exists",
                    )
                )
                continue
        if inverse.kind == "delete":
            ready = action.ready_to_delete(inverse, seen, frozenset(leaving))
            if isinstance(ready, str):
                refuse(
                    change,
                    f"not rolled back: {change.id} {change.action} {inverse.resource} is still used by "
                    f"{ready}; remove that use by hand, then run `remediate rollback {run_id}` again",
                )
                continue
            inverse = ready
            leaving |= action.releases(inverse, seen)
        changes.append(inverse)
    plan = Plan(
        schema=PLAN_SCHEMA,
        plan_id=new_plan_id(),
        created_at=utc_now(),
        target=record.plan.target,
        changes=tuple(changes),
        manual_steps=(*kept, *manual),
        fingerprint=facts.fingerprint(),
    )
    return plan, refused
