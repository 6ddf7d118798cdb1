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

        return Aws.from_settings(self.settings)

    def playbooks(self) -> Any:
        from remediate import playbook

        return playbook.load(self.settings.playbooks_dir)

    def emit(self, text: str) -> None:
        from remediate.log import redact

        click.echo(redact(text), nl=False)

    def emit_json(self, doc: dict[str, Any]) -> None:
        self.emit(json.dumps(doc, indent=2, sort_keys=True) + "\n")


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
        from remediate.render import render_plan

        if self.show_plan:
            self.ctx.emit(render_plan(plan, self.ctx.color, with_findings=True))
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


def parse_duration(text: str) -> float:
    """Seconds from `90`, `90s`, `5m` or `1h`; click.BadParameter (exit 1) for anything else."""
    units = {"s": 1, "m": 60, "h": 3600}
    value = text.strip().lower()
    scale = units.get(value[-1:], 1) if value else 1
    number = value[:-1] if value[-1:] in units else value
    try:
        seconds = float(number) * scale
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a duration like 90s, 5m or 1h") from None
    if not 0 < seconds <= 86400:
        raise click.BadParameter(f"{text!r} must be between 1s and 24h")
    return seconds


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
@click.option(
    "--probe",
    is_flag=True,
    default=False,
    help="Also connect to each broker from this machine and verify its TLS certificate.",
)
@click.option(
    "--probe-timeout",
    type=click.FloatRange(0.1, 60),
    default=5.0,
    show_default=True,
    help="With --probe: seconds for each connect and handshake.",
)
@common
@_guard
def diagnose(esm: str, probe: bool, probe_timeout: float, **opts: Any) -> None:
    """Read-only: observe the ESM, run every check, print the findings."""
    from remediate.render import render_findings

    ctx = Ctx(**opts)
    new = _new_run(ctx, esm, "diagnose", CliReporter(ctx, False, False))
    new.probe_timeout = probe_timeout if probe else None
    run = new.execute()
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
@click.option("--resume", "resume_id", help="Continue the interrupted apply RUN_ID from its journal.")
@click.option(
    "--watch",
    "watch",
    callback=lambda _ctx, _param, value: parse_duration(value) if value else 0.0,
    help="After verify, wait up to DURATION (e.g. 90s, 5m) for AWS to clear the ESM's error text.",
)
@common
@_guard
def apply(
    plan_file: Path | None,
    esm: str | None,
    auto_approve: bool,
    resume_id: str | None,
    watch: float,
    **opts: Any,
) -> None:
    """Plan, ask for approval, apply and verify; or apply a saved plan file (the file is the approval),
    or resume an interrupted apply from its journal (its plan was approved when it started)."""
    from remediate import plan as plan_mod
    from remediate.render import render_findings

    if sum(map(bool, (plan_file, esm, resume_id))) != 1:
        raise InputError("give exactly one of --esm ESM, a saved PLAN_FILE, or --resume RUN_ID")
    ctx = Ctx(**opts)
    saved = plan_mod.load(plan_file) if plan_file else None
    text = ctx.settings.output == "text"
    reporter = CliReporter(ctx, auto_approve, show_plan=text)
    if resume_id:
        from remediate.journal import Journal, Progress

        progress = Progress(Journal(ctx.settings.state_dir, resume_id))
        if progress.finished:
            raise InputError(f"run {resume_id} already finished; nothing to resume")
        run = _new_run(ctx, progress.esm_uuid, "apply", reporter)
        run.resume, run.run_id = progress, resume_id
    else:
        run = _new_run(ctx, saved.target.esm_uuid if saved else str(esm), "apply", reporter, saved)
    run.watch = watch
    try:
        run.execute()
    finally:
        reporter.close()
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


def _repeatable_region(fn: F) -> F:
    """`scan` covers several regions: its --region (one of the `common` options) may repeat."""
    params: list[click.Parameter] = fn.__click_params__  # type: ignore[attr-defined]
    for i, param in enumerate(params):
        if param.name == "region":
            params[i] = click.Option(
                ["--region"],
                multiple=True,
                help="AWS region; repeat for several (default: the standard chain).",
            )
    return fn


