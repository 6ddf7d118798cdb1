"""The write-ahead journal of an apply: one JSON line per event, flushed and fsynced as written.

A line is written before each mutation and after it, so after a crash at any point the journal
says which changes were made, which one was in flight, and what each made (ids of created
resources, previous values) — enough to resume or to roll back. The file lives under the state
directory as `runs/RUN_ID.jsonl`; nothing in it is a secret value.

What keeps it trustworthy:

- the state directory is checked for writability before a run takes its lock or asks anything,
  and every I/O failure (full disk, read-only file system, a file where a directory should be) is
  one line (`JournalError`), not a traceback;
- creating the file fsyncs its directory too, so a crash right after cannot lose the file itself;
- a process holds an exclusive `flock` on its run's journal for as long as it writes it, so two
  processes on one machine never interleave one run (`apply --resume RUN` twice);
- a line torn by a crash mid-write is closed off before the next record is appended (a newline,
  then a `torn` record naming its line number), so the next record is never glued onto it; any
  other damaged line is an error naming its line number, never silently skipped;
- run ids are validated (pattern and length) before they become a path, so `../x` or a
  5,000-character id cannot read or write outside `state_dir`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from remediate.errors import InputError, JournalError, LockedError
from remediate.log import redact

RUN_ID = re.compile(r"^r-[A-Za-z0-9][A-Za-z0-9-]{0,62}$")
RUN_ID_EXAMPLE = "r-20261128T055626Z-52eff9"


def new_run_id() -> str:
    return "r-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def check_run_id(run_id: str) -> str:
    """`run_id` if it is one this tool could have made; InputError (one short line) otherwise. Spaces
    around it (a pasted id) are dropped, as `--esm` drops them (issue 23, operator-hunt N27)."""
    if RUN_ID.match(run_id.strip()):
        return run_id.strip()
    shown = run_id if len(run_id) <= 40 else run_id[:40] + f"... ({len(run_id)} characters)"
    raise InputError(f"{shown!r} is not a run id (like {RUN_ID_EXAMPLE})")


def _io_error(what: str, path: Path, exc: OSError) -> JournalError:
    return JournalError(f"cannot {what} {path}: {exc.strerror or exc}")


def check_writable(state_dir: Path) -> None:
    """Fail now, in one line, if journals cannot be written: before the lock and the question."""
    runs = state_dir / "runs"
    try:
        runs.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=runs)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise JournalError(
            f"the state directory {state_dir} is not writable ({exc.strerror or exc}); "
            "set state_dir (REMEDIATE_STATE_DIR) to a writable directory"
        ) from None


class Journal:
    """One run's journal file. `record` appends; `entries` reads and checks every line."""

    def __init__(self, state_dir: Path, run_id: str) -> None:
        self.run_id = check_run_id(run_id)
        self.path = state_dir / "runs" / f"{run_id}.jsonl"
        self._fh: IO[bytes] | None = None

    # -- writing ------------------------------------------------------------------------------------
    def open(self) -> Journal:
        """Open for appending and take this machine's exclusive claim on the run (flock)."""
        if self._fh is not None:
            return self
        created = not self.path.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = self.path.open("ab+")
        except OSError as exc:
            raise _io_error("open the journal", self.path, exc) from None
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise LockedError(
                f"run {self.run_id} is in use by another remediate process on this machine "
                f"(its journal {self.path} is locked); wait for that process to end"
            ) from None
        self._fh = fh
        try:
            if created:
                _fsync_dir(self.path.parent)
            self._close_torn_tail()
        except OSError as exc:
            self.close()
            raise _io_error("write the journal", self.path, exc) from None
        return self

    def close(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()  # closing releases the flock
            self._fh = None

    def _close_torn_tail(self) -> None:
        assert self._fh is not None
        size = self._fh.seek(0, os.SEEK_END)
        if size == 0:
            return
        self._fh.seek(size - 1)
        if self._fh.read(1) == b"\n":
            return
        self._fh.seek(0)
        torn_line = self._fh.read().count(b"\n") + 1
        self._write(b"\n")
        self.record("torn", line=torn_line)

    def record(self, event: str, **fields: Any) -> None:
        self.open()
        entry = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "run_id": self.run_id,
            "event": event,
            **fields,
        }
        line = redact(json.dumps(entry, sort_keys=True, default=str))
        try:
            self._write((line + "\n").encode("utf-8"))
        except OSError as exc:
            raise _io_error("write the journal", self.path, exc) from None

    def _write(self, data: bytes) -> None:
        assert self._fh is not None
        self._fh.seek(0, os.SEEK_END)
        self._fh.write(data)
        self._fh.flush()
        os.fsync(self._fh.fileno())

    # -- reading ------------------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.is_file()

    def entries(self) -> list[dict[str, Any]]:
        """Every record. A torn last line (a crash mid-write) is tolerated, and so is a torn line
        that a later `torn` record closed off; any other damaged line is an error naming it."""
        if not self.path.exists():
            raise InputError(f"no journal for run {self.run_id} in {self.path.parent}")
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise _io_error("read the journal", self.path, exc) from None
        lines = data.split(b"\n")
        complete = data.endswith(b"\n")
        if complete:
            lines.pop()  # what follows the last newline is nothing
        parsed: list[dict[str, Any] | None] = []
        for raw in lines:
            try:
                value = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                value = None
            parsed.append(value if isinstance(value, dict) and "event" in value else None)
        closed = {e.get("line") for e in parsed if e is not None and e["event"] == "torn"}
        out: list[dict[str, Any]] = []
        for number, entry in enumerate(parsed, start=1):
            if entry is not None:
                if entry["event"] != "torn":
                    out.append(entry)
                continue
            if number in closed or (number == len(parsed) and not complete):
                continue
            raise JournalError(
                f"journal {self.path} line {number} is damaged; the run's record cannot be trusted "
                "(restore the file, or inspect it by hand)"
            )
        return out


