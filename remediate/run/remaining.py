"""Issue 23, item 6: whether a verified apply still leaves its mapping broken ("partly fixed", exit 6).

The plan's manual steps alone cannot say it: some are advisory (an on-failure destination to add, more
partitions to create) and the changes made the finding go, while others block the fix (an endpoint
quota that kept one endpoint from being made). So after verify the mapping is observed and diagnosed
again, as `plan` would right now, and the findings the manual steps answer that are still found are
what remains. A mapping that cannot be read again keeps the steps' findings as remaining: the tool
does not claim a fix it could not check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from remediate.errors import RemediateError
from remediate.log import get_logger
from remediate.observe.reads import observe
from remediate.run.engine import diagnose

if TYPE_CHECKING:
    from remediate.run.machine import Run

log = get_logger(__name__)


def still_open(run: Run) -> list[str]:
    """The findings a manual step of the run's plan answers that a fresh diagnosis still finds, sorted.
    Empty for a plan of manual steps only: nothing was fixed, and its summary already says
    `No changes (manual steps only).`"""
    assert run.plan is not None
    answered = {code for step in run.plan.manual_steps for code in step.because}
    if not run.plan.changes or not answered:
        return []
    try:
        facts = observe(
            run.aws.fresh(),
            run.plan.target.esm_uuid,
            max_workers=run.settings.max_workers,
            metrics_minutes=run.settings.metrics_window,
        )
    except RemediateError as exc:
        log.warning("remaining.unchecked", error=str(exc))
        return sorted(answered)
    return sorted(answered & {f.code for f in diagnose(facts, run.playbooks)})
