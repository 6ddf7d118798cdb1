"""How the command line shows a run's progress and asks for approval (standard error only)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

import click

from remediate.cli.context import Ctx
from remediate.errors import ApprovalRefused

if TYPE_CHECKING:
    from remediate.plan import Plan
    from remediate.run.fleet import ScanProgress


class CliReporter:
    """Progress on stderr; approval by the literal answer `yes` on a terminal, or --auto-approve.

    On a terminal, progress is a rich spinner showing the current step (an ESM transition can take
    minutes) above the finished steps, one plain `  - ...` line each (no timestamp, no source link:
    the log has those); elsewhere it is the same plain line per step.
    """

    def __init__(self, ctx: Ctx, auto_approve: bool, show_plan: bool) -> None:
        self.ctx = ctx
        self.auto_approve = auto_approve
        self.show_plan = show_plan
        self._status: Any = None
        self._console: Any = None

    def progress(self, message: str) -> None:
        from remediate.cli import ticker

        ticker.shown(message)
        if not sys.stderr.isatty():
            click.echo("  - " + message, err=True)
            return
        if self._status is None:
            self._console = stderr_console(self.ctx.settings.color)
            self._status = self._console.status(message, spinner="dots")
            self._status.start()
        self._console.print("  - " + message, markup=False, highlight=False)
        self._status.update(message)

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def approve(self, plan: Plan) -> bool:
        return self.approve_all([("", plan)], on_stdout=self.show_plan)

    def approve_all(self, plans: Sequence[tuple[str, Plan]], *, on_stdout: bool) -> bool:
        """One question for every plan in `plans` (heading, plan), each shown before it (issue 23, N2):
        on standard output when that is the command's output (`on_stdout`, text), and on the terminal
        asked on whenever standard output is not that terminal (redirected to a file, or carrying
        the one JSON document), so no plan is approved unseen (N6)."""
        from remediate.run.render import render_plan

        if self.show_plan and on_stdout:
            for heading, plan in plans:
                self.ctx.emit(heading + render_plan(plan, self.ctx.color, with_findings=True))
        if not self.auto_approve and sys.stdin.isatty() and not (on_stdout and sys.stdout.isatty()):
            with terminal() as term:
                for heading, plan in plans:
                    term.write(heading + render_plan(plan, color=False, with_findings=True))
        return ask_yes(
            self.auto_approve,
            "Do you want to perform these actions?\n  remediate will perform the actions described above.",
            "no terminal to ask for approval: nothing was changed "
            "(use --auto-approve or `remediate apply FILE`)",
        )


class _Both:
    """Standard error (a file or pipe: a log of what was asked) and the terminal the answer comes from."""

    def __init__(self, *streams: TextIO) -> None:
        self.streams = streams

    def write(self, text: str) -> None:
        for stream in self.streams:
            stream.write(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


@contextmanager
def terminal() -> Iterator[Any]:
    """Where a question (and the plan it asks about) is shown: standard error when it is a terminal;
    when it is redirected, also the terminal standard input reads from (issue 23: the prompt is seen
    on the terminal even when the output streams go to files)."""
    tty: TextIO | None = None
    if not sys.stderr.isatty() and sys.stdin.isatty():
        try:
            tty = open(os.ttyname(sys.stdin.fileno()), "w", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError:
            tty = None
    try:
        yield sys.stderr if tty is None else _Both(sys.stderr, tty)
    finally:
        sys.stderr.flush()
        if tty is not None:
            tty.close()


def ask_yes(auto_approve: bool, question: str, no_terminal: str) -> bool:
    """Approval as Terraform asks for it: only the literal answer `yes` (spaces aside) approves;
    without a terminal to ask on, nothing is approved (ApprovalRefused, exit 3). The question is
    written to the terminal (`terminal()`), the answer read from standard input; end of input is an
    refusal (exit 3), as Ctrl-C is."""
    if auto_approve:
        click.echo("Auto-approved (--auto-approve).", err=True)
        return True
    if not sys.stdin.isatty():
        raise ApprovalRefused(no_terminal)
    from remediate.cli import ticker

    with ticker.paused(), terminal() as term:
        try:
            term.write(f"\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
            term.flush()
            answer = sys.stdin.readline()
        except BaseException:  # issue 23 (N24): Ctrl-C's outcome goes on a line of its own
            term.write("\n")
            term.flush()
            raise
        if not answer:
            term.write("\n")
            raise ApprovalRefused("no answer (end of input); nothing was changed")
    return answer.strip() == "yes"


def stderr_console(color: bool) -> Any:
    """The rich console on standard error: without colour when `--no-color`, `color = false` or
    NO_COLOR said so (`Settings.color`), whatever the terminal supports."""
    from rich.console import Console

    return Console(stderr=True, no_color=not color, highlight=False)


@contextmanager
def progress_bar(enabled: bool, color: bool = True) -> Iterator[ScanProgress]:
    """A rich progress bar on standard error when it is a terminal; rich is imported only then."""
    if not enabled:
        from remediate.run.fleet import SILENT

        yield SILENT
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr_console(color),
        transient=True,
    )

    class _Bar:
        task = bar.add_task("scan", total=None)

        def start(self, total: int) -> None:
            bar.update(self.task, total=total)

        def advance(self) -> None:
            bar.advance(self.task)

    with bar:
        yield _Bar()
