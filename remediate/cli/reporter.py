"""How the command line shows a run's progress and asks for approval (standard error only)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from remediate.cli.context import Ctx
from remediate.errors import ApprovalRefused

if TYPE_CHECKING:
    from remediate.plan import Plan
    from remediate.run.fleet import ScanProgress


class CliReporter:
    """Progress on stderr; approval by the literal answer `yes` on a terminal, or --auto-approve.

    On a terminal, progress is a rich spinner showing the current step (an ESM transition can take
    minutes) above a log of finished steps; elsewhere it is one plain line per step.
    """

    def __init__(self, ctx: Ctx, auto_approve: bool, show_plan: bool) -> None:
        self.ctx = ctx
        self.auto_approve = auto_approve
        self.show_plan = show_plan
        self._status: Any = None
        self._console: Any = None

    def progress(self, message: str) -> None:
        if not sys.stderr.isatty():
            click.echo("  - " + message, err=True)
            return
        if self._status is None:
            from rich.console import Console

            self._console = Console(stderr=True, no_color=not self.ctx.settings.color)
            self._status = self._console.status(message, spinner="dots")
            self._status.start()
        self._console.log(message)
        self._status.update(message)

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def approve(self, plan: Plan) -> bool:
        from remediate.run.render import render_plan

        if self.show_plan:
            self.ctx.emit(render_plan(plan, self.ctx.color, with_findings=True))
        elif not self.auto_approve and sys.stdin.isatty():
            # Standard output is reserved for the one JSON document: the plan asked about is shown
            # on standard error, before the question.
            click.echo(render_plan(plan, color=False, with_findings=True), err=True, nl=False)
        return ask_yes(
            self.auto_approve,
            "Do you want to perform these actions?\n  remediate will perform the actions described above.",
            "no terminal to ask for approval: nothing was changed "
            "(use --auto-approve or `remediate apply FILE`)",
        )


def ask_yes(auto_approve: bool, question: str, no_terminal: str) -> bool:
    """Approval as Terraform asks for it: only the literal answer `yes` (spaces aside) approves;
    without a terminal to ask on, nothing is approved (ApprovalRefused, exit 3)."""
    if auto_approve:
        click.echo("Auto-approved (--auto-approve).", err=True)
        return True
    if not sys.stdin.isatty():
        raise ApprovalRefused(no_terminal)
    click.echo(f"\n{question}\n  Only 'yes' will be accepted to approve.\n", err=True)
    answer = click.prompt("  Enter a value", default="", show_default=False, err=True)
    return str(answer).strip() == "yes"


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ScanProgress]:
    """A rich progress bar on standard error when it is a terminal; rich is imported only then."""
    if not enabled:
        from remediate.run.fleet import SILENT

        yield SILENT
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
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
