"""The commands that change AWS on one mapping: apply, rollback, and unlock (the way out of a lock).

Each reads its target's region and account from where the mapping is named (an ESM ARN, a plan
file, a journal), runs the engine with SIGINT/SIGTERM routed to a safe stop, and ends through
`outcome`: what changed, the run id and the way on, on every exit.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from remediate.cli.context import Ctx, common, fix_with_option, guard, parse_duration, read_record
from remediate.cli.history_commands import complete_change_id, complete_run_id
from remediate.cli.outcome import execute
from remediate.cli.reporter import CliReporter, ask_yes
from remediate.errors import EXIT_PARTIAL, EXIT_PARTLY_FIXED, ApprovalRefused, InputError

if TYPE_CHECKING:
    from remediate.plan import Plan
    from remediate.run.journal import RunRecord
    from remediate.run.machine import Run


def new_run(
    ctx: Ctx, esm: str, reporter: CliReporter, saved: Plan | None = None, fix_with: tuple[str, ...] = ()
) -> Run:
    from remediate.run.machine import Run

    return Run(
        esm_id=esm,
        mode="apply",
        settings=ctx.settings,
        aws=ctx.aws(),
        playbooks=ctx.playbooks(),
        reporter=reporter,
        saved_plan=saved,
        fix_with=frozenset(fix_with),
    )


def _apply_doc(run: Run, state: str, error: str | None) -> dict[str, Any]:
    return {
        "schema": "remediate/apply@1",
        "run_id": run.journaled_id,
        "state": state,
        "applied": run.applied_ids,
        "in_flight": run.in_flight,
        "error": error,
        "plan": run.plan.to_json() if run.plan is not None else None,
    }


@click.command()
@click.argument("plan_file", required=False, type=click.Path(path_type=Path))
@click.option("--esm", help="ESM UUID or ARN (plan, ask, apply); or give a saved PLAN_FILE instead.")
@click.option("--auto-approve", is_flag=True, default=False, help="Skip the interactive approval.")
@click.option(
    "--resume",
    "resume_id",
    shell_complete=complete_run_id,
    help="Continue the interrupted apply RUN_ID from its journal.",
)
@click.option(  # issue 23
    "--target",
    "targets",
    multiple=True,
    shell_complete=complete_change_id,
    help="Apply only this change of the plan (repeatable; the changes it needs come with it), "
    "like terraform -target.",
)
@click.option(
    "--watch",
    "watch",
    callback=lambda _ctx, _param, value: parse_duration(value) if value else 0.0,
    help="After verify, wait up to DURATION (e.g. 90s, 5m) for AWS to clear the ESM's error text.",
)
@fix_with_option
@common
@guard
def apply(
    plan_file: Path | None,
    esm: str | None,
    auto_approve: bool,
    resume_id: str | None,
    watch: float,
    targets: tuple[str, ...],
    fix_with: tuple[str, ...],
    **opts: Any,
) -> None:
    """Plan, ask for approval, apply and verify; or apply a saved plan file (the file is the approval),
    or resume an interrupted apply from its journal (its plan was approved when it started)."""
    from remediate import plan as plan_mod
    from remediate.aws import arn_region_account
    from remediate.run.machine import check_resumable
    from remediate.run.remaining import still_open
    from remediate.run.render import render_findings

    if sum(map(bool, (plan_file, esm, resume_id))) != 1:
        raise InputError("give exactly one of --esm ESM, a saved PLAN_FILE, or --resume RUN_ID")
    if fix_with and not esm:
        raise InputError(
            "--fix-with chooses what is planned: give it with --esm (a saved plan already chose)"
        )
    if targets and resume_id:
        raise InputError("--target chooses what a new apply does; a resumed run continues its approved plan")
    ctx = Ctx(**opts)
    text = ctx.settings.output == "text"
    reporter = CliReporter(ctx, auto_approve, show_plan=text)
    if resume_id:
        from remediate.run.journal import check_run_id

        resume_id = check_run_id(resume_id)  # a pasted id's spaces dropped (operator-hunt N27)
        record = read_record(ctx, resume_id)
        check_resumable(resume_id, record)  # again under the journal's lock, before any change
        run = new_run(ctx, record.esm_uuid, reporter)
        run.resume, run.run_id = record, resume_id
    elif plan_file:
        saved = plan_mod.load(plan_file)
        if saved.changes and all(c.id.startswith("undo-") for c in saved.changes):
            raise InputError(
                f"{plan_file} is a rollback plan (rollback --out), for review; carry it out with "
                "`remediate rollback RUN_ID`, which plans it again from what is in AWS now"
            )
        if targets:
            from remediate.run.subset import narrow

            narrow(saved, targets)  # an unknown id is refused before anything is read from AWS
        account = (arn_region_account(saved.target.esm_arn) or ("", ""))[1]
        ctx.target(saved.target.region, account, f"plan file {plan_file}")
        run = new_run(ctx, saved.target.esm_uuid, reporter, saved)
    else:
        ctx.target_esm(str(esm))
        run = new_run(ctx, str(esm), reporter, fix_with=fix_with)
    run.watch = watch
    run.targets = frozenset(targets)
    execute(ctx, run, reporter.close, _apply_doc)
    assert run.plan is not None
    assert run.facts is not None
    remaining = still_open(run)  # issue 23: from a fresh diagnosis, not the plan's steps alone
    if not text:
        doc = _apply_doc(run, run.state, None)
        if remaining:  # issue 23 (N5): its own state and exit code, never "done" alone
            doc |= {"state": "partly_fixed", "remaining": remaining}
        ctx.emit_json(doc)
        if remaining:
            sys.exit(EXIT_PARTLY_FIXED)
        return
    if not run.plan.changes:
        ctx.emit(render_findings(run.facts, run.findings, ctx.color) + "\n" + run.plan.summary() + "\n")
        return
    # What this run did (issue 23, N7): a resumed run or one that found changes in effect counts only
    # the changes it made, not the plan's.
    kinds = [c.kind for c in run.plan.changes if c.id in run.applied_ids]
    c = {k: kinds.count(k) for k in ("create", "update", "delete")}
    outcome = "partly fixed" if remaining else "complete"
    ctx.emit(
        f"\nApply {outcome}! Resources: {c['create']} added, {c['update']} changed, "
        f"{c['delete']} destroyed.\n"
        f"Verified: every change was read back and is in effect. Run id: {run.run_id}\n"
    )
    if run.plan.manual_steps and not remaining:
        ctx.emit(
            "The manual steps above are advised; the findings they answer are no longer found "
            "(a fresh diagnosis after verify).\n"
        )
    if remaining:
        n = len(run.plan.manual_steps)
        ctx.emit(
            f"{n} manual step{'s' if n > 1 else ''} remain{'' if n > 1 else 's'} (above); the mapping "
            f"will not recover until {'they are' if n > 1 else 'it is'} done. "
            f"Still open: {', '.join(remaining)}\n"
        )
        sys.exit(EXIT_PARTLY_FIXED)


@click.command()
@click.argument("run_id", shell_complete=complete_run_id)
@click.option("--auto-approve", is_flag=True, default=False, help="Skip the interactive approval.")
@click.option(  # issue 23
    "--plan-only",
    is_flag=True,
    default=False,
    help="Show the rollback plan and stop: nothing is changed (like terraform plan -destroy).",
)
@click.option(
    "--out",
    "out",
    help="Save the rollback plan to FILE for review (`remediate show FILE`); implies --plan-only.",
)
@common
@guard
def rollback(run_id: str, auto_approve: bool, plan_only: bool, out: str | None, **opts: Any) -> None:
    """Undo what apply run RUN_ID changed, newest first, and nothing else (shown as a plan, approved
    like apply). What was changed since that run, or is still used by something else, is refused and
    listed as a manual step (exit 5). RUN_ID of a `remediate probe` run removes the function and log group
    that run left (a killed run's), found by its tags. With --plan-only or --out, only plan it
    (apply runs)."""
    from remediate.cli.run_commands import check_out
    from remediate.run.journal import check_run_id

    path = check_out(out) if out is not None else None
    run_id = check_run_id(run_id)  # a pasted id's spaces dropped (operator-hunt N27)
    ctx = Ctx(**opts)
    from remediate.cli.probe_rollback import probe_record, rollback_probe  # issue 22

    probe = probe_record(ctx, run_id)
    if probe is not None:
        if plan_only or path is not None:
            raise InputError(
                f"run {run_id} is a probe run: --plan-only and --out plan the rollback of an apply run; "
                f"`remediate rollback {run_id}` shows what it would remove before it asks"
            )
        rollback_probe(ctx, run_id, probe, auto_approve)
        return
    record = read_record(ctx, run_id)
    last = record.last_rollback

    def doc(run: Run, state: str, error: str | None) -> dict[str, Any]:
        return {
            "schema": "remediate/rollback@1",
            "run_id": run.journaled_id,
            "rolled_back": run_id,
            "state": state,
            "applied": run.applied_ids,
            "refused": run.refused,
            "error": error,
            "plan": run.plan.to_json() if run.plan is not None else None,
        }

    # issue 23 (N16): a rollback whose own undo was rolled back (R3 undid R2) left nothing undone
    if (
        last is not None
        and last.get("status") == "done"
        and not last.get("refused")
        and set(last.get("undone", [])) <= record.undone
    ):
        message = f"Run {run_id} was already rolled back by run {last.get('by')}; nothing to do."
        if ctx.settings.output == "json":
            ctx.emit_json(
                {
                    "schema": "remediate/rollback@1",
                    "run_id": None,
                    "rolled_back": run_id,
                    "state": "done",
                    "applied": [],
                    "refused": [],
                    "error": None,
                    "plan": None,
                    "already_rolled_back_by": last.get("by"),
                }
            )
        else:
            ctx.emit(message + "\n")
        return
    if plan_only or path is not None:
        _plan_rollback(ctx, run_id, record, path, doc)
        return
    reporter = CliReporter(ctx, auto_approve, show_plan=ctx.settings.output == "text")
    run = new_run(ctx, record.esm_uuid, reporter)
    run.rollback_of = (run_id, record)
    execute(ctx, run, reporter.close, doc)
    assert run.plan is not None
    if ctx.settings.output == "json":
        ctx.emit_json(doc(run, run.state, None))
    elif not run.plan.changes:
        from remediate.run.render import render_plan

        ctx.emit(render_plan(run.plan, ctx.color))
    else:
        ctx.emit(
            f"\nRollback of {run_id} complete: {len(run.applied_ids)} change(s) undone and verified. "
            f"Run id: {run.run_id}\n"
        )
    if run.refused:
        click.echo(
            f"Rollback of {run_id} refused {len(run.refused)} change(s) ({', '.join(run.refused)}): "
            "they changed since the run, are still in use, or cannot be undone; see the manual steps "
            + ("(`manual_steps` in the JSON document)." if ctx.settings.output == "json" else "above."),
            err=True,
        )
        sys.exit(EXIT_PARTIAL)


def _plan_rollback(
    ctx: Ctx,
    run_id: str,
    record: RunRecord,
    path: Path | None,
    doc: Callable[[Run, str, str | None], dict[str, Any]],
) -> None:
    """issue 23: `rollback --plan-only` / `--out FILE`: the rollback plan, read-only (no lock, no
    journal, no write), as `rollback` would show it for approval now."""
    from remediate import plan as plan_mod
    from remediate.run.machine import Run
    from remediate.run.render import render_plan

    run = Run(
        esm_id=record.esm_uuid,
        mode="plan",
        settings=ctx.settings,
        aws=ctx.aws(),
        playbooks=ctx.playbooks(),
        reporter=CliReporter(ctx, False, False),
        rollback_of=(run_id, record),
    )
    run.execute()
    assert run.plan is not None
    if path is not None:
        try:
            plan_mod.save(run.plan, path)
        except OSError as exc:
            raise InputError(f"cannot write the plan to {path}: {exc.strerror or exc}") from None
        click.echo(
            f"Saved the rollback plan to {path}; review it with `remediate show {path}`, carry it out with "
            f"`remediate rollback {run_id}`",
            err=True,
        )
    if ctx.settings.output == "json":
        ctx.emit_json(doc(run, "planned", None) | {"run_id": None})  # planned only: no run was journaled
        return
    ctx.emit(render_plan(run.plan, ctx.color))
    if run.refused:
        ctx.emit(
            f"Rollback of {run_id} would refuse {len(run.refused)} change(s) ({', '.join(run.refused)}): "
            "see the manual steps.\n"
        )
    ctx.emit(f"Nothing was changed. To roll back: remediate rollback {run_id}\n")


@click.command()
@click.option("--esm", required=True, help="ESM UUID or ARN.")
@click.option("--auto-approve", is_flag=True, default=False, help="Skip the interactive question.")
@click.option(  # issue 22
    "--sweep-probes",
    is_flag=True,
    default=False,
    help="Also delete the probe functions (and log groups) a killed `remediate probe` of this ESM left "
    "(needs iam-policy --mode probe).",
)
@common
@guard
def unlock(esm: str, auto_approve: bool, sweep_probes: bool, **opts: Any) -> None:
    """Remove the lock another run left on the ESM (one that crashed, or runs on a machine you can
    no longer reach). Shows who holds it and asks first: a live run would lose its exclusion."""
    from remediate.run import lock

    ctx = Ctx(**opts)
    ctx.target_esm(esm)
    aws = ctx.aws()
    uuid, arn = lock.esm_arn(aws, esm)
    reading = lock.read(aws, arn)
    text = ctx.settings.output == "text"
    holders = reading.holders

    def doc(removed: list[str]) -> dict[str, Any]:
        return {
            "schema": "remediate/unlock@1",
            "esm_uuid": uuid,
            "holders": [
                {"run_id": h.run_id, "host": h.host, "pid": h.pid, "expires": int(h.expires), "tag": h.key}
                for h in holders
            ],
            "removed": removed,
        }

    if not holders:
        if sweep_probes:
            _sweep_probes(ctx, uuid)
        if text:
            ctx.emit(f"ESM {uuid} is not locked.\n")
        else:
            ctx.emit_json(doc([]))
        return
    lines = [f"ESM {uuid} is locked by:"]
    for h in holders:
        status = "live" if h.live(reading.now, reading.exact) else "expired or dead"
        lines.append(f"  {h.describe()} [{status}]")
    click.echo("\n".join(lines), err=True)
    if not ask_yes(
        auto_approve,
        "Remove the lock? A run that is still applying would lose its exclusion.",
        "no terminal to ask on: the lock was left in place (use --auto-approve)",
    ):
        raise ApprovalRefused("the lock was left in place")
    keys = [h.key for h in holders]
    lock.unlock(aws, arn, keys)
    if sweep_probes:
        _sweep_probes(ctx, uuid)
    if text:
        ctx.emit(f"Removed {len(keys)} lock tag(s) from ESM {uuid}.\n")
    else:
        ctx.emit_json(doc(keys))


def _sweep_probes(ctx: Ctx, uuid: str) -> None:
    """issue 22: remove what a killed `remediate probe` of the ESM left (by name and tag,
    `probe_run.sweep`); a policy without the probe's rights gets one line saying so."""
    from remediate.errors import AwsError
    from remediate.probe_run import sweep

    try:
        swept = sweep(ctx.aws(), uuid)
    except AwsError as exc:
        if "AccessDenied" not in (exc.code or ""):
            raise
        click.echo(
            f"Probe functions not swept: {exc.code} (needs `remediate iam-policy --mode probe`); the next "
            f"`remediate probe --esm {uuid}` removes them.",
            err=True,
        )
        return
    if swept:
        click.echo(f"Removed {len(swept)} probe function(s) a killed run left: {', '.join(swept)}", err=True)
