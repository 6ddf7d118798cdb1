"""Liveness for long waits and retries (issue 23, N8): what the engine is waiting on, for the entry
point to show.

An AWS call being retried (503s, throttling, a read timeout) or a long wait would otherwise leave the
terminal silent for minutes: retries are logged only with `--debug`. The engine announces each retry
here (`retrying`) and marks what the calling thread waits on (`waiting`); an entry point that listens
(the CLI's `Ticker`) shows a line for them, and a line at least every `progress_interval` seconds while
anything is in progress. Without a listener, nothing is shown (the SSM handlers log instead).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[str, str], None]  # (key, text): key names the call or wait the text is about
_listeners: list[Listener] = []
_lock = threading.Lock()
_activity: dict[int, str] = {}  # thread id -> what that thread is waiting on now


def retrying(key: str, text: str) -> None:
    """A call (`key`, e.g. `lambda:UpdateEventSourceMapping`) failed and is tried again: `text` says why."""
    with _lock:
        _activity[threading.get_ident()] = text
        listeners = list(_listeners)
    for listener in listeners:
        listener(key, text)


def done() -> None:
    """The calling thread's call or wait is over."""
    with _lock:
        _activity.pop(threading.get_ident(), None)


@contextmanager
def waiting(text: str) -> Iterator[None]:
    """Mark the calling thread as waiting on `text` for the time of the block."""
    with _lock:
        _activity[threading.get_ident()] = text
    try:
        yield
    finally:
        done()


def current() -> str | None:
    """What some thread waits on now, if any (the most recent)."""
    with _lock:
        return next(reversed(_activity.values()), None)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    with _lock:
        _listeners.append(listener)
        _activity.clear()
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)
            _activity.clear()
