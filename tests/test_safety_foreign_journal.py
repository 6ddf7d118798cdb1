"""Issue 23 (audit 2026-12-06, N8): a journal of another shape is one line naming the record.

Lines without `change_id`, a run line without `esm_uuid`, `outputs` a list, an event renamed: before,
`KeyError: 'change_id' (unexpected ...)` or silence (the renamed `end` left the change in flight).
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner
from tests.safety import error_lines, signal_during

Rewrite = Callable[[list[dict[str, Any]]], None]


def no_change_id(entries: list[dict[str, Any]]) -> None:
    for e in entries[1:]:
        e.pop("change_id", None)


def no_esm_uuid(entries: list[dict[str, Any]]) -> None:
    entries[0].pop("esm_uuid")


def outputs_a_list(entries: list[dict[str, Any]]) -> None:
    for e in entries:
        if e["event"] == "end":
            e["outputs"] = ["x"]


def end_renamed(entries: list[dict[str, Any]]) -> None:
    for e in entries:
        if e["event"] == "end":
            e["event"] = "done"


CASES = {
    "no_change_id": (no_change_id, "'change_id' is missing"),
    "no_esm_uuid": (no_esm_uuid, "record 1 ('run')"),
    "outputs_a_list": (outputs_a_list, "'outputs' is missing or of another type"),
    "end_renamed": (end_renamed, "('done') is not one this remediate wrote"),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("command", ["resume", "rollback"])
def test_n8_a_journal_of_another_shape_is_one_line(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str], case: str, command: str
) -> None:
    scn = build_scenario(sandbox, "scram-no-nat", role_grants_secret=False)
    args = ("apply", "--esm", scn.esm_uuid, "--auto-approve")
    ended = signal_during(sandbox, cli_env, args, (("ec2", "CreateVpcEndpoint"),), 2, signal.SIGKILL)
    path = Path(cli_env["REMEDIATE_STATE_DIR"]) / "runs" / f"{ended.run_id}.jsonl"
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    rewrite, says = CASES[case]
    rewrite(entries)
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    out = cli(
        *(
            ("apply", "--resume", ended.run_id)
            if command == "resume"
            else ("rollback", ended.run_id, "--auto-approve")
        )
    )
    assert out.returncode == 1, out.stdout + out.stderr
    (line,) = error_lines(out.stderr)
    assert says in line, line
    assert str(path) in line
    assert "unexpected" not in line
