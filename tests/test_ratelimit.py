"""The token bucket's arithmetic, on an injected clock: no test here waits or measures time."""

from __future__ import annotations

import pytest

from remediate.ratelimit import RateLimiter, TokenBucket


class FakeTime:
    """A clock that moves only when told to, and a sleep that records instead of sleeping."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_burst_is_free_then_calls_are_spaced_at_the_rate() -> None:
    t = FakeTime()
    bucket = TokenBucket(rate=10, capacity=3, clock=t.clock, sleep=t.sleep)
    assert [bucket.reserve() for _ in range(3)] == [0, 0, 0]
    # No token left: each further caller reserves the next one, a tenth of a second apart.
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.1, 0.2, 0.3])


def test_tokens_refill_with_time_up_to_capacity() -> None:
    t = FakeTime()
    bucket = TokenBucket(rate=2, capacity=4, clock=t.clock, sleep=t.sleep)
    for _ in range(4):
        bucket.reserve()
    t.now += 1.0  # two tokens back
    assert [bucket.reserve(), bucket.reserve()] == [0, 0]
    assert bucket.reserve() == pytest.approx(0.5)
    t.now += 3600  # a long idle time saves up no more than the capacity
    assert [bucket.reserve() for _ in range(4)] == [0, 0, 0, 0]
    assert bucket.reserve() > 0


def test_acquire_sleeps_only_when_a_token_is_due_later() -> None:
    t = FakeTime()
    bucket = TokenBucket(rate=5, capacity=1, clock=t.clock, sleep=t.sleep)
    assert bucket.acquire() == 0
    assert t.slept == []
    assert bucket.acquire() == pytest.approx(0.2)
    assert t.slept == [pytest.approx(0.2)]


def test_limiter_paces_each_listed_service_separately_and_others_not_at_all() -> None:
    t = FakeTime()
    limiter = RateLimiter({"ec2": 20, "lambda": 15}, burst=1, clock=t.clock, sleep=t.sleep)
    assert limiter.acquire("ec2") == 0
    assert limiter.acquire("lambda") == 0  # its own bucket: ec2's use does not count
    assert limiter.acquire("ec2") == pytest.approx(1 / 20)
    assert limiter.acquire("lambda") == pytest.approx(1 / 15)
    assert [limiter.acquire("sts") for _ in range(100)] == [0] * 100
    assert t.slept == [pytest.approx(1 / 20), pytest.approx(1 / 15)]


@pytest.mark.parametrize(("rate", "capacity"), [(0, 1), (-1, 5), (1, 0.5)])
def test_bucket_rejects_impossible_settings(rate: float, capacity: float) -> None:
    with pytest.raises(ValueError, match="token bucket"):
        TokenBucket(rate=rate, capacity=capacity)


# issue 26: the buckets AWS publishes are not all per service.
def test_an_operation_paced_apart_has_its_own_bucket_and_star_gives_each_operation_one() -> None:
    t = FakeTime()
    rates = {"lambda": 15, "lambda:get_function": 100, "ec2:*": 20}
    limiter = RateLimiter(rates, burst=1, clock=t.clock, sleep=t.sleep)
    assert limiter.acquire("lambda", "list_event_source_mappings") == 0
    # GetFunction is outside the control plane's bucket: its first call is free, then 1/100 s apart.
    assert limiter.acquire("lambda", "get_function") == 0
    assert limiter.acquire("lambda", "get_function") == pytest.approx(1 / 100)
    # Every other Lambda call shares one bucket.
    assert limiter.acquire("lambda", "get_event_source_mapping") == pytest.approx(1 / 15)
    # EC2: one bucket per operation.
    assert limiter.acquire("ec2", "describe_subnets") == 0
    assert limiter.acquire("ec2", "describe_route_tables") == 0
    assert limiter.acquire("ec2", "describe_subnets") == pytest.approx(1 / 20)
