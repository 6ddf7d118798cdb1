"""A scan's GetMetricData requests, one per function and one per cluster, merged into as few calls as the
API allows, and the answers split back per request (issue 26).

A fleet with one function per mapping made one GetMetricData call per function, so at 50 calls a second
the scan could not end in less than (functions / 50) seconds whatever else it did. CloudWatch API
reference, GetMetricData: a request holds as many as 500 MetricDataQuery structures and returns up to
100,800 data points (more are paged through NextToken). MetricDataQuery, Id: unique within a single
call; letters, numbers and underscores, the first character a lowercase letter. So each query keeps its
own Id behind a prefix naming its request (`r12_f_errors`), and requests share calls: a request may span
two calls, and its answer is the MetricDataResults of both, with the prefix removed, exactly as its own
call would have returned them.

Pure request and response shaping, as `metrics.py`; `reads.prefetch_metrics` makes the calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from remediate.observe.metrics import MAX_DATAPOINTS, MAX_QUERIES


@dataclass(frozen=True)
class Batch:
    """The parameters of one GetMetricData call and the requests (by index) with queries in it."""

    params: dict[str, Any]
    members: tuple[int, ...]


def _prefix(index: int) -> str:
    return f"r{index}_"


def _points(query: dict[str, Any], seconds: float) -> int:
    """The data points one query can return over the window: one per period."""
    return max(1, int(seconds // int(query["MetricStat"]["Period"])))


def batches(requests: Sequence[dict[str, Any]]) -> list[Batch]:
    """Every request's queries, in order, in calls of at most `MAX_QUERIES` queries and `MAX_DATAPOINTS`
    data points each; requests of different windows never share a call (a call has one window)."""
    by_window: dict[tuple[Any, Any], list[int]] = {}
    for index, request in enumerate(requests):
        by_window.setdefault((request["StartTime"], request["EndTime"]), []).append(index)
    out: list[Batch] = []
    for (start, end), indexes in by_window.items():
        seconds = (end - start).total_seconds()
        chunks: list[list[tuple[int, dict[str, Any]]]] = [[]]
        points = 0
        for index in indexes:
            for query in requests[index]["MetricDataQueries"]:
                cost = _points(query, seconds)
                if len(chunks[-1]) >= MAX_QUERIES or (chunks[-1] and points + cost > MAX_DATAPOINTS):
                    chunks.append([])
                    points = 0
                chunks[-1].append((index, {**query, "Id": _prefix(index) + str(query["Id"])}))
                points += cost
        for chunk in chunks:
            if chunk:
                params = {"MetricDataQueries": [q for _, q in chunk], "StartTime": start, "EndTime": end}
                out.append(Batch(params=params, members=tuple(dict.fromkeys(i for i, _ in chunk))))
    return out


def split(results: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """One call's MetricDataResults (every page) per request index, each with its request's own Id."""
    out: dict[int, list[dict[str, Any]]] = {}
    for result in results:
        head, _, own = str(result["Id"]).partition("_")
        out.setdefault(int(head[1:]), []).append({**result, "Id": own})
    return out
