"""Issue 25 checks on `Facts` fixtures: retries, timeouts and filters, each rule from its page in
`remediate.health` (the expected values are the documented ones, written out here)."""

from __future__ import annotations

from remediate import filters
from remediate.checks.flow import filters_admit, function_timeout, retries_bounded
from remediate.facts import Facts, FunctionHealth
from tests.factories import facts as healthy_msk_facts


def with_health(facts: Facts, **values: object) -> Facts:
    fh = FunctionHealth(function_arn=facts.esm.function_arn, window_minutes=15, **values)  # type: ignore[arg-type]
    return facts.model_copy(update={"function_health": fh})


def esm(facts: Facts, **values: object) -> Facts:
    return facts.model_copy(update={"esm": facts.esm.model_copy(update=values)})


def test_errors_with_default_retries_are_unbounded() -> None:
    facts = with_health(healthy_msk_facts(), invocations=10.0, errors=1.0, offset_lag=(5.0, 9.0))
    [found] = retries_bounded(facts)
    assert found.code == "RETRIES_UNBOUNDED"
    assert "OffsetLag 5 -> 9" in found.summary


def test_a_bound_a_record_age_or_a_destination_ends_the_retries() -> None:
    facts = with_health(healthy_msk_facts(), invocations=10.0, errors=1.0, offset_lag=(5.0, 9.0))
    assert retries_bounded(esm(facts, maximum_retry_attempts=0)) == []
    assert retries_bounded(esm(facts, maximum_record_age=60)) == []
    # With a destination, Lambda applies at most 10 retries to infinite ones.
    assert retries_bounded(esm(facts, on_failure_destination="arn:aws:sqs:us-east-1:1:q")) == []


def test_no_errors_no_finding() -> None:
    assert retries_bounded(with_health(healthy_msk_facts(), invocations=10.0, errors=0.0)) == []


def test_errors_without_growing_lag_are_retries_that_succeed() -> None:
    facts = with_health(healthy_msk_facts(), invocations=95.0, errors=1.0)
    assert retries_bounded(facts) == []  # no OffsetLag data
    assert retries_bounded(with_health(healthy_msk_facts(), errors=1.0, offset_lag=(9.0, 9.0))) == []


def _timeout(facts: Facts, seconds: int) -> Facts:
    assert facts.function is not None
    return facts.model_copy(update={"function": facts.function.model_copy(update={"timeout": seconds})})


def test_timeout_over_fourteen_minutes() -> None:
    [found] = function_timeout(_timeout(healthy_msk_facts(), 841))
    assert found.evidence.model_dump()["cause"] == "over-kafka-limit"
    assert function_timeout(_timeout(healthy_msk_facts(), 840)) == []


def test_timeout_within_ten_percent_of_the_longest_run() -> None:
    facts = _timeout(with_health(healthy_msk_facts(), duration_max_ms=54_000.0), 60)
    [found] = function_timeout(facts)
    assert found.evidence.model_dump()["cause"] == "near-observed-duration"
    assert function_timeout(_timeout(with_health(healthy_msk_facts(), duration_max_ms=53_999.0), 60)) == []


def test_filter_grammar() -> None:
    assert filters.pattern_problems('{"value": {"a": [{"prefix": "x"}, 1, null]}}') == []
    assert filters.pattern_problems("{") == ["the pattern is not JSON"]
    assert filters.pattern_problems('{"value": {"a": "x"}}') == ["value.a is not an array of values"]
    assert filters.pattern_problems('{"value": {"a": [{"startsWith": "x"}]}}') == [
        "value.a uses startsWith, not a filter operator"
    ]
    assert filters.pattern_problems('{"value": ["' + "x" * 4096 + '"]}')[0].endswith("over 4096")
    assert filters.off_value_keys('{"key": ["a"], "value": {"a": ["b"]}}') == ["key"]
    assert filters.off_value_keys('{"$or": [{"value": {"a": ["b"]}}, {"headers": ["c"]}]}') == ["headers"]


def test_an_invalid_pattern_is_reported_with_its_problem() -> None:
    facts = esm(healthy_msk_facts(), filter_patterns=('{"value": {"a": "x"}}',))
    [found] = filters_admit(facts)
    assert found.evidence.model_dump()["cause"] == "invalid-pattern"


def test_all_filtered_out_needs_filters_and_polled_records() -> None:
    facts = with_health(healthy_msk_facts(), polled_events=5.0, filtered_out_events=5.0)
    assert filters_admit(facts) == []  # no filters: nothing was filtered out by this mapping's filters
    facts = esm(facts, filter_patterns=('{"value": {"a": ["b"]}}',))
    [found] = filters_admit(facts)
    assert found.evidence.model_dump()["cause"] == "all-filtered-out"
    partial = with_health(facts, polled_events=5.0, filtered_out_events=4.0)
    assert filters_admit(partial) == []


def _lag(facts: Facts, values: tuple[float, ...], since: str | None = None) -> Facts:
    times = tuple(f"2026-12-06 20:{10 + i:02d}:00+00:00" for i in range(len(values)))
    facts = with_health(facts, offset_lag=values, offset_lag_times=times)
    return esm(facts, last_modified=since)


def test_lag_must_grow_without_falling_for_longer_than_scaling_reacts() -> None:
    from remediate.checks.flow import lag_keeps_up

    base = healthy_msk_facts()
    [found] = lag_keeps_up(_lag(base, (1.0, 2.0, 2.0, 5.0)))
    assert found.evidence.model_dump()["cause"] == "on-demand"
    assert lag_keeps_up(_lag(base, (1.0, 2.0, 5.0))) == []  # 3 minutes: scaling may still react
    assert lag_keeps_up(_lag(base, (1.0, 3.0, 2.0, 5.0))) == []  # it fell once: pollers caught up
    assert lag_keeps_up(_lag(base, (4.0, 4.0, 4.0, 4.0))) == []  # flat is not growing
    # Only the minutes after the mapping's last change count.
    assert lag_keeps_up(_lag(base, (1.0, 2.0, 3.0, 4.0, 5.0), since="2026-12-06 20:11:30+00:00")) == []
