"""When each AWS request was on the wire, and how many sequential round trips that makes.

`CallClock` records the interval of every HTTP request an `Aws` session sends (botocore's `before-send` and
`response-received` events, so client creation and retries' sleeps are not counted). `round_trips` is the
longest chain of requests in which each one started only after the previous one had its answer: the number
of round trips a caller waited for, one after the other. With a latency injected into every call, requests
that are independent start together and end together; a request that had to wait for a worker, or for
another answer, starts after one ends and lengthens the chain.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CallClock:
    """The (start, end) of each request sent through the botocore sessions it is attached to."""

    intervals: list[tuple[float, float]] = field(default_factory=list)
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, events: Any) -> None:
        """Listen on a botocore event emitter (a session's, before its clients exist, or a client's)."""
        events.register("before-send", self._sent)
        events.register("response-received", self._received)

    def _sent(self, **_: Any) -> None:
        self._local.start = time.perf_counter()

    def _received(self, **_: Any) -> None:
        start = getattr(self._local, "start", None)
        if start is not None:
            with self._lock:
                self.intervals.append((start, time.perf_counter()))
            self._local.start = None

    def on_the_wire(self) -> float:
        """Seconds during which at least one request was waiting for its answer."""
        total, reach = 0.0, float("-inf")
        for start, end in sorted(self.intervals):
            if end > reach:
                total += end - max(start, reach)
                reach = end
        return total


def round_trips(intervals: list[tuple[float, float]]) -> int:
    """The longest chain of requests each started after the previous one ended."""
    ordered = sorted(intervals)
    depth: list[int] = []
    for i, (start, _end) in enumerate(ordered):
        before = [depth[j] for j in range(i) if ordered[j][1] <= start]
        depth.append(1 + max(before, default=0))
    return max(depth, default=0)
