"""End-to-end (issue 21, item 4): the MSK brokers' own logs, read where the cluster delivers them.

Through the real CLI against the sandbox. The scenarios deliver broker logs to a CloudWatch log group named
in the cluster's LoggingInfo (MSK developer guide, "Amazon MSK logging") and write Apache Kafka's own broker
lines into it; the lines and addresses expected here are written in the scenarios and this file, not taken
from the code under test.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import CliRunner, diagnosed

GROUP = "/msk/broker-logs"
SASL_LINE = (
    "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"
)


def _plan(cli: CliRunner, uuid: str) -> dict[str, Any]:
    run = cli("plan", "--esm", uuid, "--output", "json")
    assert run.returncode == 0, run.stderr
    doc: dict[str, Any] = json.loads(run.stdout)
    return doc


def test_broker_logs_showing_sasl_failures_are_cited(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-logs-sasl")
    first = sandbox.client("ec2").describe_subnets(SubnetIds=[scn.subnet_ids[0]])["Subnets"][0]
    client = str(
        ipaddress.ip_network(first["CidrBlock"])[10]
    )  # where the scenario's lines say they came from

    found = diagnosed(cli, scn.esm_uuid)
    assert [f["code"] for f in found] == ["SASL_AUTH_FAILED"]  # not "not explained": the brokers say why
    [sasl] = found
    assert SASL_LINE in sasl["summary"]
    assert scn.subnet_ids[0] in sasl["summary"]
    ev = sasl["evidence"]
    assert ev["source"] == "broker-logs"
    assert ev["log_group"] == GROUP
    assert ev["count"] == 2  # the two failures, not the rebalance line between them
    assert ev["client_address"] == client
    assert ev["line"].startswith("[2026-12-06 23:01:07,114] INFO")
    assert f"Failed authentication with /{client}" in ev["line"]

    plan = _plan(cli, scn.esm_uuid)
    assert plan["changes"] == []  # no batch-size change, no restart before a person fixes the credentials
    assert any(SASL_LINE in m["text"] and "list-scram-secrets" in m["text"] for m in plan["manual_steps"])


def test_failures_of_clients_outside_the_pollers_subnets_are_not_the_mappings(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    line = (
        "[2026-12-06 23:01:07,114] INFO [SocketServer listenerType=ZK_BROKER, nodeId=1] "
        f"Failed authentication with /192.0.2.44 (channelId=10.0.1.5:9096-192.0.2.44:51234-7) ({SASL_LINE}) "
        "(org.apache.kafka.common.network.Selector)"
    )
    scn = build_scenario(
        sandbox, "broker-logs-sasl", name="broker-logs-other-client", broker_log_lines=(line,)
    )
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "CONNECTION_UNEXPLAINED"
    ev = found["evidence"]
    # The brokers' logs were read and named no cause: ruled out, no longer "not measured".
    assert any(GROUP in r for r in ev["ruled_out"])
    assert not any("brokers' logs" in n for n in ev["not_measured"])


def test_a_full_disk_in_the_broker_logs_is_broker_trouble(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-logs-disk-full")
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "BROKER_TIMEOUT"  # metrics at 62% alone would not say so
    [trouble] = found["evidence"]["trouble"]
    assert "java.io.IOException: No space left on device" in trouble
    assert GROUP in trouble
    assert "No space left on device" in found["summary"]


def test_logs_not_delivered_to_cloudwatch_are_a_next_step(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout-measured")
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "CONNECTION_UNEXPLAINED"
    steps = " ".join(found["evidence"]["next_steps"])
    assert "delivers no broker logs to CloudWatch Logs" in steps
    assert f"aws kafka update-monitoring --cluster-arn {scn.cluster_arn}" in steps
    assert '"CloudWatchLogs":{"Enabled":true' in steps
    assert any("brokers' logs" in n for n in found["evidence"]["not_measured"])


def test_a_denied_broker_log_read_is_could_not_check(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-logs-sasl", name="broker-logs-denied")
    sandbox.faults.add(FaultRule(service="logs", operation="FilterLogEvents", kind="status", status=403))
    found = diagnosed(cli, scn.esm_uuid)
    assert "SASL_AUTH_FAILED" not in [f["code"] for f in found]
    assert any(f["code"] == "COULD_NOT_CHECK" and f"broker logs of {GROUP}" in f["summary"] for f in found), (
        found
    )


def test_a_failed_tls_handshake_in_the_broker_logs_is_server_auth(sandbox: Sandbox, cli: CliRunner) -> None:
    line = (
        "[2026-12-06 23:03:00,001] INFO [SocketServer listenerType=ZK_BROKER, nodeId=3] "
        "Failed authentication with /{CLIENT} (channelId=10.0.1.7:9094-{CLIENT}:40001-2) "
        "(SSL handshake failed) (org.apache.kafka.common.network.Selector)"
    )
    scn = build_scenario(
        sandbox, "broker-logs-sasl", name="broker-logs-tls", auth="tls", broker_log_lines=(line,)
    )
    found = diagnosed(cli, scn.esm_uuid)
    assert [f["code"] for f in found] == ["SERVER_AUTH_FAILED"]
    assert found[0]["evidence"]["error"] == "the TLS handshake failed"
    assert "(SSL handshake failed)" in found[0]["evidence"]["line"]


def test_the_broker_log_read_is_bounded(sandbox: Sandbox, cli: CliRunner) -> None:
    """At most 5 pages of 200 lines per cluster and window, however busy the brokers were."""
    other = (
        "INFO [SocketServer listenerType=ZK_BROKER, nodeId=1] Failed authentication with /192.0.2.{n} "
        f"(channelId=x) ({SASL_LINE}) (org.apache.kafka.common.network.Selector)"
    )
    lines = tuple(other.format(n=i % 250) for i in range(1200))
    scn = build_scenario(sandbox, "broker-logs-sasl", name="broker-logs-busy", broker_log_lines=lines)
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "CONNECTION_UNEXPLAINED"
    assert any("the first 1000 matching lines" in r for r in found["evidence"]["ruled_out"])
    assert sandbox.calls.count(("logs", "FilterLogEvents")) == 5
