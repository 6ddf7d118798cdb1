"""The CloudWatch side of observation: GetMetricData requests for a cluster's brokers and a function, and
their answers as `BrokerHealth` and `FunctionHealth`.

Pure request and response shaping; `reads.py` makes the requests, once per cluster and once per function
for a whole scan (its shared-piece cache), chained to the reads they need; a scan merges them into calls
of up to 500 queries (`metric_batch.py`, issue 26).

Every query asks for one-minute data points (Maximum for gauges, Sum for counts) and the worst value is
taken here, so CPU is the worst minute of CpuUser + CpuSystem rather than the sum of two unrelated
maxima, and no metric math is needed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from remediate import health
from remediate.facts import BrokerHealth, BrokerStats, FunctionHealth

PERMISSIONS = ("cloudwatch:GetMetricData", "kafka:ListNodes", "lambda:GetFunctionConcurrency")
"""The IAM actions of these reads, declared for `remediate iam-policy`."""

MAX_QUERIES = 500
"""CloudWatch API reference, GetMetricData: as many as 500 MetricDataQuery structures per request (an
MSK cluster of 60 brokers, the KRaft maximum, needs 7 x 60 + 2 = 422)."""
MAX_DATAPOINTS = 100_800
"""Same page: a single GetMetricData call can return up to 100,800 data points; the period grows with
the window so that one call holds the whole answer."""

_STAT = {
    "ConnectionCount": "Maximum",
    "UnderReplicatedPartitions": "Maximum",
    "ActiveControllerCount": "Minimum",
    "OfflinePartitionsCount": "Maximum",
}


def window(minutes: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last `minutes` up to the start of the current minute (a minute still filling would read low)."""
    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    return end - timedelta(minutes=minutes), end


def _period(minutes: int, queries: int) -> int:
    return 60 * max(1, math.ceil(minutes * queries / MAX_DATAPOINTS))


