"""The command line: parse, call the engine, render, exit with the documented code.

Nothing here decides anything about AWS; it builds a `Run` and reports it. Heavy imports (boto3,
rich, the engine) happen inside commands, so `remediate --help` starts fast. Standard output carries
only what was asked for (a rendered plan, or one JSON document); logs, progress and the approval
prompt go to standard error.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from remediate.errors import EXIT_CHANGES, ApprovalRefused, InputError, RemediateError

if TYPE_CHECKING:
    from remediate.config import Settings
    from remediate.machine import Mode, Run
    from remediate.plan import Plan

F = TypeVar("F", bound=Callable[..., Any])


def common(fn: F) -> F:
    """Options every AWS-facing command takes (flags win over environment and config file)."""
    options = [
        click.option("--profile", help="AWS profile (default: the standard chain)."),
        click.option("--region", help="AWS region (default: the standard chain)."),
        click.option("--config", "config_file", type=click.Path(path_type=Path), help="TOML settings file."),
        click.option(
            "--output", type=click.Choice(["text", "json"]), help="text (default) or one JSON document."
        ),
        click.option(
            "--log-format", type=click.Choice(["auto", "console", "json"]), help="log renderer on stderr."
        ),
        click.option("--no-color", is_flag=True, default=False, help="no ANSI colors (also: NO_COLOR)."),
        click.option("--debug", is_flag=True, default=False, help="debug logs and tracebacks."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


class Ctx:
    """Per-invocation settings, logging and AWS session, built once from the common options."""

    def __init__(self, **opts: Any) -> None:
        from remediate import log
        from remediate.config import load_settings

        self.debug = bool(opts.get("debug"))
        flags = {k: opts.get(k) for k in ("profile", "region", "output", "log_format")}
        if opts.get("no_color") or "NO_COLOR" in os.environ:
            flags["color"] = False
        if self.debug:
            flags["log_level"] = "debug"
        self.settings: Settings = load_settings(opts.get("config_file"), **flags)
        self.color = self.settings.color and sys.stdout.isatty()
        log.configure(self.settings.log_format, self.settings.log_level, color=self.settings.color)

    def aws(self) -> Any:
        from remediate.aws import Aws

        s = self.settings
        aws = Aws(
            profile=s.profile,
            region=s.region,
            attempts=s.retry_attempts,
            base_delay=s.retry_base_delay,
            max_delay=s.retry_max_delay,
            max_pool=2 * s.max_workers,
        )
        aws.check_credentials()
        return aws

    def playbooks(self) -> Any:
        from remediate import playbook

        return playbook.load(self.settings.playbooks_dir)

    def emit(self, text: str) -> None:
        from remediate.log import redact

        click.echo(redact(text), nl=False)

    def emit_json(self, doc: dict[str, Any]) -> None:
        self.emit(json.dumps(doc, indent=2, sort_keys=True) + "\n")


class CliReporter:
    """Progress on stderr; approval by the literal answer `yes` on a terminal, or --auto-approve."""

    def __init__(self, ctx: Ctx, auto_approve: bool, show_plan: bool) -> None:
        self.ctx = ctx
        self.auto_approve = auto_approve
        self.show_plan = show_plan

    def progress(self, message: str) -> None:
        click.echo(
            ("  " + click.style("…", fg="cyan") if self.ctx.color else "  -") + " " + message, err=True
        )

    def approve(self, plan: Plan) -> bool:
        from remediate.render import render_plan

        if self.show_plan:
            self.ctx.emit(render_plan(plan, self.ctx.color))
        if self.auto_approve:
            click.echo("Auto-approved (--auto-approve).", err=True)
            return True
        if not sys.stdin.isatty():
            raise ApprovalRefused(
                "no terminal to ask for approval: nothing was changed "
                "(use --auto-approve or `remediate apply FILE`)"
            )
        click.echo(
            "\nDo you want to perform these actions?\n  remediate will perform the actions described above.\n"
            "  Only 'yes' will be accepted to approve.\n",
            err=True,
        )
        answer = click.prompt("  Enter a value", default="", show_default=False, err=True)
        return str(answer).strip() == "yes"


def _target(run: Run) -> dict[str, Any]:
    from remediate.engine import target_of

    assert run.facts is not None
    return target_of(run.facts).model_dump(mode="json")


def _new_run(ctx: Ctx, esm: str, mode: Mode, reporter: Any, saved: Plan | None = None) -> Run:
    from remediate.machine import Run

    return Run(
        esm_id=esm,
        mode=mode,
        settings=ctx.settings,
        aws=ctx.aws(),
        playbooks=ctx.playbooks(),
        reporter=reporter,
        saved_plan=saved,
    )


def _guard(fn: F) -> F:
    """Turn every RemediateError into one line on stderr and its exit code."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RemediateError as exc:
            if kwargs.get("debug"):
                raise
            from remediate.log import redact

            click.echo(f"Error: {redact(str(exc))}", err=True)
            sys.exit(exc.exit_code)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="remediate")
def cli() -> None:
    """Diagnose and safely fix AWS Lambda event source mappings for Amazon MSK and Kafka."""


