"""A throttle model for the sandbox that refuses by rate, as AWS does: a token bucket per published limit.

AWS does not refuse a share of calls at random; it meters each account and region with token buckets and
refuses a call only when its bucket is empty. A random model makes a naive, unpaced client pay backoffs on
every tenth call however slowly it goes, which inflates any speed-up measured against it. This model holds
the limits AWS publishes, and no others:

- EC2: each API has its own bucket; a non-mutating (Describe*) action holds 100 tokens and refills 20 per
  second ("Request throttling for the Amazon EC2 API", Amazon EC2 API Reference / Developer Guide:
  "Request token bucket sizes and refill rates", non-mutating actions).
- Lambda: "Remainder of the control plane API requests (excludes invocation, GetFunction, and GetPolicy
  requests): 15 requests per second across all APIs (not 15 requests per second per API)" (AWS Lambda
  Developer Guide, "Lambda quotas", API requests). AWS states no burst; the model allows one second's worth.
- IAM, Amazon MSK and CloudWatch GetMetricData: we found no published request rate for these reads (the
  Amazon MSK Developer Guide's "Amazon MSK quota" lists broker and cluster quotas, not API rates), so the
  model does not invent one: it never refuses them.

A refused call gets the service's own throttling error (the sandbox's `throttle_response`) after the same
injected latency as any other call.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass

from remediate.sandbox.faults import FaultRule, FaultSet
from remediate.sandbox.operations import RequestInfo

REFUSED = FaultRule(kind="throttle")


@dataclass(frozen=True)
class Limit:
    """`rate` tokens per second, at most `burst` saved up, per `scope` ("api": one bucket per operation)."""

    rate: float
    burst: float
    scope: str = "service"


PUBLISHED: dict[str, Limit] = {
    "ec2": Limit(rate=20, burst=100, scope="api"),
    "lambda": Limit(rate=15, burst=15),
}


class _Bucket:
    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.tokens = limit.burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.limit.burst, self.tokens + (now - self.stamp) * self.limit.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class RateModel(FaultSet):
    """The sandbox's fault set, plus refusal by rate (set it as `Sandbox.faults` before the server starts).

    `enabled` switches the model on and off without rebuilding the sandbox; `refused` counts what it
    refused, per (service, operation).
    """

    def __init__(self, limits: dict[str, Limit] | None = None) -> None:
        super().__init__()
        self.limits = PUBLISHED if limits is None else limits
        self.enabled = False
        self.refused: Counter[tuple[str, str]] = Counter()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._model_lock = threading.Lock()

    def reset_buckets(self) -> None:
        """Full buckets, as after a quiet while: each measurement starts from the same state."""
        with self._model_lock:
            self._buckets.clear()
            self.refused.clear()

    def select(self, info: RequestInfo) -> tuple[float, FaultRule | None]:
        delay, rule = super().select(info)
        if rule is not None or not self.enabled:
            return delay, rule
        limit = self.limits.get(info.service)
        if limit is None:
            return delay, None
        key = (info.service, info.operation if limit.scope == "api" else "*")
        with self._model_lock:
            bucket = self._buckets.setdefault(key, _Bucket(limit))
            if bucket.take():
                return delay, None
            self.refused[info.as_tuple()] += 1
        return delay, REFUSED
