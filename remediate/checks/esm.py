"""Checks on the mapping itself: its state and the error text AWS reports."""

from __future__ import annotations

from remediate.checks.base import check
from remediate.error_text import hints_for
from remediate.evidence import BrokerTimeout, CouldNotCheck, EsmDisabled
from remediate.facts import ESM_DISABLED_STATES, Facts
from remediate.findings import Finding


@check("broker_timeout", "BROKER_TIMEOUT")
def broker_timeout(facts: Facts) -> list[Finding]:
    """The ESM reports a connection error or timeout: brokers may be overloaded (disk full, CPU 100%).

    This is a conclusion by elimination: the broker-timeout playbook suppresses it whenever a
    network, endpoint or authentication finding explains the same text better.
    """
    esm = facts.esm
    hints = hints_for(esm.last_processing_result, esm.state_transition_reason)
    connection = [h for h in hints if h.kind == "connection"]
    if not connection:
        return []
    return [
        Finding(
            code="BROKER_TIMEOUT",
            summary=(
                "the ESM reports a connection error and nothing on the network path blocks it: "
                "the brokers are likely overloaded; poll with batch size "
                "1 and restart the pollers"
            ),
            evidence=BrokerTimeout(
                error_text=connection[0].text,
                source=connection[0].source,
                batch_size=esm.batch_size,
                state=esm.state,
            ),
        )
    ]


@check("esm_disabled", "ESM_DISABLED")
def esm_disabled(facts: Facts) -> list[Finding]:
    """The mapping is disabled (by a user or by AWS after repeated failures)."""
    esm = facts.esm
    if esm.state not in ESM_DISABLED_STATES:
        return []
    return [
        Finding(
            code="ESM_DISABLED",
            summary=f"the ESM is {esm.state} ({esm.state_transition_reason or 'no reason given'})",
            evidence=EsmDisabled(state=esm.state, state_transition_reason=esm.state_transition_reason),
        )
    ]


@check("unchecked_reads", "COULD_NOT_CHECK")
def unchecked_reads(facts: Facts) -> list[Finding]:
    """Every read the caller was denied becomes a finding, so a gap in coverage is never silent."""
    return [
        Finding(
            code="COULD_NOT_CHECK",
            summary=f"could not check {u.what}: {u.reason}",
            evidence=CouldNotCheck(what=u.what, reason=u.reason),
        )
        for u in facts.unchecked
    ]
