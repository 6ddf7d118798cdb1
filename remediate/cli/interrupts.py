"""SIGINT and SIGTERM while the engine may be changing AWS: stop at a safe point, never mid-call.

Like Terraform: the first signal during an apply asks the run to stop (`Stop.request`); the AWS call
in flight finishes and is journaled, the run stops before the next one, releases its lock and the
CLI says what changed and how to continue or undo it. A second signal stops at once (the change in
flight is journaled as interrupted; its outcome is then unknown, which `--resume` and `rollback`
settle by reading AWS). Before anything was changed, a signal aborts at once: nothing to protect.

The handlers are installed here, in the CLI layer, for the duration of one command; the engine only
ever sees the `Stop` flag, which it checks between calls.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

import click

from remediate.errors import EXIT_REFUSED

if TYPE_CHECKING:
    from remediate.run.machine import Stop

NAMES: dict[int, str] = {int(signal.SIGINT): "SIGINT", int(signal.SIGTERM): "SIGTERM"}


class SignalAbort(KeyboardInterrupt):
    """Raised by the handler to stop at once (before any change, or on a second signal)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


def signal_name(signum: int) -> str:
    return NAMES.get(signum, f"signal {signum}")


def exit_code(signum: int, changed: bool) -> int:
    """128 + the signal (the shell's convention: 130 for SIGINT, 143 for SIGTERM) when the run had
    changed something, so scripts cannot mistake it for "nothing was changed" (3)."""
    return 128 + signum if changed else EXIT_REFUSED


@contextmanager
def interrupts(stop: Stop) -> Iterator[Stop]:
    """Route SIGINT and SIGTERM to `stop` while the block runs (restoring the previous handlers)."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        if not stop.armed or stop.requested:
            stop.request(signum)
            raise SignalAbort(signum)
        stop.request(signum)
        click.echo(
            f"\n{signal_name(signum)} received: finishing the AWS call in flight, then stopping "
            "(send it again to stop at once).",
            err=True,
        )

    previous = {sig: signal.signal(sig, handler) for sig in NAMES}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