@cli.command()
@click.option("--function", help="Only the mappings of this function (name or ARN).")
@click.option(
    "--fix", is_flag=True, default=False, help="Plan every broken mapping, ask once, then apply and verify."
)
@click.option(
    "--auto-approve", is_flag=True, default=False, help="With --fix: skip the interactive approval."
)
@_repeatable_region
@common
@_guard
def scan(function: str | None, fix: bool, auto_approve: bool, region: tuple[str, ...], **opts: Any) -> None:
    """Every Kafka/MSK mapping in the region(s): state and findings. Exit 2 if any mapping has a finding."""
    from remediate import scan as fleet
    from remediate.render import render_plan

    contexts = [Ctx(**opts, region=r) for r in dict.fromkeys(region)] or [Ctx(**opts)]
    ctx, s = contexts[0], contexts[0].settings
    sessions = {aws.region: aws for aws in (c.aws() for c in contexts)}  # one per region, for the whole scan
    books = ctx.playbooks()
    with fleet.progress_bar(sys.stderr.isatty()) as bar:
        results = fleet.scan(
            list(sessions.values()),
            books,
            function=function,
            workers=s.scan_workers,
            observe_workers=s.max_workers,
            progress=bar,
        )
    text = s.output == "text"
    if text:
        ctx.emit(fleet.render_table(results, ctx.color))
    if not fix:
        if not text:
            ctx.emit_json(fleet.to_json(results))
        sys.exit(fleet.exit_code(results))
    fixes = fleet.fixes_for(results, books)
    outcomes: list[fleet.FixOutcome] = []
    if fixes:
        if text:
            for fx in fixes:
                ctx.emit(f"\n# ESM {fx.result.esm_uuid} ({fx.result.function_arn})\n")
                ctx.emit(render_plan(fx.plan, ctx.color))
        reporter = CliReporter(ctx, auto_approve, show_plan=False)
        # One question for all the plans shown above (show_plan=False: the plan argument is not rendered).
        if not reporter.approve(fixes[0].plan):
            raise ApprovalRefused("plans not approved; nothing was changed")
        outcomes = fleet.apply_fixes(fixes, sessions, s, books, reporter.progress)
    if text:
        for o in outcomes:
            status = f"failed: {o.error}" if o.error else f"{o.state}, applied {', '.join(o.applied) or '-'}"
            ctx.emit(f"{o.esm_uuid}: {status} (run {o.run_id})\n")
    else:
        ctx.emit_json(fleet.to_json(results, outcomes))
    sys.exit(fleet.exit_code_after_fix(results, fixes, outcomes))


