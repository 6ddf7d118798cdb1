"""Issue 22, item 4 through the CLI: each failure case of the real broker (tests/kafka_broker.py), measured
by `remediate probe --esm` against the sandbox, whose Lambda runs the packaged probe against that broker.

Each case asserts the measured finding (source "measured") names the broker, the step and the error the
real broker (or the network path to it) gives: Kafka's protocol error codes (Apache Kafka protocol guide,
"Error Codes": UNKNOWN_TOPIC_OR_PARTITION 3, TOPIC_AUTHORIZATION_FAILED 29), the TLS verification outcome,
the TCP refusal, the failed name lookup; and that the run leaves no function, log group or lock. The cases
that already have an end-to-end test (success, wrong SCRAM password, denied group) are in
tests/test_probe_e2e.py and tests/test_probe_measured_e2e.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from remediate.sandbox import Sandbox, build_scenario
from tests import kafka_broker as kb
from tests.conftest import CliRunner
from tests.kafka_broker import Broker
from tests.test_probe_e2e import _nothing_left


def _scram(b: Broker, topic: str) -> dict[str, Any]:
    return {
        "auth": "scram",
        "self_managed_servers": (f"localhost:{b.sasl_ssl}",),
        "secret_value": json.dumps({"username": kb.SCRAM_USER, "password": kb.SCRAM_PASSWORD}),
        "root_ca_certificate": b.ca_pem,
        "self_managed_topic": topic,
    }


def _plain(server: str) -> dict[str, Any]:
    return {"auth": "none", "self_managed_servers": (server,)}


# id -> (scenario overrides, the finding's code, the broker it names, the step, the error it names)
Case = tuple[Callable[[Broker], dict[str, Any]], str, Callable[[Broker], str], str, str]
CASES: dict[str, Case] = {
    "unknown-topic": (
        lambda b: _scram(b, "orders-missing"),
        "TOPIC_NOT_FOUND",
        lambda b: f"localhost:{b.sasl_ssl}",
        "topic",
        "kafka-error UNKNOWN_TOPIC_OR_PARTITION (3)",
    ),
    "acl-denies-topic": (
        lambda b: _scram(b, kb.DENIED_TOPIC),
        "CLUSTER_AUTHZ_FAILED",
        lambda b: f"localhost:{b.sasl_ssl}",
        "topic",
        "kafka-error TOPIC_AUTHORIZATION_FAILED (29)",
    ),
    "server-certificate-for-another-host": (
        lambda b: {**_plain(f"localhost:{b.wronghost}"), "root_ca_certificate": b.ca_pem},
        "SERVER_AUTH_FAILED",
        lambda b: f"localhost:{b.wronghost}",
        "tls",
        "hostname-mismatch: broker certificate: Hostname mismatch, certificate is not valid for 'localhost'",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_failure_is_a_measured_finding_naming_broker_step_and_error(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner, case: str
) -> None:
    overrides, code, server, step, error = CASES[case]
    scn = build_scenario(
        sandbox,
        "self-managed-healthy",
        self_managed_vpc=True,
        consumer_group_id=kb.ALLOWED_GROUP,
        **overrides(kafka_broker),
    )
    broker = server(kafka_broker)
    done = cli("probe", "--esm", scn.esm_uuid, "--auto-approve")
    assert done.returncode == 0, done.stderr
    [line] = [x for x in done.stdout.splitlines() if f"{code}: measured from the pollers' place" in x]
    assert f"bootstrap {broker}, step {step}" in line
    assert error in line
    _nothing_left(sandbox, scn.esm_uuid)


def test_a_closed_port_and_a_name_that_does_not_resolve_in_one_run(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner
) -> None:
    """Two bootstrap servers of one PLAINTEXT mapping, each failing its own way (one probe run for both:
    the probe measures every bootstrap server, whatever the one before it did)."""
    closed, nowhere = f"127.0.0.1:{kafka_broker.closed}", f"b-1.nowhere.invalid:{kafka_broker.plaintext}"
    scn = build_scenario(
        sandbox,
        "self-managed-healthy",
        auth="none",
        self_managed_vpc=True,
        self_managed_servers=(closed, nowhere),
        consumer_group_id=kb.ALLOWED_GROUP,
    )
    done = cli("probe", "--esm", scn.esm_uuid, "--auto-approve")
    assert done.returncode == 0, done.stderr
    lines = [x for x in done.stdout.splitlines() if "measured from the pollers' place" in x]
    assert len(lines) == 2, done.stdout
    blocked, unresolvable = sorted(lines, key=lambda x: "BROKER_DNS_UNRESOLVABLE" in x)
    assert "BROKER_PORTS_BLOCKED: measured" in blocked
    assert f"bootstrap {closed}, step tcp: refused: 127.0.0.1:{kafka_broker.closed} refused" in blocked
    assert "BROKER_DNS_UNRESOLVABLE: measured" in unresolvable
    assert (
        f"bootstrap {nowhere}, step dns: unresolvable: b-1.nowhere.invalid does not resolve" in unresolvable
    )
    _nothing_left(sandbox, scn.esm_uuid)


def test_client_certificate_from_an_untrusted_ca_is_rejected_by_the_brokers_tls_alert(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner
) -> None:
    """The broker (client auth required) rejects a certificate its CA did not sign with a TLS alert, which
    Java's broker sends after the TLS 1.3 handshake: the probe reads it on its first request (api_versions).
    The alert (RFC 8446's unknown_ca or certificate_unknown) is about the client's certificate:
    CLIENT_CERT_REJECTED, naming the broker, the step and the alert."""
    scn = build_scenario(
        sandbox,
        "self-managed-healthy",
        auth="tls",
        self_managed_vpc=True,
        self_managed_servers=(f"localhost:{kafka_broker.ssl}",),
        secret_value=json.dumps(
            {"certificate": kafka_broker.rogue_cert_pem, "privateKey": kafka_broker.rogue_key_pem}
        ),
        root_ca_certificate=kafka_broker.ca_pem,
        consumer_group_id=kb.ALLOWED_GROUP,
    )
    done = cli("probe", "--esm", scn.esm_uuid, "--auto-approve", "--output", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    [boot] = doc["result"]["bootstrap"]
    steps = {s["step"]: s for s in boot["steps"]}
    assert steps["tls"]["outcome"] == "ok"  # TLS 1.3: the client's side of the handshake completes
    assert doc["result"]["complete"] is False
    [finding] = [f for f in doc["findings"] if f["evidence"].get("source") == "measured"]
    assert finding["code"] == "CLIENT_CERT_REJECTED"
    step = finding["evidence"]["measured"]
    assert (step["server"], step["step"], step["outcome"]) == (
        f"localhost:{kafka_broker.ssl}",
        "api_versions",
        "tls-alert",
    )
    assert step["tls_alert"] in ("SSLV3_ALERT_CERTIFICATE_UNKNOWN", "TLSV1_ALERT_UNKNOWN_CA")
    assert f"bootstrap localhost:{kafka_broker.ssl}, step api_versions: tls-alert" in finding["summary"]
    assert step["tls_alert"] in finding["summary"]
    assert kafka_broker.rogue_key_pem.splitlines()[1] not in done.stdout + done.stderr
    _nothing_left(sandbox, scn.esm_uuid)
