"""The commands that run the engine read-only on one mapping or a fleet (diagnose, plan, scan), and
`scan --fix`, which applies to many (`apply`, `rollback` and `unlock` are in `apply_commands`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from remediate.cli.context import Ctx, F, common, fix_with_option, guard
from remediate.cli.interrupts import exit_code, interrupts
from remediate.cli.reporter import CliReporter, progress_bar
from remediate.cli.reports import emit_mapping_report, emit_scan_report, report_output, take_report
from remediate.cli.scan_fix import emit_manual_only
from remediate.errors import EXIT_CHANGES, ApprovalRefused, InputError

if TYPE_CHECKING:
    from remediate.aws import Aws
    from remediate.run.machine import Mode, Run


def _target(run: Run) -> dict[str, Any]:
    from remediate.run.engine import target_of

    assert run.facts is not None
    return target_of(run.facts).model_dump(mode="json")


def _new_run(
    ctx: Ctx, esm: str, mode: Mode, reporter: Any, fix_with: tuple[str, ...] = (), aws: Aws | None = None
) -> Run:
    from remediate.run.machine import Run

    ctx.target_esm(esm)
    return Run(
        esm_id=esm,
        mode=mode,
        settings=ctx.settings,
        aws=aws or ctx.aws(),
        playbooks=ctx.playbooks(),
        reporter=reporter,
        fix_with=frozenset(fix_with),
    )


def check_out(out: str) -> Path:
    """`plan/rollback --out FILE`: a file we can write, checked before anything is read from AWS."""
    if not out.strip():
        raise InputError("--out needs a file name")
    path = Path(out)
    if path.is_dir():
        raise InputError(f"--out {out} is a directory; give a file name")
    parent = path.parent
    if not parent.is_dir():
        raise InputError(f"--out {out}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise InputError(f"--out {out}: the directory {parent} is not writable")
    from remediate.plan import check_writable_target

    check_writable_target(path)  # issue 23 (N1): a device, a link or a directory is never replaced
    return path


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
@click.option(  # issue 22
    "--probe-from-vpc",
    is_flag=True,
    default=False,
    help="Also run `remediate probe` (a short-lived function where the pollers stand; asks first) and "
    "diagnose with what it measured.",
)
@click.option("--auto-approve", is_flag=True, default=False, help="With --probe-from-vpc: skip the question.")
@report_output("markdown")
@common
@guard
def diagnose(
    esm: str, probe: bool, probe_timeout: float, probe_from_vpc: bool, auto_approve: bool, **opts: Any
) -> None:
    """Read-only: observe the ESM, run every check, print the findings (`--output markdown`: a report
    with a picture of the network path and the plan that would fix it). With --probe-from-vpc it is not
    read-only: it creates, invokes and deletes the probe function, after approval, as `remediate probe`."""
    from remediate.cli.ignored import warn_ignored
    from remediate.observe import first_read

    report = take_report(opts)
    ctx = Ctx(**opts)
    ctx.target_esm(esm)
    if not probe:  # issue 23 (N18): said, not silently dropped
        warn_ignored(["probe_timeout"], "without --probe (it times the connects --probe makes)")
    if not probe_from_vpc:
        warn_ignored(["auto_approve"], "without --probe-from-vpc (the only question diagnose asks)")
    aws = ctx.aws()
    # The mapping's read goes out now; the engine's modules load while it is on the wire (issue 26).
    first_read.start(aws, esm, metrics=ctx.settings.metrics_window > 0)
    from remediate.run.render import render_findings

    new = _new_run(ctx, esm, "diagnose", CliReporter(ctx, False, False), aws=aws)
    new.probe_timeout = probe_timeout if probe else None
    run = new.execute()
    assert run.facts is not None
    measured: dict[str, Any] = {}
    if probe_from_vpc:
        from remediate.cli.probe_flow import measure_from_vpc

        record = measure_from_vpc(ctx, run, auto_approve)
        measured = {"probe": {k: record[k] for k in ("run_id", "function", "swept")}}
    assert run.facts is not None
    if report:
        emit_mapping_report(ctx, run, None)
    elif ctx.settings.output == "json":
        ctx.emit_json(
            {
                "schema": "remediate/diagnosis@1",
                "target": _target(run),
                "findings": [f.to_json() for f in run.findings],
                **measured,
            }
        )
    else:
        ctx.emit(render_findings(run.facts, run.findings, ctx.color))


@click.command()
@click.option("--esm", required=True, help="ESM UUID or ARN.")
@click.option("--out", "out", help="Save the plan file (the approval for apply).")
@click.option("--detailed-exitcode", is_flag=True, default=False, help="Exit 2 when the plan has changes.")
@report_output("markdown")
@fix_with_option
@common
@guard
def plan(esm: str, out: str | None, detailed_exitcode: bool, fix_with: tuple[str, ...], **opts: Any) -> None:
    """Read-only: findings and the ordered change plan, like `terraform plan`."""
    from remediate import plan as plan_mod
    from remediate.cli.outcome import warn
    from remediate.run import lock
    from remediate.run.render import render_findings, render_plan

    report = take_report(opts)
    path = check_out(out) if out is not None else None
    ctx = Ctx(**opts)
    run = _new_run(ctx, esm, "plan", CliReporter(ctx, False, False), fix_with=fix_with).execute()
    assert run.plan is not None
    assert run.facts is not None
    if path is not None:
        try:
            plan_mod.save(run.plan, path)
        except OSError as exc:
            raise InputError(f"cannot write the plan to {path}: {exc.strerror or exc}") from None
        if run.plan.changes:
            click.echo(f"Saved the plan to {path}; apply it with: remediate apply {path}", err=True)
        else:  # issue 23 (operator-hunt N25)
            click.echo(f"Saved the plan to {path}; it has no changes, so there is nothing to apply", err=True)
    if report:
        emit_mapping_report(ctx, run, run.plan)
    elif ctx.settings.output == "json":
        ctx.emit_json(run.plan.to_json())
    else:
        ctx.emit(
            render_findings(run.facts, run.findings, ctx.color) + "\n" + render_plan(run.plan, ctx.color)
        )
    warn(run)  # issue 23 (N18): after the result, as apply orders them
    holder = lock.held_now(run.aws, run.facts.esm.arn)
    if holder is not None:  # issue 23 (N25): as Terraform's plan reports a held state lock
        click.echo(
            f"Note: ESM {run.facts.esm.uuid} is locked by run {holder.run_id}"
            + (f" (host {holder.host}, pid {holder.pid})" if holder.host else "")
            + f" since {holder.since_text()}: an apply now is refused until it ends; "
            + lock.way_out(run.facts.esm.uuid),
            err=True,
        )
    if detailed_exitcode and run.plan.changes:
        sys.exit(EXIT_CHANGES)


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
@click.option(  # issue 25, item 7
    "--delete-strays",
    is_flag=True,
    default=False,
    help="With --fix: delete stray mappings (deleted source or function, disabled longer than "
    "stray_disabled_days) instead of listing the commands; each deletion is in the plan and journaled.",
)
@_repeatable_region
@report_output("markdown", "html")
@common
@guard
def scan(
    function: str | None,
    fix: bool,
    auto_approve: bool,
    enable_user_disabled: bool,
    delete_strays: bool,
    region: tuple[str, ...],
    **opts: Any,
) -> None:
    """Every Kafka/MSK mapping in the region(s): state and findings. Exit 2 if any mapping has a finding."""
    from remediate.run import fleet
    from remediate.run.machine import Stop
    from remediate.run.render import render_plan, render_scan_table

    report = take_report(opts)
    if report and fix:
        raise InputError("--output markdown|html reports a scan; run --fix with --output text or json")
    if delete_strays and not fix:
        raise InputError("--delete-strays deletes only with --fix")
    fix_with = frozenset({"delete-strays"} if delete_strays else ())
    contexts = [Ctx(**opts, region=r) for r in dict.fromkeys(region)] or [Ctx(**opts)]
    ctx, s = contexts[0], contexts[0].settings
    sessions = {aws.region: aws for aws in (c.aws() for c in contexts)}  # one per region, for the whole scan
    books = ctx.playbooks()
    with progress_bar(sys.stderr.isatty(), s.color) as bar:
        results = fleet.scan(
            list(sessions.values()),
            books,
            function=function,
            workers=s.scan_workers,
            observe_workers=s.max_workers,
            progress=bar,
            metrics_minutes=s.metrics_window,
            stray_disabled_days=s.stray_disabled_days,  # issue 25
            monitoring_asked=s.monitoring_fix,
        )
    if function is not None and not results:  # issue 23 (N10): a typo is not "all healthy"
        where = ", ".join(sessions)
        raise InputError(f"no Kafka or MSK mapping for function {function} in {where}")
    text = s.output == "text"
    if report:
        emit_scan_report(ctx, report, results, books)
        sys.exit(fleet.exit_code(results))
    if text:
        ctx.emit(render_scan_table(results, ctx.color, list(sessions)))
    if not fix:
        if not text:
            ctx.emit_json(fleet.to_json(results))
        sys.exit(fleet.exit_code(results))
    fixes = fleet.fixes_for(results, books, enable_user_disabled=enable_user_disabled, fix_with=fix_with)
    outcomes: list[fleet.FixOutcome] = []
    stop = Stop()
    if text:
        emit_manual_only(
            ctx, results, fixes, books, enable_user_disabled=enable_user_disabled, fix_with=fix_with
        )
    if fixes:
        if text:
            for fx in fixes:
                ctx.emit(f"\n# ESM {fx.result.esm_uuid} ({fx.result.function_arn})\n")
                ctx.emit(render_plan(fx.plan, ctx.color))
        reporter = CliReporter(ctx, auto_approve, show_plan=False)
        # One question for every plan (issue 23, N2): shown above on standard output in text, and on the
        # terminal as well whenever standard output is not it (a file, or the JSON document).
        headed = [(f"\n# ESM {fx.result.esm_uuid} ({fx.result.function_arn})\n", fx.plan) for fx in fixes]
        if not reporter.approve_all(headed, on_stdout=text):
            raise ApprovalRefused("plans not approved; nothing was changed")
        stop = Stop()
        with interrupts(stop):
            try:
                outcomes = fleet.apply_fixes(
                    fixes,
                    sessions,
                    s,
                    books,
                    reporter.progress,
                    stop,
                    enable_user_disabled=enable_user_disabled,
                    fix_with=fix_with,
                )
            except KeyboardInterrupt:  # a second signal: the run in flight stopped at once
                outcomes = []
            finally:
                reporter.close()  # issue 23 (N24): the spinner is gone before the outcomes are printed
    if text:
        for o in outcomes:
            status = f"failed: {o.error}" if o.error else f"{o.state}, applied {', '.join(o.applied) or '-'}"
            ctx.emit(f"{o.esm_uuid}: {status} (run {o.run_id})\n")
    else:
        ctx.emit_json(fleet.to_json(results, outcomes))
    if stop.requested:
        changed = [o for o in outcomes if o.applied]
        for o in changed:
            click.echo(
                f"Run {o.run_id} changed {o.esm_uuid}: continue it with `remediate apply --resume "
                f"{o.run_id}`, or undo it with `remediate rollback {o.run_id}`",
                err=True,
            )
        click.echo(
            f"Interrupted: stopped after the AWS call in flight{'' if changed else '; nothing was changed'}.",
            err=True,
        )
        sys.exit(exit_code(stop.signum, bool(changed)))
    sys.exit(fleet.exit_code_after_fix(results, fixes, outcomes))
