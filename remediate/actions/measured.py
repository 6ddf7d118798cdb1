"""The manual step for a finding proven by `remediate probe` (issue 22).

A measurement says which step fails on which broker and what Kafka answered, not which setting to change:
the inferred findings of the same code (when configuration explains it) carry the changes; this step
says what was measured and how to measure again after the fix.
"""

from __future__ import annotations

from pydantic import BaseModel

from remediate import measured
from remediate.actions.base import Draft, ManualAction, register
from remediate.evidence import MeasuredFailure
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import ManualStep


@register
class MeasuredSteps(ManualAction):
    """Fix what the probe measured, then measure again."""

    name = "measured_steps"
    accepts = (MeasuredFailure,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        if not isinstance(ev, MeasuredFailure):  # the same code inferred from configuration
            return []
        text = (
            f"Measured by probe run {ev.run_id}: {measured.describe(ev.measured)}. Fix it, then measure "
            f"again: `remediate probe --esm {facts.esm.uuid}`."
        )
        return [ManualStep(because=(finding.code,), text=text)]
