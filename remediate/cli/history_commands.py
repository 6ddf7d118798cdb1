"""What Terraform users expect to read (issue 23 item 8): past runs (`runs`, `runs show RUN_ID`, like
`terraform state list/show`), a saved plan as text (`show PLAN_FILE`, like `terraform show
plan.tfplan`), and shell completion of run ids and change ids. All read-only and local: no AWS call
(except fetching an SSM run's journal from `journal_bucket`, as `rollback` does)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.shell_completion import CompletionItem

from remediate.cli.context import Ctx, common, guard, read_record

if TYPE_CHECKING:
    from remediate.run.history import RunSummary


def _state_dir(click_ctx: click.Context) -> Path | None:
    from remediate.config import load_settings
    from remediate.errors import RemediateError

    try:
        return load_settings(click_ctx.params.get("config_file")).state_dir
    except RemediateError:
        return None


def complete_run_id(
    click_ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Shell completion of a RUN_ID: the runs journaled in state_dir, newest first, with their mapping."""
    from remediate.run.history import run_ids

    state_dir = _state_dir(click_ctx)
    if state_dir is None:
        return []
    return [CompletionItem(r) for r in run_ids(state_dir) if r.startswith(incomplete.strip())]


def complete_change_id(
    click_ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Shell completion of `apply PLAN_FILE --target`: the change ids of the plan file already given."""
    from remediate import plan as plan_mod
    from remediate.errors import RemediateError

    # While an option waits for its value, click leaves the arguments unparsed in `args`.
    given = [click_ctx.params.get("plan_file"), *click_ctx.args]
    path = next((Path(p) for p in given if p and Path(p).is_file()), None)
    if path is None:
        return []
    try:
        saved = plan_mod.load(path)
    except RemediateError:
        return []
    return [
        CompletionItem(c.id, help=f"{c.action} {c.resource}")
        for c in saved.changes
        if c.id.startswith(incomplete)
    ]


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join(
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n" for row in rows
    )


@click.group(invoke_without_command=True)
@click.option("--esm", help="Only the runs of this mapping (UUID).")
@common
@guard
@click.pass_context
def runs(click_ctx: click.Context, /, esm: str | None, **opts: Any) -> None:
    """Past runs journaled on this machine, newest first: run id, mapping, command, started, outcome
    (`runs show RUN_ID`: one run's changes and plan)."""
    from remediate.run.history import list_runs

    if click_ctx.invoked_subcommand is not None:
        return
    ctx = Ctx(**opts)
    found = list_runs(ctx.settings.state_dir, esm.strip() if esm else None)
    if ctx.settings.output == "json":
        ctx.emit_json({"schema": "remediate/runs@1", "runs": [s.to_json() for s in found]})
        return
    if not found:
        ctx.emit(f"No runs journaled in {ctx.settings.state_dir / 'runs'}.\n")
        return
    rows = [["RUN ID", "MAPPING", "COMMAND", "STARTED", "OUTCOME"]]
    rows += [[s.run_id, s.esm_uuid, s.command, s.started[:19].replace("T", " "), s.outcome] for s in found]
    ctx.emit(_table(rows))


@runs.command("show")
@click.argument("run_id", shell_complete=complete_run_id)
@common
@guard
def runs_show(run_id: str, **opts: Any) -> None:
    """One run from its journal: what it was asked to do, what it did with each change, how it ended,
    and how to continue or undo it."""
    from remediate.run.history import summarize
    from remediate.run.render import render_plan

    ctx = Ctx(**opts)
    record = read_record(ctx, run_id.strip())
    summary = summarize(record.journal)
    if summary.record is None:  # read once already: it can only have changed since
        raise click.ClickException(summary.outcome)
    if ctx.settings.output == "json":
        ctx.emit_json({"schema": "remediate/run@1", **summary.to_json(), "plan": record.plan.to_json()})
        return
    ctx.emit(_render_run(summary, render_plan(record.plan, ctx.color, with_findings=True)))


def _render_run(s: RunSummary, plan_text: str) -> str:
    assert s.record is not None
    target = s.record.plan.target
    lines = [
        f"Run {s.run_id}: {s.command}",
        f"  mapping:  {target.esm_arn}",
        f"  started:  {s.started}",
        f"  ended:    {s.ended or '-'}",
        f"  outcome:  {s.outcome}",
    ]
    if s.changes:
        lines.append("  changes:")
        by_id = {c.id: c for c in s.record.plan.changes}
        lines += [
            f"    {cid} {by_id[cid].action} {by_id[cid].resource}: {fate}" for cid, fate in s.changes.items()
        ]
    lines += ["", "The plan it was approved with:", "", plan_text.rstrip("\n"), ""]
    rolled_back = s.record.last_rollback is not None and s.record.last_rollback.get("status") == "done"
    if not s.record.finished and not s.record.rollbacks:
        lines.append(f"Continue it: remediate apply --resume {s.run_id}")
    if s.record.rollback_of is None and not rolled_back:
        lines.append(f"Undo it:     remediate rollback {s.run_id}  (review first: --plan-only)")
    return "\n".join(lines) + "\n"


@click.command()
@click.argument("plan_file", type=click.Path(path_type=Path))
@common
@guard
def show(plan_file: Path, **opts: Any) -> None:
    """A saved plan (`plan --out`, `rollback --out`) as text, as `plan` renders it, for review before
    `apply PLAN_FILE`; `--output json` prints the checked document. Nothing is read from AWS."""
    from remediate import plan as plan_mod
    from remediate.run.render import render_plan

    ctx = Ctx(**opts)
    saved = plan_mod.load(plan_file)
    if ctx.settings.output == "json":
        ctx.emit_json(saved.to_json())
        return
    t = saved.target
    ctx.emit(
        f"Plan {saved.plan_id} for ESM {t.esm_uuid} ({t.region}), made {saved.created_at}\n\n"
        + render_plan(saved, ctx.color, with_findings=True)
    )
