"""GetMetricData answered query by query over indexed datapoints (remediate/sandbox/speed.py) says what
moto's own GetMetricData says for the same call: the reference is moto's unpatched method, run on the
same backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from moto.backends import get_backend

from remediate.sandbox import Sandbox
from remediate.sandbox.speed import _ORIGINAL_GET_METRIC_DATA


def _query(qid: str, namespace: str, name: str, stat: str, **dims: str) -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            },
            "Period": 300,
            "Stat": stat,
        },
    }


def _datum(name: str, at: datetime, value: float, dims: dict[str, str]) -> dict[str, Any]:
    return {
        "MetricName": name,
        "Timestamp": at,
        "Value": float(value),
        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
    }


def test_the_indexed_answer_is_moto_s_answer(sb: Sandbox) -> None:
    cw = sb.client("cloudwatch")
    now = datetime.now(UTC).replace(microsecond=0)
    for i in range(12):
        at = now - timedelta(minutes=5 * i + 1)
        for function in ("a", "b", "c"):
            lam = {"FunctionName": function}
            errors, duration = _datum("Errors", at, i % 3, lam), _datum("Duration", at, 100 + i, lam)
            cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[errors, duration])
        # The same dimensions given in two orders: moto compares them sorted.
        first = _datum("CpuUser", at, 10 + i, {"Cluster Name": "c1", "Broker ID": "1"})
        second = _datum("CpuUser", at, 20 + i, {"Broker ID": "2", "Cluster Name": "c1"})
        cw.put_metric_data(Namespace="AWS/Kafka", MetricData=[first, second])
    queries = [
        _query("e_a", "AWS/Lambda", "Errors", "Sum", FunctionName="a"),
        _query("d_b", "AWS/Lambda", "Duration", "Maximum", FunctionName="b"),
        _query("none", "AWS/Lambda", "Errors", "Sum", FunctionName="nobody"),
        _query("all_errors", "AWS/Lambda", "Errors", "Sum"),  # no dimensions: every function's
        _query("cpu_2", "AWS/Kafka", "CpuUser", "Average", **{"Cluster Name": "c1", "Broker ID": "2"}),
        _query("cpu_order", "AWS/Kafka", "CpuUser", "Maximum", **{"Broker ID": "1", "Cluster Name": "c1"}),
    ]
    start, end = now - timedelta(hours=1), now + timedelta(minutes=1)
    answered = cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)[
        "MetricDataResults"
    ]
    backend = get_backend("cloudwatch")[sb.account_id][sb.region]
    naive = {"start_time": start.replace(tzinfo=None), "end_time": end.replace(tzinfo=None)}
    reference = _ORIGINAL_GET_METRIC_DATA(backend, queries, **naive, scan_by="TimestampDescending")
    got = {r["Id"]: (r["Values"], [t.replace(tzinfo=UTC) for t in r["Timestamps"]]) for r in answered}
    want = {r["id"]: (list(r["values"]), [t.replace(tzinfo=UTC) for t in r["timestamps"]]) for r in reference}
    assert set(got) == {q["Id"] for q in queries}
    for qid, (values, stamps) in want.items():
        assert got[qid][0] == [float(v) for v in values], qid
        assert got[qid][1] == stamps, qid
    assert got["none"][0] == []
    assert got["e_a"][0]  # not trivially empty
