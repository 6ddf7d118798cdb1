"""Issue 25 items 5, 7 and 8: the new checks on `Facts` fixtures (pure; the rules' pages are in
docs/aws-rules.md)."""

from __future__ import annotations

from remediate.checks.consumer_group import consumer_group_reset
from remediate.checks.monitoring import monitoring_missing
from remediate.checks.strays import disabled_stray
from remediate.facts import Alarm, Facts, FormerGroup, Monitoring
from tests.factories import facts as healthy_msk_facts

OLD = "0f8fad5b-d9cb-469f-a165-70867728950e"


def _esm(facts: Facts, **values: object) -> Facts:
    return facts.model_copy(update={"esm": facts.esm.model_copy(update=values)})


def _disabled(days_ago_iso: str, threshold: int) -> Facts:
    facts = _esm(healthy_msk_facts(), state="Disabled", last_modified=days_ago_iso)
    return facts.model_copy(
        update={"observed_at": "2026-12-06T12:00:00+00:00", "stray_disabled_days": threshold}
    )


def test_disabled_longer_than_the_setting_is_a_stray() -> None:
    [found] = disabled_stray(_disabled("2026-10-27T12:00:00+00:00", 30))  # 40 days
    assert (found.code, found.evidence.days) == ("STRAY_MAPPING", 40.0)  # type: ignore[attr-defined]
    assert disabled_stray(_disabled("2026-11-26T12:00:00+00:00", 30)) == []  # 10 days
    assert disabled_stray(_disabled("2026-10-27T12:00:00+00:00", 0)) == []  # the setting at 0: never
    enabled = _disabled("2026-10-27T12:00:00+00:00", 30)
    assert disabled_stray(_esm(enabled, state="Enabled")) == []


def test_a_former_group_and_the_starting_position_say_what_was_lost() -> None:
    base = healthy_msk_facts()
    facts = base.model_copy(update={"former_groups": (FormerGroup(group=OLD, topic=base.esm.topics[0]),)})
    cases = {
        "LATEST": "skipped",
        "TRIM_HORIZON": "re-read",
        "AT_TIMESTAMP": "from-timestamp",
        None: "unknown",
    }
    for position, consequence in cases.items():
        [found] = consumer_group_reset(_esm(facts, starting_position=position))
        assert found.evidence.consequence == consequence  # type: ignore[attr-defined]
    # A configured group is the mapping's choice; no group left behind, no finding.
    assert consumer_group_reset(_esm(facts, consumer_group_id=OLD)) == []
    assert consumer_group_reset(base.model_copy(update={"former_groups": ()})) == []


def test_monitoring_is_a_finding_only_when_read() -> None:
    facts = healthy_msk_facts()
    assert monitoring_missing(facts) == []  # not asked: nothing read, nothing said
    fn = facts.function.name if facts.function else "f"
    watched = Monitoring(
        function_name=fn, alarms=(Alarm(name="a", metric="OffsetLag"), Alarm(name="b", metric="Errors"))
    )
    asked = facts.model_copy(update={"monitoring": watched})
    [found] = monitoring_missing(asked)
    assert found.evidence.missing == ("esm-metrics",)  # type: ignore[attr-defined]
    complete = _esm(asked, metrics_config=("EventCount", "ErrorCount", "KafkaMetrics"))
    assert monitoring_missing(complete) == []
