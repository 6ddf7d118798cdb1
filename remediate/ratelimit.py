"""Client-side rate limiting: one token bucket per AWS service, consulted by `Aws.call` before each attempt.

AWS meters control-plane APIs per account and region with token buckets of its own (EC2: a burst of 100
describe calls refilled at 20 per second per API; Lambda: 15 per second across its control plane, with
GetFunction apart at 100; CloudWatch GetMetricData: 50); a scan that fans out over
hundreds of mappings would otherwise spend its time being throttled and backing off. Pacing ourselves just
under those rates keeps throttles rare, and the retry policy in `aws.py` absorbs the rest.

A bucket hands out *reservations*: a caller that finds no token takes one from the future and sleeps until
it is due, outside the lock, so waiting callers queue in arrival order and never spin. The clock and the
sleep are injected, so the arithmetic is testable without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping


class TokenBucket:
    """`rate` tokens per second, at most `capacity` saved up (the burst a caller may spend at once)."""

    def __init__(
        self,
        rate: float,
        capacity: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs rate > 0 and capacity >= 1")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = capacity
        self._stamp = clock()

    def reserve(self) -> float:
        """Take one token; return how many seconds the caller must wait before using it (0: now)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        """Take one token, sleeping until it is due; return the seconds slept."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


class RateLimiter:
    """A token bucket per rate bucket named in `rates` (calls per second); calls in none are not paced.

    AWS meters some APIs apart from the rest of their service (issue 26), so a key names either a service
    (`lambda`: every call of the service not named on its own), one operation of it, in the client's
    snake_case (`lambda:get_function`: a bucket of its own), or every operation apart (`ec2:*`: one bucket
    per operation at that rate, as EC2 meters its API).
    """

    def __init__(
        self,
        rates: Mapping[str, float],
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rates = dict(rates)
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}

    def _bucket(self, service: str, operation: str) -> TokenBucket | None:
        for key in (f"{service}:{operation}", f"{service}:*", service):
            rate = self._rates.get(key)
            if rate is None:
                continue
            name = f"{service}:{operation}" if key.endswith(":*") else key
            bucket = self._buckets.get(name)
            if bucket is None:
                with self._lock:
                    bucket = self._buckets.setdefault(
                        name, TokenBucket(rate, self._burst, clock=self._clock, sleep=self._sleep)
                    )
            return bucket
        return None

    def acquire(self, service: str, operation: str = "") -> float:
        """Wait for the next token of the call's bucket, if it is paced; return the seconds slept."""
        bucket = self._bucket(service, operation)
        return bucket.acquire() if bucket is not None else 0.0
