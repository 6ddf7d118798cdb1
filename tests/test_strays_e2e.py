"""End to end, issue 25 item 7: a mapping disabled for longer than `stray_disabled_days` is a stray in a scan,
and a stray is deleted only when asked (`scan --fix --delete-strays`), in the diff and in the journal.

How long a mapping has been disabled comes from its LastModified ("the date that the event source mapping
was last updated or that its state changed", Lambda API reference); the sandbox ages it as time would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner, diagnosed

_DAY_MIN = 24 * 60


def _disabled_for(sandbox: Sandbox, days: int) -> str:
    """A mapping its owner disabled `days` ago (the `disabled` scenario, under a name of its own)."""
    return build_scenario(
        sandbox, "disabled", name=f"disabled-{days}d", esm_age_minutes=days * _DAY_MIN
    ).esm_uuid


def _scan(cli: CliRunner, *extra: str) -> dict[str, Any]:
    run = cli("scan", "--output", "json", *extra)
    assert run.returncode in (0, 2), run.stderr
    doc: dict[str, Any] = json.loads(run.stdout)
    return doc


def _codes(doc: dict[str, Any], uuid: str) -> list[str]:
    return [f["code"] for m in doc["mappings"] if m["esm_uuid"] == uuid for f in m["findings"]]


def test_a_mapping_disabled_for_long_is_a_stray_and_deleted_only_when_asked(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    old = _disabled_for(sandbox, 40)
    recent = _disabled_for(sandbox, 3)
    doc = _scan(cli)
    assert _codes(doc, old) == ["STRAY_MAPPING"]
    assert _codes(doc, recent) == ["ESM_DISABLED"]  # paused for days: not a stray at 30
    [ev] = [f["evidence"] for m in doc["mappings"] if m["esm_uuid"] == old for f in m["findings"]]
    assert (ev["cause"], ev["disabled_by"], ev["threshold_days"]) == ("disabled-long", "user", 30)
    assert 40 <= ev["days"] < 40.1
    # Without the flag: the commands, and nothing deleted.
    plain = cli("scan", "--fix", "--auto-approve", "--output", "json")
    assert plain.returncode == 2, plain.stderr
    assert json.loads(plain.stdout)["fixes"] == []
    assert sandbox.client("lambda").get_event_source_mapping(UUID=old)["State"] == "Disabled"
    [step] = json.loads(cli("plan", "--esm", old, "--output", "json").stdout)["manual_steps"]
    assert f"aws lambda delete-event-source-mapping --uuid {old}" in step["text"]
    # The diff shows the deletion before it is asked for.
    shown = cli("scan", "--fix", "--delete-strays", input="no\n")
    assert shown.returncode != 0
    assert "delete_stray_mapping" in shown.stdout
    assert old in shown.stdout
    assert sandbox.client("lambda").get_event_source_mapping(UUID=old)["State"] == "Disabled"
    run = cli("scan", "--fix", "--delete-strays", "--auto-approve", "--output", "json")
    assert run.returncode == 2, run.stderr  # the recently disabled mapping is still a finding
    [fixed] = json.loads(run.stdout)["fixes"]
    assert (fixed["esm_uuid"], fixed["state"], fixed["error"]) == (old, "done", None)
    listed = {m["UUID"] for m in sandbox.client("lambda").list_event_source_mappings()["EventSourceMappings"]}
    assert old not in listed
    assert recent in listed
    # Journaled with what was deleted, so it can be created again by hand.
    journal = (Path(cli_env["REMEDIATE_STATE_DIR"]) / "runs" / f"{fixed['run_id']}.jsonl").read_text()
    [kept] = [
        r["outputs"]["deleted"]
        for r in map(json.loads, journal.splitlines())
        if "deleted" in (r.get("outputs") or {})
    ]
    assert (kept["State"], kept["Topics"]) == ("Disabled", ["orders"])


def test_the_threshold_is_a_setting(sandbox: Sandbox, cli: CliRunner) -> None:
    uuid = _disabled_for(sandbox, 3)
    assert [f["code"] for f in diagnosed(cli, uuid)] == ["ESM_DISABLED"]
    found = diagnosed_with(cli, uuid, {"REMEDIATE_STRAY_DISABLED_DAYS": "2"})
    assert [f["code"] for f in found] == ["STRAY_MAPPING"]
    assert found[0]["evidence"]["threshold_days"] == 2
    assert [f["code"] for f in diagnosed_with(cli, uuid, {"REMEDIATE_STRAY_DISABLED_DAYS": "0"})] == [
        "ESM_DISABLED"
    ]


def diagnosed_with(cli: CliRunner, uuid: str, env: dict[str, str]) -> list[dict[str, Any]]:
    run = cli("diagnose", "--esm", uuid, "--output", "json", env=env)
    assert run.returncode == 0, run.stderr
    found: list[dict[str, Any]] = json.loads(run.stdout)["findings"]
    return found


def test_delete_strays_needs_fix(cli: CliRunner) -> None:
    run = cli("scan", "--delete-strays")
    assert run.returncode != 0
    assert "--delete-strays deletes only with --fix" in run.stderr


pytestmark = pytest.mark.usefixtures("sandbox")
