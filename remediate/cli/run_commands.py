"""The commands that run the engine on one mapping or a fleet: diagnose, plan, apply, scan, rollback."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from remediate.cli.context import Ctx, F, common, guard, parse_duration
from remediate.cli.reporter import CliReporter, progress_bar
from remediate.errors import EXIT_CHANGES, ApprovalRefused, InputError

if TYPE_CHECKING:
    from remediate.plan import Plan
    from remediate.run.machine import Mode, Run


def _target(run: Run) -> dict[str, Any]:
    from remediate.run.engine import target_of

    assert run.facts is not None
    return target_of(run.facts).model_dump(mode="json")


def _new_run(
    ctx: Ctx, esm: str, mode: Mode, reporter: Any, saved: Plan | None = None, fix_with: tuple[str, ...] = ()
) -> Run:
    from remediate.run.machine import Run

    return Run(
        esm_id=esm,
        mode=mode,
        settings=ctx.settings,
        aws=ctx.aws(),
        playbooks=ctx.playbooks(),
        reporter=reporter,
        saved_plan=saved,
        fix_with=frozenset(fix_with),
    )


FIX_WITH = ("free-space", "provisioned-mode")
"""The alternative fixes the shipped playbooks offer (`alternatives:`), chosen by name."""


def _fix_with(fn: F) -> F:
    return click.option(
        "--fix-with",
        "fix_with",
        multiple=True,
        type=click.Choice(FIX_WITH),
        help="Plan a playbook's alternative fix instead of its own (provisioned-mode: switch the mapping to "
        "provisioned mode instead of creating VPC endpoints, which costs event poller units; free-space: "
        "free broker storage by hand instead of growing it).",
    )(fn)


@click.command()
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
@guard
def diagnose(esm: str, probe: bool, probe_timeout: float, **opts: Any) -> None:
    """Read-only: observe the ESM, run every check, print the findings."""
    from remediate.run.render import render_findings

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


@click.command()
@click.option("--esm", required=True, help="ESM UUID or ARN.")
@click.option(
    "--out", "out", type=click.Path(path_type=Path), help="Save the plan file (the approval for apply)."
)
@click.option("--detailed-exitcode", is_flag=True, default=False, help="Exit 2 when the plan has changes.")
@_fix_with
@common
@guard
def plan(esm: str, out: Path | None, detailed_exitcode: bool, fix_with: tuple[str, ...], **opts: Any) -> None:
    """Read-only: findings and the ordered change plan, like `terraform plan`."""
    from remediate import plan as plan_mod
    from remediate.run.render import render_findings, render_plan

    ctx = Ctx(**opts)
    run = _new_run(ctx, esm, "plan", CliReporter(ctx, False, False), fix_with=fix_with).execute()
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


@click.command()
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
@_fix_with
@common
@guard
def apply(
    plan_file: Path | None,
    esm: str | None,
    auto_approve: bool,
    resume_id: str | None,
    watch: float,
    fix_with: tuple[str, ...],
    **opts: Any,
) -> None:
    """Plan, ask for approval, apply and verify; or apply a saved plan file (the file is the approval),
    or resume an interrupted apply from its journal (its plan was approved when it started)."""
    from remediate import plan as plan_mod
    from remediate.run.render import render_findings

    if sum(map(bool, (plan_file, esm, resume_id))) != 1:
        raise InputError("give exactly one of --esm ESM, a saved PLAN_FILE, or --resume RUN_ID")
    if fix_with and not esm:
        raise InputError(
            "--fix-with chooses what is planned: give it with --esm (a saved plan already chose)"
        )
    ctx = Ctx(**opts)
    saved = plan_mod.load(plan_file) if plan_file else None
    text = ctx.settings.output == "text"
    reporter = CliReporter(ctx, auto_approve, show_plan=text)
    if resume_id:
        from remediate.run.journal import RunRecord
        from remediate.run.journal_store import local_or_stored

        s = ctx.settings
        progress = RunRecord(local_or_stored(s.state_dir, resume_id, ctx.aws, s.journal_bucket))
        if progress.finished:
            raise InputError(f"run {resume_id} already finished; nothing to resume")
        run = _new_run(ctx, progress.esm_uuid, "apply", reporter)
        run.resume, run.run_id = progress, resume_id
    else:
        run = _new_run(ctx, saved.target.esm_uuid if saved else str(esm), "apply", reporter, saved, fix_with)
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


@click.command()
@click.option("--function", help="Only the mappings of this function (name or ARN).")
@click.option(
    "--fix", is_flag=True, default=False, help="Plan every broken mapping, ask once, then apply and verify."
)
@click.option(
    "--auto-approve", is_flag=True, default=False, help="With --fix: skip the interactive approval."
)
@click.option(
    "--enable-user-disabled",
    is_flag=True,
    default=False,
    help="With --fix: also enable mappings a person disabled (by default they stay disabled).",
)
@_repeatable_region
@common
@guard
def scan(
    function: str | None,
    fix: bool,
    auto_approve: bool,
    enable_user_disabled: bool,
    region: tuple[str, ...],
    **opts: Any,
) -> None:
    """Every Kafka/MSK mapping in the region(s): state and findings. Exit 2 if any mapping has a finding."""
    from remediate.run import fleet
    from remediate.run.render import render_plan, render_scan_table

    contexts = [Ctx(**opts, region=r) for r in dict.fromkeys(region)] or [Ctx(**opts)]
    ctx, s = contexts[0], contexts[0].settings
    sessions = {aws.region: aws for aws in (c.aws() for c in contexts)}  # one per region, for the whole scan
    books = ctx.playbooks()
    with progress_bar(sys.stderr.isatty()) as bar:
        results = fleet.scan(
            list(sessions.values()),
            books,
            function=function,
            workers=s.scan_workers,
            observe_workers=s.max_workers,
            progress=bar,
            metrics_minutes=s.metrics_window,
        )
    text = s.output == "text"
    if text:
        ctx.emit(render_scan_table(results, ctx.color))
    if not fix:
        if not text:
            ctx.emit_json(fleet.to_json(results))
        sys.exit(fleet.exit_code(results))
    fixes = fleet.fixes_for(results, books, enable_user_disabled=enable_user_disabled)
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
        outcomes = fleet.apply_fixes(
            fixes, sessions, s, books, reporter.progress, enable_user_disabled=enable_user_disabled
        )
    if text:
        for o in outcomes:
            status = f"failed: {o.error}" if o.error else f"{o.state}, applied {', '.join(o.applied) or '-'}"
            ctx.emit(f"{o.esm_uuid}: {status} (run {o.run_id})\n")
    else:
        ctx.emit_json(fleet.to_json(results, outcomes))
    sys.exit(fleet.exit_code_after_fix(results, fixes, outcomes))


@click.command()
@click.argument("run_id")
@click.option("--auto-approve", is_flag=True, default=False, help="Skip the interactive approval.")
@common
@guard
def rollback(run_id: str, auto_approve: bool, **opts: Any) -> None:
    """Undo what apply run RUN_ID changed, newest first, and nothing else (shown as a plan, approved
    like apply). A resource changed since that run is refused and listed as a manual step."""
    from remediate.run.journal import RunRecord
    from remediate.run.journal_store import local_or_stored

    ctx = Ctx(**opts)
    s = ctx.settings
    progress = RunRecord(local_or_stored(s.state_dir, run_id, ctx.aws, s.journal_bucket))
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
        from remediate.run.render import render_plan

        ctx.emit(render_plan(run.plan, ctx.color))
    else:
        ctx.emit(
            f"\nRollback of {run_id} complete: {len(run.applied_ids)} change(s) undone and verified. "
            f"Run id: {run.run_id}\n"
        )
