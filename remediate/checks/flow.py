"""Checks for a trigger that connects and still does not deliver (issue 25): a failing record retried
forever, and a function timeout that cannot hold a batch.

Both read only what observation already has: the mapping's retry settings (GetEventSourceMapping), the
function's Timeout (GetFunctionConfiguration) and the function's metrics over the window (the one
GetMetricData of `FunctionHealth`, which carries Duration and OffsetLag too). The rules and their pages are
in `remediate.health`.
"""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Literal

from remediate import filters, health
from remediate.checks.base import check
from remediate.evidence import (
    FiltersDropRecords,
    FunctionTimeoutRisk,
    OffsetLagGrowing,
    RetriesUnbounded,
    StrayMapping,
)
from remediate.facts import Facts
from remediate.findings import Finding


def retries_are_unbounded(facts: Facts) -> bool:
    """Lambda retries a failed Kafka batch until it succeeds: both limits at -1 and no on-failure
    destination (with a destination, Lambda caps infinite retries at 10)."""
    esm = facts.esm
    return (
        esm.maximum_retry_attempts == health.RETRY_DEFAULT
        and esm.maximum_record_age == health.RETRY_DEFAULT
        and not esm.on_failure_destination
    )


@check("retries_bounded", "RETRIES_UNBOUNDED")
def retries_bounded(facts: Facts) -> list[Finding]:
    """Errors in the window on a mapping that never gives up on a batch, while the lag grew (its last value
    above its first): one poison record blocks its partition and the lag behind it grows. Errors with lag
    that does not grow are retries that succeed, not a blocked partition (the tool's own rule)."""
    fh, fn = facts.function_health, facts.function
    if fh is None or fn is None or not fh.errors or not retries_are_unbounded(facts):
        return []
    esm = facts.esm
    lag = fh.offset_lag
    if len(lag) < 2 or lag[-1] <= lag[0]:
        return []
    trend = f"; OffsetLag {lag[0]:g} -> {lag[-1]:g}"
    return [
        Finding(
            code="RETRIES_UNBOUNDED",
            summary=f"function {fn.name}: {fh.errors:g} of {fh.invocations or 0:g} invocation(s) failed "
            f"in the last {fh.window_minutes} min and ESM {esm.uuid} retries a failed batch forever "
            "(MaximumRetryAttempts -1, MaximumRecordAgeInSeconds -1, no on-failure destination)" + trend,
            evidence=RetriesUnbounded(
                function=fn.arn,
                window_minutes=fh.window_minutes,
                errors=fh.errors,
                invocations=fh.invocations or 0.0,
                offset_lag=lag,
                maximum_retry_attempts=esm.maximum_retry_attempts,
                maximum_record_age=esm.maximum_record_age,
                bisect_on_error=esm.bisect_on_error,
                report_batch_item_failures=esm.report_batch_item_failures,
                on_failure_destination=esm.on_failure_destination,
                provisioned_mode=esm.provisioned_pollers,
            ),
        )
    ]


@check("function_timeout", "FUNCTION_TIMEOUT_RISK")
def function_timeout(facts: Facts) -> list[Finding]:
    """A timeout over Kafka's 14-minute cap, or one the longest observed invocation comes close to."""
    fn, fh = facts.function, facts.function_health
    if fn is None or fn.timeout is None:
        return []
    longest = fh.duration_max_ms if fh is not None else None
    cause: str | None = None
    if fn.timeout > health.KAFKA_MAX_TIMEOUT_S:
        cause = "over-kafka-limit"
        why = f"timeout {fn.timeout} s is over the {health.KAFKA_MAX_TIMEOUT_S} s Kafka mappings support"
    elif longest is not None and longest >= health.TIMEOUT_NEAR * fn.timeout * 1000:
        cause = "near-observed-duration"
        why = (
            f"its longest invocation in the window took {longest / 1000:g} s of its {fn.timeout} s timeout: "
            "a slower batch times out and is retried whole"
        )
    if cause is None:
        return []
    return [
        Finding(
            code="FUNCTION_TIMEOUT_RISK",
            summary=f"function {fn.name}: {why}",
            evidence=FunctionTimeoutRisk(
                function=fn.arn,
                cause=cause,  # type: ignore[arg-type]
                timeout_seconds=fn.timeout,
                limit_seconds=health.KAFKA_MAX_TIMEOUT_S,
                duration_max_ms=longest,
                window_minutes=fh.window_minutes if fh is not None else None,
                batch_size=facts.esm.batch_size,
            ),
        )
    ]


