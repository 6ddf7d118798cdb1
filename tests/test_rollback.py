"""Rollback undoes exactly what one run did, and refuses what was changed since."""

from __future__ import annotations

import json
from pathlib import Path

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner


def settle(sb: Sandbox, uuid: str) -> dict[str, object]:
    for _ in range(30):
        esm: dict[str, object] = sb.client("lambda").get_event_source_mapping(UUID=uuid)
        if esm["State"] in ("Enabled", "Disabled"):
            return esm
    raise AssertionError("ESM never settled")


def last_run(env: dict[str, str]) -> str:
    runs = sorted(
        (Path(env["REMEDIATE_STATE_DIR"]) / "runs").glob("*.jsonl"), key=lambda p: p.stat().st_mtime
    )
    return runs[-1].stem


def test_rollback_restores_batch_size(sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    run_id = last_run(cli_env)
    refused = cli("rollback", run_id)
    assert refused.returncode == 3  # approved like apply: no terminal, no --auto-approve
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 1
    undo = cli("rollback", run_id, "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    assert "~ BatchSize = 1 -> 500" in undo.stdout
    esm = settle(sandbox, scn.esm_uuid)
    assert (esm["State"], esm["BatchSize"]) == ("Enabled", 500)


def test_rollback_disables_what_the_run_enabled(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "disabled")
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    assert settle(sandbox, scn.esm_uuid)["State"] == "Enabled"
    undo = cli("rollback", last_run(cli_env), "--auto-approve", "--output", "json")
    assert undo.returncode == 0, undo.stderr
    assert json.loads(undo.stdout)["applied"] == ["undo-c1"]
    assert settle(sandbox, scn.esm_uuid)["State"] == "Disabled"


def test_rollback_refuses_a_resource_changed_since(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    settle(sandbox, scn.esm_uuid)
    sandbox.client("lambda").update_event_source_mapping(UUID=scn.esm_uuid, BatchSize=300)
    settle(sandbox, scn.esm_uuid)
    sandbox.clear_calls()
    undo = cli("rollback", last_run(cli_env), "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    assert "not rolled back: c1 update_esm" in undo.stdout
    assert "No changes" in undo.stdout
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 300
    assert not [c for c in sandbox.calls if c == ("lambda", "UpdateEventSourceMapping")]
