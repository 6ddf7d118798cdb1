"""The probe function's measurements against a real Apache Kafka broker (tests/kafka_broker.py, KRaft).

Each case is one of issue 22's: every step succeeding, an unknown topic, a wrong SCRAM password, ACLs that
deny a topic and a group, a server certificate for another host name, a client certificate from an
untrusted CA, a port nobody listens on, a name that does not resolve (bootstrap and advertised). The
expected Kafka error codes are Kafka's own protocol codes (kafka.apache.org/protocol#protocol_error_codes),
written here as numbers, not read from the code under test.
"""

from __future__ import annotations

import json
import time
from typing import Any

from remediate.probe_function.handler import Credentials, Target, measure
from tests import kafka_broker as kb
from tests.kafka_broker import Broker

UNKNOWN_TOPIC_OR_PARTITION = 3
TOPIC_AUTHORIZATION_FAILED = 29
GROUP_AUTHORIZATION_FAILED = 30
SASL_AUTHENTICATION_FAILED = 58


def steps(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["step"]: s for s in report["steps"]}


def outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {s["step"]: s["outcome"] for s in report["steps"]}


def scram(broker: Broker, password: str = kb.SCRAM_PASSWORD) -> Credentials:
    return Credentials("SCRAM-SHA-512", kb.SCRAM_USER, password, ca_pem=broker.ca_pem)


def mtls(broker: Broker, *, rogue: bool = False) -> Credentials:
    return Credentials(
        client_cert_pem=broker.rogue_cert_pem if rogue else broker.client_cert_pem,
        client_key_pem=broker.rogue_key_pem if rogue else broker.client_key_pem,
        ca_pem=broker.ca_pem,
    )


def topic(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in result["topics"] if t["topic"] == name)


def test_scram_every_step_succeeds_on_bootstrap_and_advertised_broker(kafka_broker: Broker) -> None:
    target = Target(
        (f"localhost:{kafka_broker.sasl_ssl}",), "SASL_SSL", (kb.ALLOWED_TOPIC,), kb.ALLOWED_GROUP
    )
    result = measure(target, scram(kafka_broker))

    assert result["complete"] is True
    [boot] = result["bootstrap"]
    assert set(outcomes(boot).values()) == {"ok"}
    assert steps(boot)["tls"]["tls_version"].startswith("TLSv1.")
    assert steps(boot)["sasl"]["mechanism"] == "SCRAM-SHA-512"
    assert steps(boot)["dns"]["addresses"]
    # The advertised broker is measured under its advertised name, not the bootstrap string.
    [advertised] = result["brokers"]
    assert (advertised["server"], advertised["node_id"]) == (f"localhost:{kafka_broker.sasl_ssl}", 1)
    assert set(outcomes(advertised).values()) == {"ok"}
    orders = topic(result, kb.ALLOWED_TOPIC)
    assert (orders["error_code"], orders["partitions"], orders["leaders"]) == (0, 2, [1])
    assert orders["unreachable_leaders"] == []
    assert result["group"]["step"] == "describe_groups"
    assert result["group"]["error_code"] == 0
    assert all(s["ms"] >= 0 for s in boot["steps"])


def test_unknown_topic_is_kafkas_unknown_topic_error(kafka_broker: Broker) -> None:
    # The user may describe every topic named orders*, so a missing one is "unknown", not "denied".
    target = Target((f"localhost:{kafka_broker.sasl_ssl}",), "SASL_SSL", ("orders-missing",))
    result = measure(target, scram(kafka_broker))
    missing = topic(result, "orders-missing")
    assert missing["error_code"] == UNKNOWN_TOPIC_OR_PARTITION
    assert missing["error_name"] == "UNKNOWN_TOPIC_OR_PARTITION"
    assert missing["partitions"] == 0


