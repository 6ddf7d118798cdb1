"""The command line: parse, call the engine, render, exit with the documented code.

Nothing here decides anything about AWS: each command builds a `Run` (or a scan) and reports it.
This package is the only one that imports click or rich.
"""

from __future__ import annotations

import gc
import sys

import click

from remediate.cli import (
    apply_commands,
    demo,
    history_commands,
    info_commands,
    probe_command,
    run_commands,
    ssm_commands,
)
from remediate.errors import ApprovalRefused


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="remediate")
def cli() -> None:
    """Diagnose and safely fix AWS Lambda event source mappings for Amazon MSK and Kafka."""


def main() -> None:
    """Console entry point. Usage errors exit 1 (bad input), since 2 means "changes present".

    An Abort (Ctrl-C or end of input at a question, or a signal before anything was changed: the
    commands that change AWS report their own interrupts) exits 3. Anything unexpected is still one
    line, exit 1, unless `--debug` asks for the traceback.
    """
    # A command makes many short-lived objects (service models, parsed answers) and few reference
    # cycles; collecting the young generation every 700 allocations, the default, took some 8% of a
    # diagnosis's CPU (0.84 s against 0.77 s of user time, one MSK mapping against the sandbox). A
    # long scan still collects, only less often.
    gc.set_threshold(50_000, 50, 100)
    from remediate.cli.context import _current, argv_wants_json, error_document

    _current.clear()  # an earlier invocation in this process (tests) says nothing about this one
    # issue 23: with `--output json`, every exit prints one document on standard output, these too.
    as_json = argv_wants_json(sys.argv[1:])
    try:
        cli.main(standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("Aborted; nothing was changed.", err=True)
        if as_json or argv_wants_json(sys.argv[1:]):
            error_document("aborted; nothing was changed", ApprovalRefused.exit_code)
        sys.exit(ApprovalRefused.exit_code)
    except click.ClickException as exc:
        if isinstance(exc, click.UsageError):  # issue 23 (N7): one line, not click's usage block
            where = f"; see '{exc.ctx.command_path} --help'" if exc.ctx is not None else ""
            click.echo(f"Error: {exc.format_message()}{where}", err=True)
        else:
            exc.show()
        if as_json or argv_wants_json(sys.argv[1:]):
            error_document(exc.format_message(), 1)
        sys.exit(1)
    except Exception as exc:
        if "--debug" in sys.argv[1:]:
            raise
        message = f"{type(exc).__name__}: {exc} (unexpected; run again with --debug for the traceback)"
        click.echo(f"Error: {message}", err=True)
        if as_json or argv_wants_json(sys.argv[1:]):
            error_document(message, 1)
        sys.exit(1)
    finally:
        from remediate.cli import ticker

        ticker.stop()  # issue 23: no progress line outlives its command


for command in (
    run_commands.diagnose,
    run_commands.plan,
    apply_commands.apply,
    run_commands.scan,
    apply_commands.rollback,
    apply_commands.unlock,
    info_commands.playbooks,
    info_commands.iam_policy,
    demo.demo,
    ssm_commands.ssm_document,
    ssm_commands.ssm_bundle,
    ssm_commands.ssm_run,
    ssm_commands.ssm_start,
    probe_command.probe,  # issue 22
    history_commands.runs,  # issue 23
    history_commands.show,  # issue 23
):
    cli.add_command(command)