def _fsync_dir(directory: Path) -> None:
    """A new file's directory entry is durable only once the directory itself is fsynced."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


EVENTS = frozenset(
    {"run", "resume", "skip", "begin", "end", "error", "handoff", "verify", "watch", "finish", "rollback"}
)
"""Every event this remediate writes (`torn` records are read by `entries` and never reach a record)."""


def _foreign(journal: Journal, number: int, event: str, key: str) -> JournalError:
    """A journal of another shape (another version, or edited): one line naming the record (issue 23)."""
    what = f"its {key!r} is missing or of another type" if key else "this remediate does not know that event"
    return JournalError(
        f"journal {journal.path} record {number} ({event!r}) is not one this remediate wrote: {what}; "
        "the run's record cannot be trusted (restore the file, or inspect it by hand)"
    )


class RunRecord:
    """What a journal says about its run: the approved plan, finished changes and their outputs,
    whether it finished, and whether (and how far) a rollback has undone it."""

    def __init__(self, journal: Journal) -> None:
        from remediate.plan import from_json

        self.journal = journal
        entries = journal.entries()
        if not entries or entries[0].get("event") != "run":
            raise JournalError(f"journal {journal.path} does not start with a run record")
        first = entries[0]
        if not isinstance(first.get("esm_uuid"), str):
            raise _foreign(journal, 1, "run", "esm_uuid")
        self.esm_uuid: str = first["esm_uuid"]
        self.plan = from_json(first.get("plan"), f"the plan in journal {journal.path}")
        self.rollback_of: str | None = first.get("rollback_of")
        self.refused: list[str] = list(first.get("refused", []))  # a rollback's: what it would not undo
        self.outputs: dict[str, dict[str, Any]] = {}
        self.done: set[str] = set()
        self.begun: set[str] = set()
        self.finished = False
        self.status: str | None = None
        # Rollbacks of this run, recorded here by the rollback runs themselves.
        self.rollbacks: list[dict[str, Any]] = []
        for number, entry in enumerate(entries, start=1):
            event = entry["event"]
            if event not in EVENTS:
                raise _foreign(journal, number, event, "")
            if event in ("begin", "end", "skip") and not isinstance(entry.get("change_id"), str):
                raise _foreign(journal, number, event, "change_id")
            if event == "end" and not isinstance(entry.get("outputs") or {}, dict):
                raise _foreign(journal, number, event, "outputs")
            if event == "begin":
                self.begun.add(entry["change_id"])
            elif event == "end":
                self.outputs[entry["change_id"]] = entry.get("outputs") or {}
                self.done.add(entry["change_id"])
            elif event == "skip":
                self.done.add(entry["change_id"])
            elif event == "finish":
                self.status = entry.get("status")
                self.finished = self.status == "done"
            elif event == "rollback":
                self.rollbacks.append(entry)

    @property
    def in_flight(self) -> set[str]:
        """Changes begun but never ended: the crash (or a lost answer) came during their call."""
        return self.begun - self.done

    @property
    def undone(self) -> set[str]:
        """Ids of this run's changes that rollbacks have undone (or found nothing left to undo of),
        less those whose undo was itself rolled back (issue 23, operator-hunt N16: R2 undid R1's c1,
        R3 undid R2's undo-c1, so c1 is in effect again and `rollback R1` has it to undo)."""
        return {cid for r in self.rollbacks for cid in r.get("undone", []) if cid not in self._redone(r)}

    def _redone(self, rollback: dict[str, Any]) -> set[str]:
        """The changes a rollback undid that a later rollback of that rollback put back, read from
        the rollback run's own journal (beside this one; one kept elsewhere is taken as it says)."""
        by = rollback.get("by")
        if not isinstance(by, str) or not RUN_ID.fullmatch(by):
            return set()
        journal = Journal(self.journal.path.parent.parent, by)
        if not journal.exists():
            return set()
        return {cid.removeprefix("undo-") for cid in RunRecord(journal).undone if cid.startswith("undo-")}

    @property
    def last_rollback(self) -> dict[str, Any] | None:
        return self.rollbacks[-1] if self.rollbacks else None
