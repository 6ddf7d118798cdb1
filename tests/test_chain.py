"""The continuation helpers observation is built on: failures pass through, nothing blocks, and `gather`
settles only once every future has (so no work outlives the pool that runs it)."""

from __future__ import annotations

from concurrent.futures import Future

import pytest

from remediate.observe.chain import chain, done, gather, recover, then


def _pending() -> Future[int]:
    return Future()


def test_then_and_chain_run_when_the_value_arrives() -> None:
    source = _pending()
    doubled = then(source, lambda v: v * 2)
    followed = chain(doubled, lambda v: done(v + 1))
    assert not followed.done()  # nothing ran yet, and nothing waited
    source.set_result(20)
    assert followed.result(timeout=0) == 41


def test_a_failure_passes_through_and_recover_handles_it() -> None:
    source = _pending()
    calls: list[int] = []
    after = then(source, lambda v: calls.append(v) or v)
    kept = recover(after, lambda exc: -1 if isinstance(exc, KeyError) else None)
    source.set_exception(KeyError("denied"))
    assert calls == []
    assert isinstance(after.exception(timeout=0), KeyError)
    assert kept.result(timeout=0) == -1


def test_a_step_that_raises_fails_its_future_not_the_thread() -> None:
    failed = then(done(1), lambda _v: 1 // 0)
    assert isinstance(failed.exception(timeout=0), ZeroDivisionError)
    rethrown = recover(done(1), lambda exc: 0)
    assert rethrown.result(timeout=0) == 1


def test_gather_waits_for_every_future_even_after_a_failure() -> None:
    first, second = _pending(), _pending()
    both = gather([first, second])
    first.set_exception(ValueError("first"))
    assert not both.done()  # the second is still running somewhere: gather does not give up on it
    second.set_result(2)
    with pytest.raises(ValueError, match="first"):
        both.result(timeout=0)


def test_gather_keeps_the_order_of_its_futures() -> None:
    first, second = _pending(), _pending()
    both = gather([first, second])
    second.set_result(2)
    first.set_result(1)
    assert both.result(timeout=0) == [1, 2]
    assert gather([]).result(timeout=0) == []
