"""Client-side rate limiting: one token bucket per AWS service, consulted by `Aws.call` before each attempt.

AWS meters control-plane APIs per account and region with token buckets of its own (EC2: a burst of 100
describe calls refilled at 20 per second, Lambda: 15 per second per API); a scan that fans out over
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
    """A token bucket per service named in `rates` (calls per second); other services are not paced."""

    def __init__(
        self,
        rates: Mapping[str, float],
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._buckets = {
            service: TokenBucket(rate, burst, clock=clock, sleep=sleep) for service, rate in rates.items()
        }

    def acquire(self, service: str) -> float:
        """Wait for the service's next token, if it is paced; return the seconds slept."""
        bucket = self._buckets.get(service)
        return bucket.acquire() if bucket is not None else 0.0
