"""A line at least every `progress_interval` seconds while a command works (issue 23, N8).

The engine announces retries and marks its long waits (`remediate.heartbeat`); the `Ticker` prints
a retry at once (at most one line per API per interval, so throttling during a scan does not flood
the terminal), and, when nothing was printed for an interval, one `still working` line naming what
is awaited (the retry, the wait, or the last step shown). It is silent while a question waits for
the operator (`paused`). Lines go to standard error, as all progress does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click

from remediate import heartbeat


class Ticker:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._started = time.monotonic()
        self._last_line = self._started
        self._last_step = ""
        self._retried: dict[str, float] = {}
        self._paused = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="remediate-ticker", daemon=True)
        self._listening = heartbeat.listening(self._on_retry)

    def start(self) -> Ticker:
        self._listening.__enter__()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._listening.__exit__(None, None, None)

    def shown(self, step: str) -> None:
        """A progress line was printed (by the reporter): the silence starts again."""
        with self._lock:
            self._last_line = time.monotonic()
            self._last_step = step

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No lines while the operator is being asked (the question must stay the last thing shown)."""
        with self._lock:
            self._paused += 1
        try:
            yield
        finally:
            with self._lock:
                self._paused -= 1
                self._last_line = time.monotonic()

    def _on_retry(self, key: str, text: str) -> None:
        now = time.monotonic()
        with self._lock:
            if self._paused or now - self._retried.get(key, -1e9) < self.interval:
                return
            self._retried[key] = now
            self._last_line = now
        click.echo(f"  - {text}", err=True)

    def _run(self) -> None:
        while not self._stop.wait(min(self.interval / 2, 1.0)):
            now = time.monotonic()
            with self._lock:
                if self._paused or now - self._last_line < self.interval:
                    continue
                self._last_line = now
                what = heartbeat.current() or self._last_step or "reading AWS"
            click.echo(f"  - still working ({now - self._started:.0f}s): {what}", err=True)


_ticker: list[Ticker] = []


def start(interval: float) -> Ticker:
    """The invocation's ticker (started once, by the first `Ctx`; `stop` ends it)."""
    if not _ticker:
        _ticker.append(Ticker(interval).start())
    return _ticker[0]


def stop() -> None:
    while _ticker:
        _ticker.pop().stop()


def shown(step: str) -> None:
    for t in _ticker:
        t.shown(step)


@contextmanager
def paused() -> Iterator[None]:
    if not _ticker:
        yield
        return
    with _ticker[0].paused():
        yield
