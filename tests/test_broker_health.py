"""Unit tests of the live-health checks on `Facts` fixtures, the metric shaping, and the storage rule."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from remediate import health
from remediate.checks import run_check
from remediate.facts import BrokerHealth, BrokerStats, ClusterAuth, Function, FunctionHealth
from remediate.observe import metrics
from tests import factories


def with_brokers(*stats: BrokerStats, **cluster: object) -> object:
    f = factories.facts()
    assert f.cluster is not None
    c = f.cluster.model_copy(update={"volume_gib": 500, "current_version": "K1", **cluster})
    bh = BrokerHealth(cluster_arn=c.arn, window_minutes=30, brokers=stats)
    return f.model_copy(update={"cluster": c, "broker_health": bh})


def codes(found: list[object]) -> list[str]:
    return [f.code for f in found]  # type: ignore[attr-defined]


def test_limits_are_inclusive_and_below_is_quiet() -> None:
    at = with_brokers(
        BrokerStats(broker_id="1", disk_used_percent=85.0, cpu_percent=60.0, connections=2700.0)
    )
    assert sorted(codes(run_check("broker_health", at))) == [  # type: ignore[arg-type]
        "BROKER_CONNECTIONS_EXHAUSTED",
        "BROKER_CPU_SATURATED",
        "BROKER_STORAGE_FULL",
    ]
    below = with_brokers(
        BrokerStats(broker_id="1", disk_used_percent=84.9, cpu_percent=59.9, connections=2699.0)
    )
    assert run_check("broker_health", below) == []  # type: ignore[arg-type]


def test_no_connection_quota_without_iam() -> None:
    f = with_brokers(BrokerStats(broker_id="1", connections=2999.0), auth=ClusterAuth(scram=True))
    assert run_check("broker_health", f) == []  # type: ignore[arg-type]


def test_storage_at_the_maximum_has_no_target() -> None:
    f = with_brokers(BrokerStats(broker_id="1", disk_used_percent=95.0), volume_gib=16384)
    [found] = run_check("broker_health", f)  # type: ignore[arg-type]
    assert found.evidence.target_gib is None  # type: ignore[attr-defined]


def test_no_metrics_no_findings_for_self_managed() -> None:
    f = factories.facts(esm=factories.esm(source_kind="self-managed", event_source_arn=None), cluster=None)
    assert run_check("broker_health", f) == []


@given(st.integers(1, 16383), st.floats(0, 100))
def test_storage_target_only_grows_within_the_maximum(volume: int, used: float) -> None:
    target = health.storage_target_gib(volume, used)
    assert target is not None
    assert volume < target <= health.STORAGE_MAX_GIB
    if target < health.STORAGE_MAX_GIB:
        # The fullest broker would sit at or under 60% of the new size.
        assert volume * used / target <= health.STORAGE_TARGET_PERCENT + 1e-9


def test_cpu_is_the_worst_minute_of_user_plus_system() -> None:
    at = [datetime(2026, 1, 1, 0, m, tzinfo=UTC) for m in range(3)]
    results = [
        {"Id": "b0_cpuuser", "Timestamps": at, "Values": [50.0, 10.0, 20.0]},
        {"Id": "b0_cpusystem", "Timestamps": at, "Values": [5.0, 45.0, 30.0]},
    ]
    [stats] = metrics.broker_health("arn", ["1"], 60, results).brokers
    assert stats.cpu_percent == 55.0  # not 50 + 45


def test_one_request_holds_every_broker_and_cluster_metric() -> None:
    arn = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/abcd-1"
    req = metrics.broker_request(arn, [str(i) for i in range(1, 61)], 60)
    queries = req["MetricDataQueries"]
    assert (
        len(queries) == 60 * len(health.BROKER_METRICS) + len(health.CLUSTER_METRICS) <= metrics.MAX_QUERIES
    )
    dims = queries[0]["MetricStat"]["Metric"]["Dimensions"]
    assert dims == [{"Name": "Cluster Name", "Value": "orders"}, {"Name": "Broker ID", "Value": "1"}]
    period = queries[0]["MetricStat"]["Period"]
    assert period % 60 == 0
    assert 60 * len(queries) * 60 / period <= metrics.MAX_DATAPOINTS
    long = metrics.broker_request(arn, [str(i) for i in range(1, 61)], 1440)["MetricDataQueries"]
    assert long[0]["MetricStat"]["Period"] == 60 * math.ceil(1440 * len(long) / metrics.MAX_DATAPOINTS)


def test_broker_ids_as_cloudwatch_spells_them() -> None:
    nodes = [{"BrokerNodeInfo": {"BrokerId": 2.0}}, {"BrokerNodeInfo": {"BrokerId": 10.0}}, {"NodeType": "X"}]
    assert metrics.broker_ids(nodes) == ("2", "10")


def test_function_checks() -> None:
    fn = Function(arn=factories.FUNCTION_ARN, name="consumer", role_arn=factories.ROLE_ARN, state="Inactive")
    fh = FunctionHealth(function_arn=fn.arn, window_minutes=60, invocations=10, errors=4, throttles=0)
    f = factories.facts(function=fn, function_health=fh)
    assert codes(run_check("function_runs", f)) == ["FUNCTION_CANNOT_RUN"]  # 4 of 10 is under half
    failing = f.model_copy(update={"function_health": fh.model_copy(update={"errors": 5.0})})
    assert codes(run_check("function_runs", failing)) == ["FUNCTION_CANNOT_RUN", "FUNCTION_FAILING"]
    zero = f.model_copy(
        update={
            "function": fn.model_copy(update={"state": "Active"}),
            "function_health": fh.model_copy(update={"reserved_concurrency": 0, "throttles": 9.0}),
        }
    )
    # Reserved concurrency 0 explains the throttles: one finding, not two.
    assert codes(run_check("function_runs", zero)) == ["FUNCTION_CANNOT_RUN"]


def test_metrics_stay_out_of_the_fingerprint_but_reserved_concurrency_does_not() -> None:
    fh = FunctionHealth(
        function_arn=factories.FUNCTION_ARN, window_minutes=60, invocations=1, reserved_concurrency=5
    )
    f = factories.facts(function_health=fh)
    moved = f.model_copy(update={"function_health": fh.model_copy(update={"invocations": 99.0})})
    assert moved.fingerprint() == f.fingerprint()
    changed = f.model_copy(update={"function_health": fh.model_copy(update={"reserved_concurrency": 0})})
    assert changed.fingerprint() != f.fingerprint()


@given(
    st.lists(
        st.tuples(st.floats(0, 100, allow_nan=False), st.floats(0, 100, allow_nan=False)),
        min_size=1,
        max_size=30,
    )
)
def test_cpu_is_the_max_over_minutes_of_the_sum(points: list[tuple[float, float]]) -> None:
    at = [datetime(2026, 1, 1, m // 60, m % 60, tzinfo=UTC) for m in range(len(points))]
    results = [
        {"Id": "b0_cpuuser", "Timestamps": at, "Values": [u for u, _ in points]},
        {"Id": "b0_cpusystem", "Timestamps": at, "Values": [s for _, s in points]},
    ]
    [stats] = metrics.broker_health("arn", ["1"], 60, results).brokers
    assert stats.cpu_percent == round(max(u + s for u, s in points), 1)
