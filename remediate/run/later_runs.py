"""issue 23 (item 2, last part): a later run of the same mapping relies on a role statement an earlier
run made.

`reliance` tags endpoints and their groups, which EC2 lets any run tag. The inline policy
`remediate-esm-access` has no tags of its own (IAM tags roles, not their inline policies), and tagging
the role would need iam:TagRole, a broad new write. The journals already say what is needed: a later
run of the same mapping that finished verified, and was not rolled back, verified its fix with the
statement in place (had it been missing, its diagnosis would have planned it again). So at rollback
time the journals of this machine's state directory are read, and such a run keeps the statement.

Only this machine's journals are seen (an SSM run's journal lives in its bucket): keeping is always
safe, and a later run elsewhere is at worst not known, as before this check existed.
"""

from __future__ import annotations

from pathlib import Path

from remediate.errors import RemediateError
from remediate.run.history import run_ids
from remediate.run.journal import Journal, RunRecord


def relying_runs(state_dir: Path, undone_run: str, esm_uuid: str) -> list[str]:
    """The runs (`RUN (ESM UUID)`) of mapping `esm_uuid` journaled after `undone_run` that finished
    verified, changed or found something, and were not rolled back."""
    found = []
    began = _began(state_dir, undone_run)
    for rid in run_ids(state_dir):
        if rid == undone_run:
            continue
        try:
            record = RunRecord(Journal(state_dir, rid))
        except RemediateError:
            continue  # not an apply run's journal (a probe's, a damaged one): it relies on nothing
        rolled_back = any(r.get("status") == "done" for r in record.rollbacks)
        if (
            record.esm_uuid != esm_uuid
            or record.rollback_of is not None
            or not record.finished
            or rolled_back
        ):
            continue
        if _began(state_dir, rid) > began:  # two runs of one second: their first records' times tell
            found.append(f"{rid} (ESM {esm_uuid})")
    return found


def _began(state_dir: Path, run_id: str) -> str:
    """The time (ISO 8601, UTC, milliseconds) of a run's first journal record."""
    return str(Journal(state_dir, run_id).entries()[0].get("ts", ""))