def test_wrong_scram_password_fails_at_sasl_with_kafkas_code(kafka_broker: Broker) -> None:
    target = Target((f"localhost:{kafka_broker.sasl_ssl}",), "SASL_SSL", (kb.ALLOWED_TOPIC,))
    result = measure(target, scram(kafka_broker, password="not-the-password"))

    assert result["complete"] is False
    [boot] = result["bootstrap"]
    assert outcomes(boot) == {
        "dns": "ok",
        "tcp": "ok",
        "tls": "ok",
        "api_versions": "ok",
        "sasl": "kafka-error",
        "metadata": "skipped",
    }
    assert steps(boot)["sasl"]["error_code"] == SASL_AUTHENTICATION_FAILED
    assert result["brokers"] == []
    assert result["topics"] == []


def test_acl_denying_the_topic_is_topic_authorization_failed(kafka_broker: Broker) -> None:
    target = Target((f"localhost:{kafka_broker.sasl_ssl}",), "SASL_SSL", (kb.ALLOWED_TOPIC, kb.DENIED_TOPIC))
    result = measure(target, scram(kafka_broker))
    assert topic(result, kb.ALLOWED_TOPIC)["error_code"] == 0
    denied = topic(result, kb.DENIED_TOPIC)
    assert (denied["error_code"], denied["error_name"]) == (
        TOPIC_AUTHORIZATION_FAILED,
        "TOPIC_AUTHORIZATION_FAILED",
    )


def test_acl_denying_the_group_is_group_authorization_failed_over_mtls(kafka_broker: Broker) -> None:
    target = Target((f"localhost:{kafka_broker.ssl}",), "SSL", (kb.ALLOWED_TOPIC,), kb.DENIED_GROUP)
    result = measure(target, mtls(kafka_broker))

    [boot] = result["bootstrap"]
    assert outcomes(boot)["tls"] == "ok"
    assert outcomes(boot)["sasl"] == "not-applicable"
    assert topic(result, kb.ALLOWED_TOPIC)["error_code"] == 0  # the client certificate's DN has the topic
    assert result["group"]["step"] == "find_coordinator"
    assert result["group"]["error_code"] == GROUP_AUTHORIZATION_FAILED


def test_mtls_allowed_group_is_described_on_its_coordinator(kafka_broker: Broker) -> None:
    target = Target((f"localhost:{kafka_broker.ssl}",), "SSL", (), kb.ALLOWED_GROUP)
    result = measure(target, mtls(kafka_broker))
    assert (result["group"]["step"], result["group"]["error_code"]) == ("describe_groups", 0)
    assert result["group"]["coordinator"] == 1


def test_server_certificate_for_another_host_fails_tls_with_hostname_mismatch(kafka_broker: Broker) -> None:
    target = Target((f"localhost:{kafka_broker.wronghost}",), "SSL", (kb.ALLOWED_TOPIC,))
    result = measure(target, Credentials(ca_pem=kafka_broker.ca_pem))
    [boot] = result["bootstrap"]
    assert outcomes(boot)["tls"] == "hostname-mismatch"
    assert "localhost" in steps(boot)["tls"]["detail"]
    assert outcomes(boot)["api_versions"] == "skipped"


def test_server_certificate_from_a_ca_the_mapping_does_not_trust_is_unknown_ca(kafka_broker: Broker) -> None:
    # The mapping's trust is the public CAs (no SERVER_ROOT_CA_CERTIFICATE); the broker's CA is private.
    target = Target((f"localhost:{kafka_broker.sasl_ssl}",), "SASL_SSL")
    result = measure(target, Credentials("SCRAM-SHA-512", kb.SCRAM_USER, kb.SCRAM_PASSWORD))
    assert outcomes(result["bootstrap"][0])["tls"] == "unknown-ca"


