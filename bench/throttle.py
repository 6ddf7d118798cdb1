"""A throttle model for the sandbox that refuses by rate, as AWS does: a token bucket per published limit.

AWS does not refuse a share of calls at random; it meters each account and region with token buckets and
refuses a call only when its bucket is empty. A random model makes a naive, unpaced client pay backoffs on
every tenth call however slowly it goes, which inflates any speed-up measured against it. This model holds
the limits AWS publishes, each in the bucket AWS documents, and no others:

- EC2: each API has its own bucket; a non-mutating (Describe*) action holds 100 tokens and refills 20 per
  second ("Request throttling for the Amazon EC2 API", Amazon EC2 Developer Guide, "Request token bucket
  sizes and refill rates", non-mutating actions; https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html).
- Lambda ("Lambda quotas", AWS Lambda Developer Guide, API requests;
  https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html):
  - GetFunction: "100 requests per second", its own bucket;
  - GetPolicy: "15 requests per second", its own bucket;
  - "Remainder of the control plane API requests (excludes invocation, GetFunction, and GetPolicy
    requests): 15 requests per second across all APIs (not 15 requests per second per API)".
  AWS states no burst for these; the model allows one second's worth.
- CloudWatch GetMetricData: "50 transactions per second (TPS)" ("CloudWatch service quotas", Amazon
  CloudWatch User Guide; https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html),
  one second's worth of burst. (Its data-point quota, 180,000 per second for the last 3 hours, is far above
  what a diagnosis reads.) Other CloudWatch operations are not modelled: the tool makes none.
- IAM, Amazon MSK, Route 53, Service Quotas: we found no published request rate for these reads (the
  Amazon MSK Developer Guide's "Amazon MSK quota" lists broker and cluster quotas, not API rates), so the
  model does not invent one: it never refuses them.

A refused call gets the service's own throttling error (the sandbox's `throttle_response`) after the same
injected latency as any other call.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from remediate.sandbox.faults import FaultRule, FaultSet
from remediate.sandbox.operations import RequestInfo

REFUSED = FaultRule(kind="throttle")


@dataclass(frozen=True)
class Limit:
    """`rate` tokens per second, at most `burst` saved up, in the bucket named `bucket` (None: one bucket
    per operation, as EC2 meters)."""

    rate: float
    burst: float
    bucket: str | None = None


# (service signing name, operation or "*") -> its published limit; an operation's own entry wins.
PUBLISHED: dict[tuple[str, str], Limit] = {
    ("ec2", "*"): Limit(rate=20, burst=100),
    ("lambda", "*"): Limit(rate=15, burst=15, bucket="control plane"),
    ("lambda", "GetFunction"): Limit(rate=100, burst=100, bucket="GetFunction"),
    ("lambda", "GetPolicy"): Limit(rate=15, burst=15, bucket="GetPolicy"),
    ("monitoring", "GetMetricData"): Limit(rate=50, burst=50, bucket="GetMetricData"),
}


def limit_of(limits: dict[tuple[str, str], Limit], service: str, operation: str) -> tuple[str, Limit] | None:
    """The bucket a call draws from and its limit, or None when AWS publishes no rate for it."""
    limit = limits.get((service, operation)) or limits.get((service, "*"))
    if limit is None:
        return None
    return f"{service}:{limit.bucket or operation}", limit


class _Bucket:
    def __init__(self, limit: Limit, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.clock = clock
        self.tokens = limit.burst
        self.stamp = clock()

    def take(self) -> bool:
        now = self.clock()
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

    def __init__(
        self, limits: dict[tuple[str, str], Limit] | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self._clock = clock
        self.limits = PUBLISHED if limits is None else limits
        self.enabled = False
        self.refused: Counter[tuple[str, str]] = Counter()
        self._buckets: dict[str, _Bucket] = {}
        self._model_lock = threading.Lock()

    def reset_buckets(self) -> None:
        """Full buckets, as after a quiet while: each measurement starts from the same state."""
        with self._model_lock:
            self._buckets.clear()
            self.refused.clear()

    def select(self, info: RequestInfo, caller: str | None = None) -> tuple[float, float, FaultRule | None]:
        delay, after, rule = super().select(info, caller)
        if rule is not None or not self.enabled:
            return delay, after, rule
        found = limit_of(self.limits, info.service, info.operation)
        if found is None:
            return delay, after, None
        key, limit = found
        with self._model_lock:
            bucket = self._buckets.setdefault(key, _Bucket(limit, self._clock))
            if bucket.take():
                return delay, after, None
            self.refused[info.as_tuple()] += 1
        return delay, after, REFUSED