@cli.command()
@click.argument("run_id")
@click.option("--auto-approve", is_flag=True, default=False, help="Skip the interactive approval.")
@common
@_guard
def rollback(run_id: str, auto_approve: bool, **opts: Any) -> None:
    """Undo what apply run RUN_ID changed, newest first, and nothing else (shown as a plan, approved
    like apply). A resource changed since that run is refused and listed as a manual step."""
    from remediate.journal import Journal, Progress

    ctx = Ctx(**opts)
    progress = Progress(Journal(ctx.settings.state_dir, run_id))
    reporter = CliReporter(ctx, auto_approve, show_plan=ctx.settings.output == "text")
    run = _new_run(ctx, progress.esm_uuid, "apply", reporter)
    run.rollback_of = (run_id, progress)
    try:
        run.execute()
    finally:
        reporter.close()
    assert run.plan is not None
    if ctx.settings.output == "json":
        ctx.emit_json(
            {
                "schema": "remediate/rollback@1",
                "run_id": run.run_id,
                "rolled_back": run_id,
                "state": run.state,
                "applied": run.applied_ids,
                "plan": run.plan.to_json(),
            }
        )
    elif not run.plan.changes:
        from remediate.render import render_plan

        ctx.emit(render_plan(run.plan, ctx.color))
    else:
        ctx.emit(
            f"\nRollback of {run_id} complete: {len(run.applied_ids)} change(s) undone and verified. "
            f"Run id: {run.run_id}\n"
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


# -- SSM Automation: the runbook, its bundle, a local runner, and starting it in AWS ------------------


@cli.command("ssm-document")
@click.option(
    "--bundle", type=click.Path(path_type=Path, exists=True, dir_okay=False), help="The bundle zip."
)
@click.option("--cloudformation", is_flag=True, default=False, help="The deploy template instead.")
@click.option("--out", type=click.Path(path_type=Path), help="Write to FILE instead of standard output.")
@_guard
def ssm_document(bundle: Path | None, cloudformation: bool, out: Path | None) -> None:
    """Print the SSM Automation runbook (schemaVersion 0.3) that runs the same engine.

    With --bundle its `files` section names that zip by sha256 and size (SSM needs it to attach the
    bundle); --cloudformation prints the stack that deploys the runbook and its AutomationAssumeRole.
    """
    import hashlib

    from remediate import ssm_document as docs

    if cloudformation:
        text = docs.template_yaml()
    else:
        attachment = None
        if bundle is not None:
            data = bundle.read_bytes()
            attachment = docs.Attachment(docs.ATTACHMENT, hashlib.sha256(data).hexdigest(), len(data))
        else:
            click.echo("Note: no --bundle: the runbook has no files section yet.", err=True)
        text = docs.to_yaml(docs.runbook(attachment))
    if out:
        out.write_text(text)
        click.echo(f"Wrote {out}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command("ssm-bundle")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--download",
    is_flag=True,
    default=False,
    help="Take manylinux wheels for --arch from PyPI (default: repack what is installed here).",
)
@click.option("--arch", type=click.Choice(["x86_64", "arm64"]), default="x86_64", show_default=True)
@_guard
def ssm_bundle(out_dir: Path, download: bool, arch: str) -> None:
    """Build the runbook's attachment zip (package, dependencies, playbooks) and the matching runbook."""
    from remediate import ssm_bundle as bundles
    from remediate import ssm_document as docs

    built = bundles.build(
        out_dir, source="download" if download else "installed", arch="arm64" if arch == "arm64" else "x86_64"
    )
    runbook_path = out_dir / "remediate-runbook.yaml"
    runbook_path.write_text(docs.to_yaml(docs.runbook(built.attachment)))
    note = None if download else bundles.host_platform_note()
    if note:
        click.echo(f"Note: {note}.", err=True)
    click.echo(f"{built.path}  sha256 {built.sha256}  {built.size} bytes  {len(built.entries)} files")
    click.echo(f"{runbook_path}  (its files section names the bundle)")


@cli.command("ssm-run")
@click.option("--local", is_flag=True, default=False, help="Run the runbook here, step by step (required).")
@click.option("--esm", required=True, help="ESM UUID or ARN.")
@click.option("--mode", type=click.Choice(["Diagnose", "Plan", "Apply"]), default="Apply", show_default=True)
@click.option("--approve", type=click.Choice(["yes", "no"]), help="Answer the approval step (default: ask).")
@click.option(
    "--bundle", type=click.Path(path_type=Path, exists=True, dir_okay=False), help="Run from this zip."
)
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_guard
def ssm_run(local: bool, esm: str, mode: str, approve: str | None, bundle: Path | None, output: str) -> None:
    """Run the generated runbook locally against the AWS the standard chain points at.

    Automation executions cannot be emulated, so this interpreter is how the runbook is proven: the
    same steps, substitutions, branch, approval and limits as SSM, with the handlers from the bundle
    (or the installed package). Exit 3 when the approval is refused; nothing is changed then.
    """
    import hashlib

    from remediate import ssm_document as docs
    from remediate.ssm_runner import Runner

    if not local:
        raise InputError(
            "only --local is supported here; start the runbook in AWS with `remediate ssm-start`"
        )
    attachment = None
    if bundle is not None:
        data = bundle.read_bytes()
        attachment = docs.Attachment(docs.ATTACHMENT, hashlib.sha256(data).hexdigest(), len(data))

    def approver(step: str, message: str) -> bool:
        click.echo(message, err=True)
        if approve is not None:
            click.echo(f"Step {step}: answered {approve!r} (--approve).", err=True)
            return approve == "yes"
        if not sys.stdin.isatty():
            click.echo(f"Step {step}: no terminal to ask on and no --approve: rejected.", err=True)
            return False
        answer = click.prompt(
            f"  Approve step {step}? Only 'yes' approves", default="", show_default=False, err=True
        )
        return str(answer).strip() == "yes"

    runner = Runner(docs.runbook(attachment), approver=approver, bundle=bundle)
    execution = runner.run(
        {
            "EsmId": esm,
            "Mode": mode,
            "Approvers": ["local-operator"],
            "AutomationAssumeRole": "arn:aws:iam::000000000000:role/local-runner",
        }
    )
    if output == "json":
        click.echo(json.dumps(execution.to_json(), indent=2, sort_keys=True))
    else:
        for step in execution.steps:
            click.echo(f"{step.name:14} {step.status:8} {step.seconds:6.1f}s  {step.failure}".rstrip())
        for name, value in execution.outputs.items():
            click.echo(f"{name}: {json.dumps(value)}")
        click.echo(f"Execution {execution.execution_id}: {execution.status}")
    rejected = any(s.action == "aws:approve" and s.status == "Failed" for s in execution.steps)
    if rejected:
        sys.exit(ApprovalRefused.exit_code)
    if execution.status != "Success":
        sys.exit(1)


@cli.command("ssm-start")
@click.option("--esm", required=True, help="ESM UUID or ARN (the same id in every target account).")
@click.option("--document-name", default="Remediate-KafkaEventSourceMapping", show_default=True)
@click.option("--role-arn", required=True, help="The AutomationAssumeRole (deploy/remediate-runbook.yaml).")
@click.option("--mode", type=click.Choice(["Diagnose", "Plan", "Apply"]), default="Plan", show_default=True)
@click.option("--approver", "approvers", multiple=True, help="IAM user/role allowed to approve (repeatable).")
@click.option("--auto-approve", is_flag=True, default=False, help="Apply without the approval step.")
@click.option("--accounts", help="Comma-separated account ids or OU ids: run across the Organization.")
@click.option("--regions", help="Comma-separated regions (with --accounts).")
@click.option(
    "--execution-role-name", default="AWS-SystemsManager-AutomationExecutionRole", show_default=True
)
@click.option("--max-concurrency", default="10%", show_default=True)
@click.option("--max-errors", default="1", show_default=True)
@common
@_guard
def ssm_start(
    esm: str,
    document_name: str,
    role_arn: str,
    mode: str,
    approvers: tuple[str, ...],
    auto_approve: bool,
    accounts: str | None,
    regions: str | None,
    execution_role_name: str,
    max_concurrency: str,
    max_errors: str,
    **opts: Any,
) -> None:
    """Start the runbook in AWS for one ESM, or across accounts and regions of an Organization."""
    from remediate.ssm_fleet import StartRequest, start

    def split(value: str | None) -> tuple[str, ...]:
        return tuple(v.strip() for v in (value or "").split(",") if v.strip())

    request = StartRequest(
        document_name=document_name,
        esm_id=esm,
        assume_role_arn=role_arn,
        mode=mode,
        approvers=approvers,
        auto_approve=auto_approve,
        accounts=split(accounts),
        regions=split(regions),
        execution_role_name=execution_role_name,
        max_concurrency=max_concurrency,
        max_errors=max_errors,
    )
    ctx = Ctx(**opts)
    execution_id = start(ctx.aws(), request)
    click.echo(execution_id)