@check("filters_admit", "FILTERS_DROP_RECORDS")
def filters_admit(facts: Facts) -> list[Finding]:
    """Patterns outside Lambda's grammar or off the `value` key match nothing; a window in which the
    filters dropped every polled record (FilteredOutEventCount = PolledEventCount) drops everything. Lambda
    commits the offsets of filtered records, so what they dropped is not read again."""
    patterns = facts.esm.filter_patterns
    if not patterns:
        return []
    name = f"ESM {facts.esm.uuid}"
    found: list[Finding] = []
    invalid = {p: filters.pattern_problems(p) for p in patterns}
    bad = tuple(p for p, why in invalid.items() if why)
    if bad:
        problems = tuple(w for p in bad for w in invalid[p])
        found.append(
            Finding(
                code="FILTERS_DROP_RECORDS",
                summary=f"{name}: {len(bad)} filter pattern(s) are not valid filter rules "
                f"({'; '.join(problems)})",
                evidence=FiltersDropRecords(cause="invalid-pattern", patterns=bad, problems=problems),
            )
        )
    off = {p: filters.off_value_keys(p) for p in patterns if p not in bad}
    off_value = tuple(p for p, keys in off.items() if keys)
    if off_value:
        keys = tuple(sorted({k for p in off_value for k in off[p]}))
        found.append(
            Finding(
                code="FILTERS_DROP_RECORDS",
                summary=f"{name}: filter pattern(s) on {', '.join(keys)} match no record: Kafka mappings "
                f"filter only on `{health.KAFKA_FILTER_KEY}`",
                evidence=FiltersDropRecords(
                    cause="off-value-key", patterns=off_value, problems=tuple(f"filters on {k}" for k in keys)
                ),
            )
        )
    fh = facts.function_health
    if fh is not None and fh.polled_events and fh.filtered_out_events == fh.polled_events:
        found.append(
            Finding(
                code="FILTERS_DROP_RECORDS",
                summary=f"{name}: its filters dropped all {fh.polled_events:g} record(s) polled in the last "
                f"{fh.window_minutes} min (FilteredOutEventCount = PolledEventCount)",
                evidence=FiltersDropRecords(
                    cause="all-filtered-out",
                    patterns=patterns,
                    polled_events=fh.polled_events,
                    filtered_out_events=fh.filtered_out_events,
                    window_minutes=fh.window_minutes,
                ),
            )
        )
    return found


def _after(moment: str | None, points: tuple[str, ...], values: tuple[float, ...]) -> tuple[float, ...]:
    """The values measured after `moment` (the mapping's LastModified): lag from before its last change
    says nothing about its present configuration."""
    if moment is None:
        return values
    try:
        since = datetime.fromisoformat(moment)
        return tuple(v for t, v in zip(points, values, strict=True) if datetime.fromisoformat(t) > since)
    except ValueError:
        return values


@check("lag_keeps_up", "OFFSET_LAG_GROWING")
def lag_keeps_up(facts: Facts) -> list[Finding]:
    """OffsetLag that never fell for longer than on-demand scaling takes to react, and ended higher than it
    began: the pollers do not keep up (in provisioned mode, perhaps held at MaximumPollers)."""
    fh, esm = facts.function_health, facts.esm
    if fh is None:
        return []
    lag = _after(esm.last_modified, fh.offset_lag_times, fh.offset_lag)
    if len(lag) < health.LAG_GROWING_MINUTES or lag[-1] <= lag[0]:
        return []
    if any(b < a for a, b in pairwise(lag)):
        return []
    cause = "provisioned-maximum" if esm.provisioned_pollers else "on-demand"
    pollers = (
        f"at most {esm.maximum_pollers} provisioned poller(s)" if esm.maximum_pollers else "on-demand mode"
    )
    return [
        Finding(
            code="OFFSET_LAG_GROWING",
            summary=f"ESM {esm.uuid}: OffsetLag grew from {lag[0]:g} to {lag[-1]:g} over {len(lag)} min "
            f"without falling ({pollers})",
            evidence=OffsetLagGrowing(
                cause=cause,  # type: ignore[arg-type]
                offset_lag=lag,
                minutes=len(lag),
                minimum_pollers=esm.minimum_pollers,
                maximum_pollers=esm.maximum_pollers,
                batch_size=esm.batch_size,
            ),
        )
    ]


@check("source_exists", "STRAY_MAPPING")
def source_exists(facts: Facts) -> list[Finding]:
    """A mapping left behind by what it joins: its MSK cluster DescribeClusterV2 does not find
    (NotFoundException; a cross-account source is a VPC connection, read otherwise), or its function
    GetFunction does not find (ResourceNotFoundException: Lambda keeps a mapping after its function is
    deleted, and it can never invoke anything again)."""
    esm = facts.esm

    def gone(what: str, error: str) -> bool:
        return any(u.what == what and u.reason.startswith(error) for u in facts.unchecked)

    stray: list[tuple[Literal["cluster-deleted", "function-deleted"], str]] = []
    cluster = esm.event_source_arn if esm.source_kind == "msk" and facts.cluster is None else None
    if cluster and gone(f"MSK cluster {cluster}", "NotFoundException"):
        stray.append(("cluster-deleted", cluster))
    if facts.function is None and gone(f"function {esm.function_arn}", "ResourceNotFoundException"):
        stray.append(("function-deleted", esm.function_arn))
    return [
        Finding(
            code="STRAY_MAPPING",
            summary=f"ESM {esm.uuid} ({esm.state}) {'invokes' if cause == 'function-deleted' else 'polls'} "
            f"{source}, which no longer exists",
            evidence=StrayMapping(cause=cause, source=source, state=esm.state),
        )
        for cause, source in stray
    ]
