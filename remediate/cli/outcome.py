"""How a command that changes AWS ends: what it changed, its run id, and the way on, on every exit.

A run that stopped after changing something (an AWS error, a change that did not verify, a
`--watch` that timed out, an interrupt) says which changes it made, its run id, and the commands
that continue (`apply --resume`) or undo (`rollback`) it, and exits non-zero; one that changed
nothing says so. With `--output json`, standard output carries the command's one document on every
exit, with `state` and `error`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import click

from remediate import restart_mark
from remediate.cli.context import Ctx
from remediate.cli.interrupts import SignalAbort, exit_code, signal_name
from remediate.errors import ApprovalRefused, Interrupted, RemediateError, StalePlanError

if TYPE_CHECKING:
    from remediate.run.machine import Run

Document = Callable[["Run", str, "str | None"], dict[str, Any]]


def warn(run: Run) -> None:
    for warning in run.warnings:
        click.echo(f"Warning: {warning}", err=True)


def state_of(run: Run, exc: BaseException | None) -> str:
    if isinstance(exc, Interrupted | KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, ApprovalRefused):
        return "refused"
    if isinstance(exc, StalePlanError):
        return "stale"
    return run.state


def _made(run: Run) -> list[str]:
    assert run.plan is not None
    by_id = {c.id: c for c in run.plan.changes}
    lines = [f"  {cid} {by_id[cid].action} on {by_id[cid].resource}: made" for cid in run.applied_ids]
    if run.in_flight in run.applied_ids:  # issue 23 (N7): made, but its journal line failed: list it once
        lines[run.applied_ids.index(run.in_flight)] += " (not journaled; --resume finds it in AWS)"
    elif run.denied is not None and run.denied[0] not in run.applied_ids:  # issue 23: N11
        c = by_id[run.denied[0]]
        lines.append(
            f"  {c.id} {c.action} on {c.resource}: refused by AWS ({run.denied[1]}); add the permission "
            "(`remediate iam-policy --mode apply` lists them all), then continue it"
        )
    elif run.in_flight:
        c = by_id[run.in_flight]
        lines.append(f"  {c.id} {c.action} on {c.resource}: in flight, its outcome unknown until resumed")
    earlier = sorted(run.resume.outputs) if run.resume is not None else []
    if earlier:
        lines.append(f"  {', '.join(earlier)}: made before this run was resumed")
    return lines


def stopped(ctx: Ctx, run: Run, exc: BaseException, document: Document) -> NoReturn:
    """Report a run that ended without success, and exit with the documented code."""
    from remediate.log import redact

    signum = exc.signum if isinstance(exc, Interrupted | SignalAbort) else 0
    changed = run.changed
    if signum:
        name = signal_name(signum)
        how = "stopped after the AWS call in flight was finished and journaled"
        if isinstance(exc, SignalAbort):
            how = "stopped at once"
        message = f"{name} received: {how}" + ("" if changed else "; nothing was changed")
        code = exit_code(signum, changed)
        click.echo(f"Interrupted: {message}.", err=True)
    else:
        message = str(exc) or type(exc).__name__
        code = exc.exit_code if isinstance(exc, RemediateError) else 1
        if ctx.debug:  # issue 23 (operator-hunt N17): `--debug` gives the traceback here too (contract §2)
            import traceback

            click.echo(redact("".join(traceback.format_exception(exc)).rstrip()), err=True)
        click.echo(f"Error: {redact(message)}", err=True)
    if changed and run.plan is not None:
        lines = ["Changes made by run " + run.run_id + ":", *_made(run), f"Run id: {run.run_id}"]
        lines.append(f"Continue it: remediate apply --resume {run.run_id}")
        if run.undoes is None:
            lines.append(f"Undo it:     remediate rollback {run.run_id}")
        restart = next((c for c in run.plan.changes if c.id == run.in_flight), None)
        if restart is not None and restart.action == "reenable_esm":  # issue 23: stopped mid-restart
            lines.append(
                f"The trigger may be left off; either command above turns it on again, as does: "
                f"{restart_mark.enable_command(restart.resource)}"
            )
        click.echo(redact("\n".join(lines)), err=True)
    elif run.denied is not None and run.plan is not None:  # issue 23 (N11): refused, nothing changed
        c = next(c for c in run.plan.changes if c.id == run.denied[0])
        click.echo(
            f"Nothing was changed: {c.id} {c.action} on {c.resource} was refused by AWS ({run.denied[1]}); "
            "add the permission (`remediate iam-policy --mode apply` lists them all), then run it again",
            err=True,
        )
    warn(run)  # after the result, as the contract orders them
    if ctx.settings.output == "json":
        click.echo(redact(json.dumps(document(run, state_of(run, exc), message), indent=2, sort_keys=True)))
    sys.exit(code)


def execute(ctx: Ctx, run: Run, close: Callable[[], None], document: Document) -> None:
    """Run `run` with SIGINT/SIGTERM routed to its stop flag; on any failure report and exit."""
    from remediate.cli.interrupts import interrupts

    with interrupts(run.stop):
        try:
            run.execute()
        except (RemediateError, KeyboardInterrupt) as exc:
            close()
            stopped(ctx, run, exc, document)
        finally:
            close()
    warn(run)
