"""End-to-end (issue 21, item 3): the mapping's own system logs prove the cause of a connection error.

Through the real CLI against the sandbox. The records are put where the Lambda developer guide, "Kafka event
source mapping logging", says Lambda writes them: the function's log group, in the stream named by the date
and the mapping's UUID (`2020/01/01/UUID`). The record text is written here, not taken from the code.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import CliRunner, diagnosed

RECORD = (
    "[WARN] Failed to poll records: org.apache.kafka.common.errors.TopicAuthorizationException: "
    "Not authorized to access topics: [orders]"
)


def _write(sandbox: Sandbox, uuid: str, function_name: str, *messages: str) -> None:
    """Write `messages` to the mapping's log stream in the function's log group."""
    logs = sandbox.client("logs")
    group = f"/aws/lambda/{function_name}"
    stream = f"{datetime.now(UTC).strftime('%Y/%m/%d')}/{uuid}"
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now - 1000 * (len(messages) - i), "message": m} for i, m in enumerate(messages)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def _system_logs(sandbox: Sandbox, uuid: str, function_name: str, *messages: str) -> None:
    """Turn the mapping's system logs on (provisioned mode) and write `messages` to its log stream."""
    sandbox.client("lambda").update_event_source_mapping(
        UUID=uuid,
        ProvisionedPollerConfig={"MinimumPollers": 1, "MaximumPollers": 3},
        LoggingConfig={"SystemLogLevel": "WARN"},
    )
    _write(sandbox, uuid, function_name, *messages)


def test_topic_authorization_records_are_the_finding_quoted(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout-measured", name="esm-logs-topic-authz")
    # Before the logs: nothing explains the connection error.
    assert [f["code"] for f in diagnosed(cli, scn.esm_uuid)] == ["CONNECTION_UNEXPLAINED"]

    _system_logs(sandbox, scn.esm_uuid, scn.function_name, RECORD, RECORD, "[INFO] poller started")
    found = diagnosed(cli, scn.esm_uuid)
    assert [f["code"] for f in found] == ["CLUSTER_AUTHZ_FAILED"]  # measured: no "not explained" any more
    [authz] = found
    assert "topic authorization" in authz["summary"]
    assert RECORD in authz["summary"]
    ev = authz["evidence"]
    assert ev["record"] == RECORD
    assert ev["count"] == 2
    assert ev["log_group"] == f"/aws/lambda/{scn.function_name}"
    assert ev["log_stream"].endswith(f"/{scn.esm_uuid}")

    text = cli("diagnose", "--esm", scn.esm_uuid)
    assert text.returncode == 0, text.stderr
    assert "TopicAuthorizationException" in text.stdout


def test_logs_off_read_nothing(sandbox: Sandbox, cli: CliRunner) -> None:
    """Records in the stream of a mapping without a LoggingConfig are not its system logs: not read."""
    scn = build_scenario(sandbox, "broker-timeout-measured", name="esm-logs-off")
    _write(sandbox, scn.esm_uuid, scn.function_name, RECORD)
    assert [f["code"] for f in diagnosed(cli, scn.esm_uuid)] == ["CONNECTION_UNEXPLAINED"]


def test_a_metadata_timeout_is_cited_and_explains_nothing(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout-measured", name="esm-logs-metadata-timeout")
    timeout = (
        "[WARN] org.apache.kafka.common.errors.TimeoutException: "
        "Timeout expired while fetching topic metadata"
    )
    _system_logs(sandbox, scn.esm_uuid, scn.function_name, timeout)
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "CONNECTION_UNEXPLAINED"
    assert timeout in found["summary"]
    assert found["evidence"]["metadata_timeouts"] == [timeout]
    # The system logs were read: they are no longer listed as not measured.
    assert not any("system logs" in n for n in found["evidence"]["not_measured"])


def test_a_denied_log_read_is_could_not_check(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout-measured", name="esm-logs-denied")
    _system_logs(sandbox, scn.esm_uuid, scn.function_name, RECORD)
    sandbox.faults.add(FaultRule(service="logs", operation="FilterLogEvents", kind="status", status=403))
    found = diagnosed(cli, scn.esm_uuid)
    assert "CLUSTER_AUTHZ_FAILED" not in [f["code"] for f in found]
    assert any(
        f["code"] == "COULD_NOT_CHECK" and f"system logs of mapping {scn.esm_uuid}" in f["summary"]
        for f in found
    ), found