def test_client_certificate_from_an_untrusted_ca_is_rejected_by_the_broker(kafka_broker: Broker) -> None:
    target = Target((f"localhost:{kafka_broker.ssl}",), "SSL", (kb.ALLOWED_TOPIC,))
    result = measure(target, mtls(kafka_broker, rogue=True))
    [boot] = result["bootstrap"]
    failed = next(s for s in boot["steps"] if s["outcome"] not in ("ok", "skipped"))
    # TLS 1.3: the handshake completes on the client's side; Java's broker then sends its alert, which the
    # client reads on its first request.
    assert failed["outcome"] == "tls-alert"
    assert failed["tls_alert"] in ("SSLV3_ALERT_CERTIFICATE_UNKNOWN", "TLSV1_ALERT_UNKNOWN_CA")
    assert result["topics"] == []


def test_port_nobody_listens_on_is_refused_at_tcp(kafka_broker: Broker) -> None:
    target = Target((f"127.0.0.1:{kafka_broker.closed}",), "PLAINTEXT", (kb.ALLOWED_TOPIC,))
    result = measure(target, Credentials())
    [boot] = result["bootstrap"]
    assert outcomes(boot) == {
        "dns": "ok",
        "tcp": "refused",
        "tls": "skipped",
        "api_versions": "skipped",
        "sasl": "skipped",
        "metadata": "skipped",
    }


def test_bootstrap_name_that_does_not_resolve_is_unresolvable(kafka_broker: Broker) -> None:
    target = Target((f"b-1.nowhere.invalid:{kafka_broker.plaintext}",), "PLAINTEXT")
    result = measure(target, Credentials())
    assert outcomes(result["bootstrap"][0])["dns"] == "unresolvable"
    assert result["complete"] is False


def test_advertised_broker_name_that_does_not_resolve_is_found_through_metadata(kafka_broker: Broker) -> None:
    """The bootstrap address works; the name the broker advertises does not: only Metadata shows it."""
    target = Target((f"127.0.0.1:{kafka_broker.advbad}",), "PLAINTEXT", (kb.ALLOWED_TOPIC,))
    result = measure(target, Credentials())
    [boot] = result["bootstrap"]
    assert outcomes(boot)["metadata"] == "ok"
    assert steps(boot)["metadata"]["brokers"] == [f"b-1.broker.invalid:{kafka_broker.advbad}"]
    [advertised] = result["brokers"]
    assert advertised["server"] == f"b-1.broker.invalid:{kafka_broker.advbad}"
    assert outcomes(advertised)["dns"] == "unresolvable"
    assert topic(result, kb.ALLOWED_TOPIC)["unreachable_leaders"] == [1]


def test_secret_values_never_appear_in_the_result(kafka_broker: Broker) -> None:
    for target, credentials in (
        (
            Target((f"localhost:{kafka_broker.sasl_ssl}",), "SASL_SSL", (kb.ALLOWED_TOPIC,)),
            scram(kafka_broker),
        ),
        (Target((f"localhost:{kafka_broker.sasl_ssl}",), "SASL_SSL"), scram(kafka_broker, "wrong-pass-123")),
        (Target((f"localhost:{kafka_broker.ssl}",), "SSL", (kb.ALLOWED_TOPIC,)), mtls(kafka_broker)),
    ):
        text = json.dumps(measure(target, credentials))
        for value in (credentials.password, credentials.client_key_pem):
            if value:
                assert value not in text
                assert value.splitlines()[1 if "\n" in value else 0] not in text


def test_a_step_that_runs_out_of_time_returns_partial_results_by_the_deadline(black_hole: int) -> None:
    target = Target((f"127.0.0.1:{black_hole}",), "PLAINTEXT", ("orders",), deadline_s=1.5)
    started = time.monotonic()
    result = measure(target, Credentials())
    assert time.monotonic() - started < 4
    [boot] = result["bootstrap"]
    assert outcomes(boot)["tcp"] == "ok"
    assert outcomes(boot)["api_versions"] == "timeout"
    assert outcomes(boot)["metadata"] == "skipped"
    assert result["complete"] is False
