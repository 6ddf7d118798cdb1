"""Strays a scan reports beyond deleted sources (issue 25, item 7): a mapping disabled for longer than the
`stray_disabled_days` setting.

How long: GetEventSourceMapping's LastModified is "the date that the event source mapping was last updated
or that its state changed" (Lambda API reference, EventSourceMappingConfiguration), so on a Disabled mapping
it is the latest moment it can have been disabled: the time since it is a lower bound of how long it has
been off. StateTransitionReason says who disabled it (a person or Lambda). Nothing is read for this.
"""

from __future__ import annotations

from datetime import datetime

from remediate.checks.base import check
from remediate.evidence import StrayDisabled
from remediate.facts import ESM_DISABLED_STATES, Facts
from remediate.findings import Finding

_DAY_S = 86_400


def disabled_days(facts: Facts) -> float | None:
    """Days since the disabled mapping's LastModified, at the time the facts were read; None when it is
    not disabled or a time is missing."""
    esm = facts.esm
    if esm.state not in ESM_DISABLED_STATES or not esm.last_modified or not facts.observed_at:
        return None
    try:
        since = datetime.fromisoformat(esm.last_modified)
        now = datetime.fromisoformat(facts.observed_at)
        return (now - since).total_seconds() / _DAY_S
    except (ValueError, TypeError):  # a naive and an aware time, or a format AWS does not use
        return None


@check("disabled_stray", "STRAY_MAPPING")
def disabled_stray(facts: Facts) -> list[Finding]:
    """A mapping off for longer than the setting: left behind rather than paused."""
    threshold = facts.stray_disabled_days
    days = disabled_days(facts)
    if not threshold or days is None or days < threshold:
        return []
    esm = facts.esm
    assert esm.last_modified is not None
    return [
        Finding(
            code="STRAY_MAPPING",
            summary=f"ESM {esm.uuid} has been {esm.state} for {days:.0f} days (since {esm.last_modified}; "
            f"stray_disabled_days is {threshold})",
            evidence=StrayDisabled(
                cause="disabled-long",
                state=esm.state,
                disabled_by=esm.changed_by,
                disabled_since=esm.last_modified,
                days=round(days, 1),
                threshold_days=threshold,
            ),
        )
    ]
