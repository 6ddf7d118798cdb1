"""issue 23 item 8, what a Terraform user expects: a run history (`runs`, `runs show RUN_ID`), a saved
plan as text (`show PLAN_FILE`), a reviewable rollback (`rollback --plan-only`, `--out FILE`), apply of
a subset of a plan (`--target CHANGE_ID`), and completion of run ids and change ids."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import REMEDIATE, CliRunner, settle, vpc_inventory
from tests.safety import error_lines, writes


def _apply(cli: CliRunner, uuid: str, *extra: str) -> dict[str, object]:
    run = cli("apply", "--esm", uuid, "--auto-approve", "--output", "json", *extra)
    assert run.returncode == 0, run.stderr
    doc: dict[str, object] = json.loads(run.stdout)
    return doc


def test_runs_lists_past_runs_from_their_journals(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    applied = str(_apply(cli, scn.esm_uuid)["run_id"])
    undo = cli("rollback", applied, "--auto-approve", "--output", "json")
    assert undo.returncode == 0, undo.stderr
    undone = json.loads(undo.stdout)["run_id"]
    listed = cli("runs", "--output", "json")
    assert listed.returncode == 0, listed.stderr
    runs = {r["run_id"]: r for r in json.loads(listed.stdout)["runs"]}
    assert set(runs) == {applied, undone}
    assert runs[applied]["command"] == "apply"
    assert runs[applied]["outcome"] == f"done, rolled back by {undone}"
    assert runs[applied]["changes"] == {"c1": "made, undone", "c2": "made"}  # a restart has no undo
    assert runs[undone]["command"] == f"rollback {applied}"
    assert runs[undone]["esm_uuid"] == scn.esm_uuid
    text = cli("runs")
    assert text.returncode == 0, text.stderr
    header, *rows = text.stdout.splitlines()
    assert header.split() == ["RUN", "ID", "MAPPING", "COMMAND", "STARTED", "OUTCOME"]
    assert [r.split()[0] for r in rows] == [undone, applied]  # newest first


def test_runs_without_journals_says_so(cli: CliRunner) -> None:
    run = cli("runs")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("No runs journaled in ")


def test_runs_show_a_run(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    applied = str(_apply(cli, scn.esm_uuid)["run_id"])
    shown = cli("runs", "show", applied)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"Run {applied}: apply\n")
    assert "  outcome:  done\n" in shown.stdout
    assert f"    c1 update_esm {scn.esm_uuid}: made\n" in shown.stdout
    assert "Plan: 0 to add, 2 to change, 0 to destroy." in shown.stdout
    assert f"Undo it:     remediate rollback {applied}" in shown.stdout
    doc = json.loads(cli("runs", "show", applied, "--output", "json").stdout)
    assert doc["schema"] == "remediate/run@1"
    assert doc["plan"]["changes"][0]["id"] == "c1"


def test_runs_show_an_unknown_run_is_one_line(cli: CliRunner) -> None:
    for run_id, says in (("r-20990101T000000Z-000000", "no journal for run"), ("../x", "is not a run id")):
        run = cli("runs", "show", run_id)
        assert run.returncode == 1
        (line,) = error_lines(run.stderr)
        assert says in line


def test_show_renders_a_saved_plan_as_plan_does(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    saved = tmp_path / "p.json"
    planned = cli("plan", "--esm", scn.esm_uuid, "--out", str(saved))
    assert planned.returncode == 0, planned.stderr
    seen = len(sandbox.calls)
    shown = cli("show", str(saved))
    assert shown.returncode == 0, shown.stderr
    actions = planned.stdout[planned.stdout.index("remediate will perform the following actions:") :]
    assert actions in shown.stdout
    assert "BROKER_TIMEOUT" in shown.stdout
    assert sandbox.calls[seen:] == []  # a file, read locally
    assert json.loads(cli("show", str(saved), "--output", "json").stdout) == json.loads(saved.read_text())


def test_show_a_bad_file_is_one_line(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for path in (bad, tmp_path / "missing.json"):
        run = cli("show", str(path))
        assert run.returncode == 1
        (line,) = error_lines(run.stderr)
        assert str(path) in line


def test_rollback_plan_only_and_out_change_nothing(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    applied = str(_apply(cli, scn.esm_uuid)["run_id"])
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 1
    seen = len(sandbox.calls)
    review = cli("rollback", applied, "--plan-only")
    assert review.returncode == 0, review.stderr
    assert "BatchSize" in review.stdout
    assert f"Nothing was changed. To roll back: remediate rollback {applied}" in review.stdout
    planned = json.loads(cli("rollback", applied, "--plan-only", "--output", "json").stdout)
    assert planned["state"] == "planned"
    assert planned["run_id"] is None
    assert planned["applied"] == []
    assert [c["id"] for c in planned["plan"]["changes"]] == ["undo-c1"]
    saved = tmp_path / "undo.json"
    out = cli("rollback", applied, "--out", str(saved))
    assert out.returncode == 0, out.stderr
    assert writes(sandbox, seen) == []
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 1
    shown = cli("show", str(saved))
    assert shown.returncode == 0, shown.stderr
    assert "undo-c1" in shown.stdout
    refused = cli("apply", str(saved), "--auto-approve")
    assert refused.returncode == 1
    (line,) = error_lines(refused.stderr)
    assert "is a rollback plan" in line
    assert cli("rollback", applied, "--auto-approve").returncode == 0
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 500


def test_apply_target_applies_only_the_named_change(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    doc = _apply(cli, scn.esm_uuid, "--target", "c1")
    assert doc["applied"] == ["c1"]
    assert [c["id"] for c in doc["plan"]["changes"]] == ["c1"]  # type: ignore[index]
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 1
    assert not [c for c in sandbox.calls if c == ("lambda", "UpdateEventSourceMapping")][1:]  # no restart


def test_apply_target_brings_what_the_change_needs(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "scram-no-nat")
    planned = json.loads(cli("plan", "--esm", scn.esm_uuid, "--output", "json").stdout)
    endpoint = next(c for c in planned["changes"] if c["action"] == "create_vpc_endpoint")
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", "--target", endpoint["id"])
    assert run.returncode == 0, run.stderr
    assert "(c1: needed by a target)" in run.stderr
    inventory = vpc_inventory(sandbox, scn.vpc_id)
    assert sum(inventory["endpoints"].values()) == 1


def test_apply_target_of_a_plan_file_refuses_an_unknown_id_before_any_call(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    saved = tmp_path / "p.json"
    assert cli("plan", "--esm", scn.esm_uuid, "--out", str(saved)).returncode == 0
    seen = len(sandbox.calls)
    run = cli("apply", str(saved), "--target", "c9", "--auto-approve")
    assert run.returncode == 1
    (line,) = error_lines(run.stderr)
    assert "--target c9: plan p-" in line
    assert "(its changes: c1, c2)" in line
    assert sandbox.calls[seen:] == []
    subset = cli("apply", str(saved), "--target", "c1", "--auto-approve", "--output", "json")
    assert subset.returncode == 0, subset.stderr
    assert json.loads(subset.stdout)["applied"] == ["c1"]


def test_apply_target_with_resume_is_refused(cli: CliRunner) -> None:
    run = cli("apply", "--resume", "r-20260101T000000Z-000000", "--target", "c1")
    assert run.returncode == 1
    (line,) = error_lines(run.stderr)
    assert "--target" in line


def _complete(env: dict[str, str], words: str) -> list[str]:
    """What the bash completion script gets at a TAB (a real process: click writes bytes to stdout)."""
    cword = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    run = subprocess.run(
        [REMEDIATE],
        env={**env, "_REMEDIATE_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": cword},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return [line.split(",", 1)[1] for line in run.stdout.split()]


def test_run_ids_and_change_ids_complete(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    applied = str(_apply(cli, scn.esm_uuid)["run_id"])
    assert _complete(cli_env, "remediate rollback r-") == [applied]
    assert _complete(cli_env, "remediate apply --resume r-2") == [applied]
    saved = tmp_path / "p.json"
    other = build_scenario(sandbox, "scram-no-nat")
    assert cli("plan", "--esm", other.esm_uuid, "--out", str(saved)).returncode == 0
    ids = [c["id"] for c in json.loads(saved.read_text())["changes"]]
    assert len(ids) > 2
    assert _complete(cli_env, f"remediate apply {saved} --target ") == ids


def test_apply_esm_target_refuses_an_unknown_id_before_the_question(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    seen = len(sandbox.calls)
    run = cli("apply", "--esm", scn.esm_uuid, "--target", "c9", "--auto-approve")
    assert run.returncode == 1
    (line,) = error_lines(run.stderr)
    assert "--target c9: plan p-" in line
    assert "(its changes: c1, c2)" in line
    assert not [
        c for c in writes(sandbox, seen) if c != ("lambda", "TagResource") and c[1] != "UntagResource"
    ]
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 500


def test_runs_lists_an_unreadable_journal_as_such(cli: CliRunner, cli_env: dict[str, str]) -> None:
    runs = Path(cli_env["REMEDIATE_STATE_DIR"]) / "runs"
    runs.mkdir(parents=True)
    (runs / "r-20260101T000000Z-aaaaaa.jsonl").write_text("not json\n{}\n")
    run = cli("runs", "--output", "json")
    assert run.returncode == 0, run.stderr
    (entry,) = json.loads(run.stdout)["runs"]
    assert entry["run_id"] == "r-20260101T000000Z-aaaaaa"
    assert entry["outcome"].startswith("unreadable: journal ")
    assert "line 1 is damaged" in entry["outcome"]
