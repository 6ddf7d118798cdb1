"""The manual steps for a connection error nothing explains yet (issue 21): how to find the cause.

No API call fixes an unexplained error, and the article's batch size 1 with a restart is for brokers in
measured trouble; the connection-unexplained playbook offers it only as the named alternative
`--fix-with batch-size-1`.
"""

from __future__ import annotations

from pydantic import BaseModel

from remediate.actions.base import Draft, ManualAction, register
from remediate.evidence import ConnectionUnexplained
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import ManualStep


@register
class ConnectionErrorSteps(ManualAction):
    """One manual step per way of finding the cause, in the order that costs least."""

    name = "connection_error_steps"
    accepts = (ConnectionUnexplained,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, ConnectionUnexplained)
        return [ManualStep(because=(finding.code,), text=step) for step in ev.next_steps]
