"""Unit: a scan's GetMetricData requests merged into calls within the API's limits and split back (issue 26).

CloudWatch API reference, GetMetricData: at most 500 MetricDataQuery structures and 100,800 data points a
call; MetricDataQuery, Id: unique within a call, letters, numbers and underscores, a lowercase first letter.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from remediate.observe import metric_batch, metrics

NOW = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)
ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")


def _function(i: int, minutes: int = 60) -> dict[str, object]:
    return metrics.function_request(f"arn:aws:lambda:us-east-1:123456789012:function:fn{i}", minutes, NOW)


def test_requests_fill_calls_of_500_queries_with_unique_valid_ids() -> None:
    requests = [_function(i) for i in range(120)]  # 5 queries each: 600
    made = metric_batch.batches(requests)
    assert [len(b.params["MetricDataQueries"]) for b in made] == [500, 100]
    for b in made:
        ids = [q["Id"] for q in b.params["MetricDataQueries"]]
        assert len(set(ids)) == len(ids)
        assert all(ID.match(i) and len(i) <= 255 for i in ids)
        assert (b.params["StartTime"], b.params["EndTime"]) == (
            requests[0]["StartTime"],
            requests[0]["EndTime"],
        )
    assert made[0].members == tuple(range(100))
    assert made[1].members == tuple(range(100, 120))


def test_a_request_across_two_calls_gets_both_answers_under_its_own_ids() -> None:
    broker = metrics.broker_request(
        "arn:aws:kafka:us-east-1:1:cluster/c/u", tuple(str(b) for b in range(1, 61)), 60, NOW
    )
    requests = [
        *[_function(i) for i in range(20)],
        broker,
    ]  # 100 + 422 queries: the cluster's spans two calls
    made = metric_batch.batches(requests)
    assert len(made) == 2
    assert 20 in made[0].members
    assert made[1].members == (20,)
    answers: dict[int, list[dict[str, object]]] = {}
    for b in made:  # CloudWatch answers each query under the Id it was asked with
        results = [
            {"Id": q["Id"], "Timestamps": [NOW], "Values": [1.0]} for q in b.params["MetricDataQueries"]
        ]
        for index, got in metric_batch.split(results).items():
            answers.setdefault(index, []).extend(got)
    for index, request in enumerate(requests):
        assert sorted(r["Id"] for r in answers[index]) == sorted(
            q["Id"] for q in request["MetricDataQueries"]
        )


def test_calls_stay_within_the_data_points_a_call_returns() -> None:
    requests = [_function(i, minutes=1440) for i in range(30)]  # a day of minutes: 1,440 points a query
    made = metric_batch.batches(requests)
    per_query = 1440  # function_request keeps one-minute periods for 5 queries over a day
    assert all(len(b.params["MetricDataQueries"]) * per_query <= metrics.MAX_DATAPOINTS for b in made)
    assert sum(len(b.params["MetricDataQueries"]) for b in made) == 150
    assert len(made) == 3  # 70 queries (100,800 points) a call
