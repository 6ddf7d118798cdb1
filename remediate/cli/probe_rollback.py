"""`remediate rollback RUN_ID` of a `remediate probe` run (issue 22): remove what the probe left.

A probe run killed outright (SIGKILL, a lost machine) leaves its function, the function's log group and
its lock tag on the mapping. Its journal starts with a `probe` record naming the mapping and the
function; the function carries the run's `remediate:run-id` tag and the mapping's `remediate:probe` tag
(`probe_run.create_spec`). Rolling the run back removes exactly that: the functions found by both tags
(never another run's, never a function that only has the name), their log groups and the journaled
function's log group (a kill between the two deletions leaves the log group alone). It is shown first
and approved like any rollback, runs under the mapping's lock (whose acquisition drops the dead run's
tag), and is journaled in the probe run's own journal.
"""

from __future__ import annotations

from typing import Any

import click

from remediate.cli.context import Ctx
from remediate.cli.reporter import ask_yes
from remediate.errors import ApprovalRefused


def probe_record(ctx: Ctx, run_id: str) -> dict[str, Any] | None:
    """The `probe` record that starts run RUN_ID's journal, or None when the run is not a probe's."""
    from remediate.run.journal_store import local_or_stored

    s = ctx.settings
    journal = local_or_stored(s.state_dir, run_id, ctx.aws, s.journal_bucket)
    if not journal.path.exists():
        return None  # `read_record` says in one line that there is no such journal
    entries = journal.entries()
    return entries[0] if entries and entries[0].get("event") == "probe" else None


def rollback_probe(ctx: Ctx, run_id: str, first: dict[str, Any], auto_approve: bool) -> None:
    from remediate.probe_run import leftovers, log_group, remove, remove_log_group
    from remediate.run import lock
    from remediate.run.journal import Journal, new_run_id

    esm_uuid, name = str(first["esm_uuid"]), str(first["function"])
    if first.get("esm_arn"):
        ctx.target_esm(str(first["esm_arn"]))
    aws = ctx.aws()
    _, esm_arn = lock.esm_arn(aws, str(first.get("esm_arn") or esm_uuid))
    functions = leftovers(aws, esm_uuid, run_id=run_id)
    groups = sorted({log_group(n) for n in (*functions, name)})
    lines = [f"Rollback of probe run {run_id} (ESM {esm_uuid}):"]
    lines += [f"  - lambda function {n} (tagged remediate:run-id={run_id})" for n in functions]
    lines += [f"  - log group {g} (if it exists)" for g in groups]
    click.echo("\n".join(lines) + "\n", err=True)
    if not ask_yes(
        auto_approve,
        "Do you want to remove them?",
        "no terminal to ask for approval: nothing was removed (use --auto-approve)",
    ):
        raise ApprovalRefused("the rollback was not approved; nothing was removed")
    by = new_run_id()
    held = lock.EsmLock(aws, esm_arn, esm_uuid, by, ctx.settings.lock_ttl)
    held.acquire()
    try:
        for n in functions:
            remove(aws, n)
        if name not in functions:
            remove_log_group(aws, name)  # the function is gone (or is not the run's): only its logs
    finally:
        held.release()
    journal = Journal(ctx.settings.state_dir, run_id).open()
    try:
        journal.record("probe-rolled-back", by=by, functions=functions, log_groups=groups)
    finally:
        journal.close()
    if ctx.settings.output == "json":
        ctx.emit_json(
            {
                "schema": "remediate/rollback@1",
                "run_id": by,
                "rolled_back": run_id,
                "state": "done",
                "applied": functions,
                "refused": [],
                "error": None,
                "plan": None,
            }
        )
    else:
        gone = ", ".join(groups)
        done = (
            f"removed {', '.join(functions)} and log group(s) {gone}"
            if functions
            else f"no function was left; log group(s) {gone} removed where they were"
        )
        ctx.emit(f"Rollback of probe run {run_id} complete: {done}.\n")
