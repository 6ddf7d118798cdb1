"""The write-ahead journal of an apply: one JSON line per event, flushed and fsynced as written.

A line is written before each mutation and after it, so after a crash at any point the journal
says which changes were made, which one was in flight, and what each made (ids of created
resources, previous values) — enough to resume or to roll back. The file lives under the state
directory as `runs/RUN_ID.jsonl`; nothing in it is a secret value.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from remediate.errors import InputError
from remediate.log import redact


def new_run_id() -> str:
    return "r-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


class Journal:
    def __init__(self, state_dir: Path, run_id: str) -> None:
        self.run_id = run_id
        self.path = state_dir / "runs" / f"{run_id}.jsonl"

    def record(self, event: str, **fields: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "run_id": self.run_id,
            "event": event,
            **fields,
        }
        line = redact(json.dumps(entry, sort_keys=True, default=str))
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def entries(self) -> list[dict[str, Any]]:
        """Every complete line; a torn last line (crash mid-write) is ignored, not fatal."""
        if not self.path.exists():
            raise InputError(f"no journal for run {self.run_id} in {self.path.parent}")
        out: list[dict[str, Any]] = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out


class RunRecord:
    """What a journal says about its run: the approved plan, finished changes and their outputs."""

    def __init__(self, journal: Journal) -> None:
        from remediate.plan import from_json

        entries = journal.entries()
        if not entries or entries[0].get("event") != "run":
            raise InputError(f"journal {journal.path} does not start with a run record")
        self.esm_uuid: str = entries[0]["esm_uuid"]
        self.plan = from_json(entries[0]["plan"], f"the plan in journal {journal.path}")
        self.outputs: dict[str, dict[str, Any]] = {}
        self.done: set[str] = set()
        self.begun: set[str] = set()
        self.finished = False
        for entry in entries:
            if entry["event"] == "begin":
                self.begun.add(entry["change_id"])
            elif entry["event"] == "end":
                self.outputs[entry["change_id"]] = entry.get("outputs") or {}
                self.done.add(entry["change_id"])
            elif entry["event"] == "skip":
                self.done.add(entry["change_id"])
            elif entry["event"] == "finish" and entry.get("status") == "done":
                self.finished = True
