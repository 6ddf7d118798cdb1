"""Past runs, read from their journals (issue 23 item 8: `remediate runs`, `runs show RUN_ID`).

Terraform users read their state with `state list/show`; a remediate run's record is its journal
(`state_dir/runs/RUN_ID.jsonl`), so the history is the journals, read as `rollback` and `--resume`
read them (`RunRecord`). Nothing here writes: a journal that cannot be read is listed as such, with
the reason, and never repaired or skipped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from remediate.errors import RemediateError
from remediate.run.journal import RUN_ID, Journal, RunRecord


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    esm_uuid: str
    command: str  # `apply`, `apply (resumed)`, `rollback r-...`
    started: str
    ended: str
    outcome: str  # done, failed, interrupted, unfinished, refused..., or `unreadable: why`
    changes: dict[str, str] = field(default_factory=dict)  # change id -> made/skipped/in flight/...
    record: RunRecord | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "esm_uuid": self.esm_uuid,
            "command": self.command,
            "started": self.started,
            "ended": self.ended,
            "outcome": self.outcome,
            "changes": self.changes,
        }


def summarize(journal: Journal) -> RunSummary:
    """What one journal says: its command, times, outcome and each change's fate."""
    try:
        record = RunRecord(journal)
        entries = journal.entries()
    except RemediateError as exc:
        return RunSummary(journal.run_id, "?", "?", "", "", f"unreadable: {exc}")
    first, last = entries[0], entries[-1]
    resumed = any(e["event"] == "resume" for e in entries)
    command = f"rollback {record.rollback_of}" if record.rollback_of else "apply"
    if resumed:
        command += " (resumed)"
    outcome = record.status or "unfinished"
    if record.refused and outcome == "done":
        outcome = f"done, refused {', '.join(record.refused)}"
    rolled = record.last_rollback
    if rolled is not None and rolled.get("status") == "done":
        outcome += f", rolled back by {rolled.get('by')}"
    skipped = {e["change_id"] for e in entries if e["event"] == "skip"}
    changes: dict[str, str] = {}
    for change in record.plan.changes:
        if change.id in skipped:
            fate = "already in effect"
        elif change.id in record.done:
            fate = "made"
        elif change.id in record.in_flight:
            fate = "in flight, outcome unknown until resumed"
        else:
            fate = "not made"
        if change.id in record.undone:
            fate += ", undone"
        changes[change.id] = fate
    return RunSummary(
        run_id=journal.run_id,
        esm_uuid=record.esm_uuid,
        command=command,
        started=str(first.get("ts", "")),
        ended=str(last.get("ts", "")) if record.status else "",
        outcome=outcome,
        changes=changes,
        record=record,
    )


def run_ids(state_dir: Path) -> list[str]:
    """The ids of the journals in `state_dir` (newest first by name: ids start with their UTC time)."""
    runs = state_dir / "runs"
    if not runs.is_dir():
        return []
    ids = [p.stem for p in runs.glob("r-*.jsonl") if RUN_ID.match(p.stem)]
    return sorted(ids, reverse=True)


def list_runs(state_dir: Path, esm: str | None = None) -> list[RunSummary]:
    """Every run this machine journaled, newest first; only one mapping's with `esm` (a UUID)."""
    found = [summarize(Journal(state_dir, run_id)) for run_id in run_ids(state_dir)]
    return [s for s in found if esm is None or s.esm_uuid == esm]