def _query(
    qid: str, namespace: str, metric: str, dims: dict[str, str], stat: str, period: int
) -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            },
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def broker_ids(nodes: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    """The broker ids of ListNodes' NodeInfoList, as the "Broker ID" dimension spells them ("1", not 1.0:
    ListNodes returns BrokerNodeInfo.BrokerId as a number)."""
    ids = []
    for node in nodes:
        raw = (node.get("BrokerNodeInfo") or {}).get("BrokerId")
        if raw is not None:
            ids.append(str(int(float(raw))))
    return tuple(sorted(set(ids), key=int))


def cluster_name(arn: str) -> str:
    """The cluster's name from its ARN (`...:cluster/NAME/UUID`): the "Cluster Name" dimension."""
    resource = arn.split(":", 5)[-1].split("/")
    return resource[1] if len(resource) > 1 else resource[0]


def broker_request(
    arn: str, brokers: Sequence[str], minutes: int, now: datetime | None = None
) -> dict[str, Any]:
    """GetMetricData parameters for every broker metric of every broker and the cluster's own metrics."""
    name = cluster_name(arn)
    count = len(brokers) * len(health.BROKER_METRICS) + len(health.CLUSTER_METRICS)
    period = _period(minutes, count)
    queries = [
        _query(
            f"b{i}_{metric.lower()}",
            health.MSK_NAMESPACE,
            metric,
            {"Cluster Name": name, "Broker ID": broker},
            _STAT.get(metric, "Maximum"),
            period,
        )
        for i, broker in enumerate(brokers)
        for metric in health.BROKER_METRICS
    ]
    queries += [
        _query(
            f"c_{metric.lower()}",
            health.MSK_NAMESPACE,
            metric,
            {"Cluster Name": name},
            _STAT[metric],
            period,
        )
        for metric in health.CLUSTER_METRICS
    ]
    start, end = window(minutes, now)
    return {"MetricDataQueries": queries[:MAX_QUERIES], "StartTime": start, "EndTime": end}


def _series(results: Iterable[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Query id -> {timestamp: value}, merged across pages."""
    out: dict[str, dict[str, float]] = {}
    for r in results:
        points = out.setdefault(str(r["Id"]), {})
        for ts, value in zip(r.get("Timestamps", []), r.get("Values", []), strict=False):
            points[str(ts)] = float(value)
    return out


def _max(points: dict[str, float] | None) -> float | None:
    return max(points.values()) if points else None


def broker_health(
    arn: str, brokers: Sequence[str], minutes: int, results: Iterable[dict[str, Any]]
) -> BrokerHealth:
    """GetMetricData's MetricDataResults as the worst minute of each broker's metrics."""
    series = _series(results)
    stats = []
    for i, broker in enumerate(brokers):
        got = {m: series.get(f"b{i}_{m.lower()}") for m in health.BROKER_METRICS}
        user, system = got["CpuUser"] or {}, got["CpuSystem"] or {}
        cpu = [user.get(t, 0.0) + system.get(t, 0.0) for t in set(user) | set(system)]
        stats.append(
            BrokerStats(
                broker_id=broker,
                cpu_percent=round(max(cpu), 1) if cpu else None,
                disk_used_percent=_max(got["KafkaDataLogsDiskUsed"]),
                memory_used_bytes=_max(got["MemoryUsed"]),
                heap_after_gc_percent=_max(got["HeapMemoryAfterGC"]),
                connections=_max(got["ConnectionCount"]),
                under_replicated_partitions=_max(got["UnderReplicatedPartitions"]),
            )
        )
    controllers = series.get("c_activecontrollercount")
    return BrokerHealth(
        cluster_arn=arn,
        window_minutes=minutes,
        brokers=tuple(stats),
        active_controllers=min(controllers.values()) if controllers else None,
        offline_partitions=_max(series.get("c_offlinepartitionscount")),
        read_at=datetime.now(UTC).timestamp(),
    )


def function_name(arn: str) -> str:
    """The function's name from its ARN (a qualifier after it is dropped): the FunctionName dimension,
    which aggregates every version and alias."""
    parts = arn.split(":")
    return parts[6] if len(parts) > 6 and parts[5] == "function" else arn


def function_request(
    arn: str, minutes: int, now: datetime | None = None, esm_uuid: str | None = None
) -> dict[str, Any]:
    """The counts (Sum) and, issue 25, the gauges Duration and OffsetLag (Maximum) in one request; with
    `esm_uuid` (a mapping that publishes EventCount) that mapping's event counts too."""
    named = {"FunctionName": function_name(arn)}
    metrics_ = [(m, "Sum", named) for m in health.FUNCTION_METRICS]
    metrics_ += [(m, "Maximum", named) for m in health.FUNCTION_GAUGES]
    if esm_uuid:
        metrics_ += [(m, "Sum", {"EventSourceMappingUUID": esm_uuid}) for m in health.ESM_EVENT_METRICS]
    period = _period(minutes, len(metrics_))
    queries = [
        _query(f"f_{metric.lower()}", health.LAMBDA_NAMESPACE, metric, dims, stat, period)
        for metric, stat, dims in metrics_
    ]
    start, end = window(minutes, now)
    return {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}


def function_health(
    arn: str,
    minutes: int,
    concurrency: dict[str, Any] | None,
    results: Iterable[dict[str, Any]] | None,
    unread: tuple[str, ...] = (),
    esm_uuid: str | None = None,
) -> FunctionHealth:
    """GetFunctionConcurrency and GetMetricData answers (either None when it was denied) as sums over the
    window; a metric with no data point in the window counts 0."""
    series = _series(results) if results is not None else {}

    def total(metric: str) -> float | None:
        if results is None:
            return None
        return float(sum((series.get(f"f_{metric.lower()}") or {}).values()))

    reserved = (concurrency or {}).get("ReservedConcurrentExecutions")
    lag = series.get("f_offsetlag") or {}
    return FunctionHealth(
        function_arn=arn,
        window_minutes=minutes,
        reserved_concurrency=int(reserved) if reserved is not None else None,
        invocations=total("Invocations"),
        errors=total("Errors"),
        throttles=total("Throttles"),
        unread=unread,
        duration_max_ms=_max(series.get("f_duration")),
        offset_lag=tuple(lag[t] for t in sorted(lag)),
        offset_lag_times=tuple(sorted(lag)),
        polled_events=total("PolledEventCount") if esm_uuid else None,
        filtered_out_events=total("FilteredOutEventCount") if esm_uuid else None,
    )
