"""Rollback: undo exactly what one run did, newest first, and nothing else.

The run's journal is the only source of truth about what it did: each finished change and the
outputs its apply recorded (created ids, previous values). A change that no longer verifies was
altered since the run made it; it is refused (a manual step says so) rather than undone over someone
else's work. A change the run skipped (already in effect) was not the run's doing and is not touched.
"""

from __future__ import annotations

from remediate import actions
from remediate.actions import ApplyContext
from remediate.facts import Facts
from remediate.plan import PLAN_SCHEMA, Change, ManualStep, Plan, new_plan_id, resolve_refs, utc_now
from remediate.run.journal import RunRecord


def rollback_plan(run_id: str, progress: RunRecord, facts: Facts, ctx: ApplyContext) -> Plan:
    """The plan that undoes `run_id`; reads each changed resource (through `verify`) to detect drift."""
    changes: list[Change] = []
    manual: list[ManualStep] = []
    for change in reversed(progress.plan.changes):
        if change.id not in progress.outputs:
            if change.id in progress.begun - progress.done:
                manual.append(
                    ManualStep(
                        because=change.because,
                        text=f"{change.id} {change.action} on {change.resource} was interrupted; finish "
                        f"the run first (remediate apply --resume {run_id}), then roll it back",
                    )
                )
            continue
        outputs = progress.outputs[change.id]
        action = actions.get(change.action)
        made = change.model_copy(update={"after": resolve_refs(change.after, progress.outputs)})
        drift = action.verify(made, ctx)
        if drift is not None:
            manual.append(
                ManualStep(
                    because=change.because,
                    text=f"not rolled back: {change.id} {change.action} on {change.resource} changed "
                    f"since run {run_id} ({drift}); check it by hand",
                )
            )
            continue
        try:
            inverse = action.inverse(made, outputs)
        except NotImplementedError as exc:
            manual.append(ManualStep(because=change.because, text=f"undo {change.id} by hand: {exc}"))
            continue
        if inverse is not None:
            changes.append(inverse)
    return Plan(
        schema=PLAN_SCHEMA,
        plan_id=new_plan_id(),
        created_at=utc_now(),
        target=progress.plan.target,
        changes=tuple(changes),
        manual_steps=tuple(manual),
        fingerprint=facts.fingerprint(),
    )
