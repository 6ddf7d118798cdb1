"""Futures chained by continuations, so observation never blocks a worker on another worker.

Observation is a small dependency graph of reads (the mapping, then its function and cluster, then
the role and the VPC...). If a worker thread waited for a read that another task of the same pool
must make, a busy pool would starve and one mapping would take more round trips than its chain has.
Here a dependent step is attached to the future it needs and runs when that future completes, in
the thread that completed it; only the caller of `observe` ever waits, on the final future.

Continuations do no I/O themselves: they build models and start further reads (which an executor
runs). An exception in a step fails its future and everything chained to it, never the thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future
from typing import Any, TypeVar

from remediate.aws import forward

A = TypeVar("A")
B = TypeVar("B")


def done(value: A) -> Future[A]:
    """A future that already has its value."""
    future: Future[A] = Future()
    future.set_result(value)
    return future


def _failure(future: Future[Any]) -> BaseException | None:
    return CancelledError() if future.cancelled() else future.exception()


def _settle(out: Future[B], step: Callable[[], B]) -> None:
    try:
        out.set_result(step())
    except BaseException as exc:  # noqa: BLE001 - a failed step fails its future, not the thread
        out.set_exception(exc)


def then(future: Future[A], fn: Callable[[A], B]) -> Future[B]:
    """`fn(result)` once `future` has succeeded; its failure passes through."""
    out: Future[B] = Future()

    def step(source: Future[A]) -> None:
        failure = _failure(source)
        if failure is not None:
            out.set_exception(failure)
        else:
            _settle(out, lambda: fn(source.result()))

    future.add_done_callback(step)
    return out


def chain(future: Future[A], fn: Callable[[A], Future[B]]) -> Future[B]:
    """The future `fn(result)` starts once `future` has succeeded; its failure passes through."""
    out: Future[B] = Future()

    def step(source: Future[A]) -> None:
        failure = _failure(source)
        if failure is not None:
            out.set_exception(failure)
            return
        try:
            following = fn(source.result())
        except BaseException as exc:  # noqa: BLE001 - a failed step fails its future, not the thread
            out.set_exception(exc)
            return
        forward(following, out)

    future.add_done_callback(step)
    return out


def recover(future: Future[A], handler: Callable[[BaseException], B]) -> Future[A | B]:
    """`future`'s value, or what `handler` makes of its failure (the handler re-raises what it
    does not handle)."""
    out: Future[A | B] = Future()

    def step(source: Future[A]) -> None:
        failure = _failure(source)
        if failure is None:
            out.set_result(source.result())
        else:
            _settle(out, lambda: handler(failure))

    future.add_done_callback(step)
    return out


def gather(futures: Sequence[Future[Any]]) -> Future[list[Any]]:
    """Every result in order, once all have settled; the first failure (in order) if any failed.

    It waits for all, never failing fast, so nothing that was started outlives the pool it runs in.
    """
    out: Future[list[Any]] = Future()
    if not futures:
        out.set_result([])
        return out
    remaining = [len(futures)]
    lock = threading.Lock()

    def one(_: Future[Any]) -> None:
        with lock:
            remaining[0] -= 1
            if remaining[0]:
                return
        failures = [f for f in (_failure(f) for f in futures) if f is not None]
        if failures:
            out.set_exception(failures[0])
        else:
            out.set_result([f.result() for f in futures])

    for future in futures:
        future.add_done_callback(one)
    return out
