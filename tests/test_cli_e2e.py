"""End-to-end: the real CLI, in a subprocess, against the sandbox server (issue: foundation)."""

from __future__ import annotations

import json
from pathlib import Path

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import CliRunner, settle

CONNECTION = "PROBLEM: Connection error. Please check your event source connection configuration."


def esm_state(sb: Sandbox, uuid: str) -> dict[str, object]:
    raw: dict[str, object] = sb.client("lambda").get_event_source_mapping(UUID=uuid)
    return raw


def test_diagnose_text_and_json(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    text = cli("diagnose", "--esm", scn.esm_uuid)
    assert text.returncode == 0, text.stderr
    assert "BROKER_TIMEOUT" in text.stdout
    assert "the MSK cluster's subnets and security groups" in text.stdout
    doc = json.loads(cli("diagnose", "--esm", scn.esm_uuid, "--output", "json").stdout)
    assert doc["schema"] == "remediate/diagnosis@1"
    assert doc["target"]["esm_uuid"] == scn.esm_uuid
    assert doc["target"]["source_kind"] == "msk"
    assert [f["code"] for f in doc["findings"]] == ["BROKER_TIMEOUT"]


def test_plan_text_json_and_detailed_exitcode(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    text = cli("plan", "--esm", scn.esm_uuid)
    assert text.returncode == 0, text.stderr
    assert "~ BatchSize = 500 -> 1" in text.stdout
    assert "Plan: 0 to add, 2 to change, 0 to destroy." in text.stdout
    doc = json.loads(cli("plan", "--esm", scn.esm_uuid, "--output", "json").stdout)
    assert doc["schema"] == "remediate/plan@1"
    assert [(c["id"], c["action"]) for c in doc["changes"]] == [("c1", "update_esm"), ("c2", "reenable_esm")]
    assert doc["changes"][0]["before"] == {"BatchSize": 500}
    assert doc["changes"][0]["after"] == {"BatchSize": 1}
    assert doc["changes"][0]["because"] == ["BROKER_TIMEOUT"]
    assert doc["fingerprint"].startswith("sha256:")
    assert cli("plan", "--esm", scn.esm_uuid, "--detailed-exitcode").returncode == 2
    healthy = build_scenario(sandbox, "healthy-msk")
    clean = cli("plan", "--esm", healthy.esm_uuid, "--detailed-exitcode")
    assert clean.returncode == 0, clean.stderr
    assert "No changes." in clean.stdout
    # Read-only: planning changed nothing.
    assert esm_state(sandbox, scn.esm_uuid)["BatchSize"] == 500


def test_healthy_self_managed_over_the_internet(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "self-managed-healthy")
    run = cli("diagnose", "--esm", scn.esm_uuid)
    assert run.returncode == 0, run.stderr
    assert "source:   self-managed localhost:9092, 127.0.0.1:9093" in run.stdout
    assert "network:  the internet (self-managed Kafka without VPC source access)" in run.stdout
    assert "No problems found." in run.stdout


def test_esm_arn_is_accepted(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    assert cli("plan", "--esm", scn.esm_arn, "--detailed-exitcode").returncode == 2


def test_apply_auto_approve_converges_and_rerun_changes_nothing(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert run.returncode == 0, run.stderr
    assert "Apply complete! Resources: 0 added, 2 changed, 0 destroyed." in run.stdout
    esm = settle(sandbox, scn.esm_uuid)
    assert (esm["State"], esm["BatchSize"]) == ("Enabled", 1)
    journal = next((Path(cli_env["REMEDIATE_STATE_DIR"]) / "runs").glob("*.jsonl"))
    events = [json.loads(line)["event"] for line in journal.read_text().splitlines()]
    assert events == ["run", "begin", "end", "begin", "end", "verify", "finish"]
    sandbox.clear_calls()
    again = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert again.returncode == 0, again.stderr
    assert "No changes." in again.stdout
    assert not [c for c in sandbox.calls if c[1].startswith(("Update", "Create", "Delete", "Put"))]


def test_apply_saved_plan_file_is_the_approval(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    plan_file = tmp_path / "fix.json"
    assert cli("plan", "--esm", scn.esm_uuid, "--out", str(plan_file)).returncode == 0
    run = cli("apply", str(plan_file))  # stdin is not a terminal: no prompt is needed
    assert run.returncode == 0, run.stderr
    esm = settle(sandbox, scn.esm_uuid)
    assert (esm["State"], esm["BatchSize"]) == ("Enabled", 1)


def test_stale_plan_is_refused_and_changes_nothing(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    plan_file = tmp_path / "fix.json"
    assert cli("plan", "--esm", scn.esm_uuid, "--out", str(plan_file)).returncode == 0
    sandbox.client("lambda").update_event_source_mapping(UUID=scn.esm_uuid, BatchSize=200)
    settle(sandbox, scn.esm_uuid)
    sandbox.clear_calls()
    run = cli("apply", str(plan_file))
    assert run.returncode == 4
    assert "stale" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 200
    assert not [c for c in sandbox.calls if c[1].startswith("Update")]


def test_no_terminal_no_auto_approve_exits_3_and_changes_nothing(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    run = cli("apply", "--esm", scn.esm_uuid)
    assert run.returncode == 3
    assert "nothing was changed" in run.stderr
    esm = settle(sandbox, scn.esm_uuid)
    assert (esm["State"], esm["BatchSize"]) == ("Enabled", 500)


def test_esm_disabled_by_lambda_is_reenabled(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "disabled-by-lambda")
    doc = json.loads(cli("plan", "--esm", scn.esm_uuid, "--output", "json").stdout)
    assert [f["code"] for f in doc["findings"]] == ["ESM_DISABLED"]
    assert [c["action"] for c in doc["changes"]] == ["reenable_esm"]
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    assert settle(sandbox, scn.esm_uuid)["State"] == "Enabled"


def test_unknown_and_non_kafka_esm_are_rejected(sandbox: Sandbox, cli: CliRunner) -> None:
    sqs = build_scenario(sandbox, "sqs-esm")
    unknown = cli("plan", "--esm", "11111111-2222-3333-4444-555555555555")
    assert unknown.returncode == 1
    assert (
        unknown.stderr.strip()
        == "Error: no event source mapping 11111111-2222-3333-4444-555555555555 in us-east-1"
    )
    not_kafka = cli("plan", "--esm", sqs.esm_uuid)
    assert not_kafka.returncode == 1
    assert "polls sqs" in not_kafka.stderr
    assert "not Amazon MSK or Kafka" in not_kafka.stderr
    malformed = cli("diagnose", "--esm", "not-a-uuid")
    assert malformed.returncode == 1
    assert "is not an event source mapping UUID or ARN" in malformed.stderr


def test_retries_clear_injected_faults_on_the_esm_update(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    for kind in ("throttle", "status", "reset"):
        sandbox.faults.add(
            FaultRule(service="lambda", operation="UpdateEventSourceMapping", kind=kind, times=1)
        )
    run = cli(
        "apply",
        "--esm",
        scn.esm_uuid,
        "--auto-approve",
        "--log-format",
        "json",
        env={"REMEDIATE_LOG_LEVEL": "info"},
    )
    assert run.returncode == 0, run.stderr
    retries = [json.loads(line) for line in run.stderr.splitlines() if '"aws.retry"' in line]
    assert len(retries) >= 3
    esm = settle(sandbox, scn.esm_uuid)
    assert (esm["State"], esm["BatchSize"]) == ("Enabled", 1)


def test_retries_are_bounded(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.faults.add(
        FaultRule(service="lambda", operation="UpdateEventSourceMapping", kind="status", status=503)
    )
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", env={"REMEDIATE_RETRY_ATTEMPTS": "3"})
    assert run.returncode == 1
    assert "UpdateEventSourceMapping" in run.stderr or "update_event_source_mapping" in run.stderr
    updates = [c for c in sandbox.calls if c == ("lambda", "UpdateEventSourceMapping")]
    assert len(updates) == 3


def test_esm_transitions_that_take_several_reads(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.esm_transition_reads = 6
    try:
        run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    finally:
        sandbox.esm_transition_reads = 2
    assert run.returncode == 0, run.stderr
    assert "is Disabling" in run.stderr
    assert "is Enabling" in run.stderr


def test_watch_waits_for_aws_to_clear_the_error_text(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", "--watch", "30s")
    assert run.returncode == 0, run.stderr
    assert f"ESM {scn.esm_uuid} reports no error: No records processed" in run.stderr
    journal = next((Path(cli_env["REMEDIATE_STATE_DIR"]) / "runs").glob("*.jsonl"))
    assert '"event": "watch"' in journal.read_text()


def test_watch_reports_an_error_text_that_stays(sandbox: Sandbox, cli: CliRunner) -> None:
    """A fix that needs no restart leaves AWS's old text in place until the pollers run again."""
    scn = build_scenario(sandbox, "msk-iam-no-self-ingress", last_processing_result=CONNECTION)
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", "--watch", "1s")
    assert run.returncode == 1
    assert "still reports: PROBLEM: Connection error" in run.stderr


def test_watch_duration_must_be_a_duration(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", "--watch", "soon")
    assert run.returncode == 1
    assert "is not a duration like 90s, 5m or 1h" in run.stderr
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 500