def main() -> None:
    """Console entry point. Usage errors exit 1 (bad input), since 2 means "changes present"."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted; nothing was changed.", err=True)
        sys.exit(ApprovalRefused.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(1)


@cli.command()
@click.option("--esm", required=True, help="ESM UUID or ARN.")
@common
@_guard
def diagnose(esm: str, **opts: Any) -> None:
    """Read-only: observe the ESM, run every check, print the findings."""
    from remediate.render import render_findings

    ctx = Ctx(**opts)
    run = _new_run(ctx, esm, "diagnose", CliReporter(ctx, False, False)).execute()
    assert run.facts is not None
    if ctx.settings.output == "json":
        ctx.emit_json(
            {
                "schema": "remediate/diagnosis@1",
                "target": _target(run),
                "findings": [f.to_json() for f in run.findings],
            }
        )
    else:
        ctx.emit(render_findings(run.facts, run.findings, ctx.color))


@cli.command()
@click.option("--esm", required=True, help="ESM UUID or ARN.")
@click.option(
    "--out", "out", type=click.Path(path_type=Path), help="Save the plan file (the approval for apply)."
)
@click.option("--detailed-exitcode", is_flag=True, default=False, help="Exit 2 when the plan has changes.")
@common
@_guard
def plan(esm: str, out: Path | None, detailed_exitcode: bool, **opts: Any) -> None:
    """Read-only: findings and the ordered change plan, like `terraform plan`."""
    from remediate import plan as plan_mod
    from remediate.render import render_findings, render_plan

    ctx = Ctx(**opts)
    run = _new_run(ctx, esm, "plan", CliReporter(ctx, False, False)).execute()
    assert run.plan is not None
    assert run.facts is not None
    if out:
        plan_mod.save(run.plan, out)
        click.echo(f"Saved the plan to {out}; apply it with: remediate apply {out}", err=True)
    if ctx.settings.output == "json":
        ctx.emit_json(run.plan.to_json())
    else:
        ctx.emit(
            render_findings(run.facts, run.findings, ctx.color) + "\n" + render_plan(run.plan, ctx.color)
        )
    if detailed_exitcode and run.plan.changes:
        sys.exit(EXIT_CHANGES)


@cli.command()
@click.argument("plan_file", required=False, type=click.Path(path_type=Path))
@click.option("--esm", help="ESM UUID or ARN (plan, ask, apply); or give a saved PLAN_FILE instead.")
@click.option("--auto-approve", is_flag=True, default=False, help="Skip the interactive approval.")
@common
@_guard
def apply(plan_file: Path | None, esm: str | None, auto_approve: bool, **opts: Any) -> None:
    """Plan, ask for approval, apply and verify; or apply a saved plan file (the file is the approval)."""
    from remediate import plan as plan_mod
    from remediate.render import render_findings

    if bool(plan_file) == bool(esm):
        raise InputError("give either --esm ESM or a saved PLAN_FILE, not both and not neither")
    ctx = Ctx(**opts)
    saved = plan_mod.load(plan_file) if plan_file else None
    text = ctx.settings.output == "text"
    reporter = CliReporter(ctx, auto_approve, show_plan=text)
    run = _new_run(ctx, saved.target.esm_uuid if saved else str(esm), "apply", reporter, saved)
    run.execute()
    assert run.plan is not None
    assert run.facts is not None
    if ctx.settings.output == "json":
        ctx.emit_json(
            {
                "schema": "remediate/apply@1",
                "run_id": run.run_id,
                "state": run.state,
                "applied": run.applied_ids,
                "plan": run.plan.to_json(),
            }
        )
        return
    if not run.plan.changes:
        ctx.emit(render_findings(run.facts, run.findings, ctx.color) + "\n" + run.plan.summary() + "\n")
        return
    c = run.plan.counts
    ctx.emit(
        f"\nApply complete! Resources: {c['create']} added, {c['update']} changed, {c['delete']} destroyed.\n"
        f"Verified: every change was read back and is in effect. Run id: {run.run_id}\n"
    )


@cli.group()
def playbooks() -> None:
    """The playbooks and their schema check."""


@playbooks.command("list")
def playbooks_list() -> None:
    """List the shipped playbooks: the findings each answers and the actions it takes."""
    from remediate import playbook

    books, errors = playbook.load_dir(playbook.SHIPPED_DIR)
    for pb in books:
        acts = ", ".join(a.action for a in pb.actions) or "(report only)"
        click.echo(f"{pb.name:24} {', '.join(pb.findings):40} {acts}")
    for err in errors:
        click.echo(f"invalid: {err}", err=True)
    if errors:
        sys.exit(1)


@playbooks.command("validate")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def playbooks_validate(directory: Path | None) -> None:
    """Validate the playbooks in DIRECTORY (default: the shipped ones) against the schema and registries."""
    from remediate import playbook

    target = directory or playbook.SHIPPED_DIR
    books, errors = playbook.load_dir(target)
    for err in errors:
        click.echo(f"Error: {err}", err=True)
    if errors:
        sys.exit(1)
    click.echo(f"{len(books)} playbook(s) valid in {target}")


@cli.command("iam-policy")
@click.option("--mode", type=click.Choice(["diagnose", "apply"]), default="apply", show_default=True)
def iam_policy(mode: str) -> None:
    """Print the least-privilege IAM policy the tool needs, derived from the code's declarations."""
    from remediate.permissions import policy_document

    click.echo(json.dumps(policy_document(mode), indent=2))


@cli.command()
@click.option("--scenario", default="broker-timeout", show_default=True, help="Sandbox scenario to seed.")
@click.option("--auto-approve", is_flag=True, default=False, help="Skip the interactive approval.")
@click.option("--no-color", is_flag=True, default=False)
@_guard
def demo(scenario: str, auto_approve: bool, no_color: bool) -> None:
    """The whole flow against the embedded AWS sandbox, on a seeded broken trigger (no AWS account)."""
    from remediate.demo import run_demo

    run_demo(scenario, auto_approve=auto_approve, color=not no_color and "NO_COLOR" not in os.environ)
