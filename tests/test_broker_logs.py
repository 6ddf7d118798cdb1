"""Unit tests of the broker-log rules (issue 21, item 4): which Kafka broker line proves what.

The lines are Apache Kafka's own broker lines, written here; addresses are attributed to the pollers only
inside the pollers' subnets.
"""

from __future__ import annotations

from remediate import broker_logs
from remediate.facts import BrokerLogRecord, BrokerLogs, Subnet
from remediate.sandbox.log_filters import any_of

SASL = (
    "INFO [SocketServer listenerType=ZK_BROKER, nodeId=2] Failed authentication with /10.0.1.20 "
    "(channelId=x) (Authentication failed during authentication due to invalid credentials with SASL "
    "mechanism SCRAM-SHA-512) (org.apache.kafka.common.network.Selector)"
)
TLS = (
    "INFO [SocketServer listenerType=ZK_BROKER, nodeId=1] Failed authentication with /10.0.1.21 "
    "(SSL handshake failed)"
)
SUBNET = Subnet(id="subnet-a", vpc_id="vpc-1", availability_zone="us-east-1a", cidr="10.0.1.0/24")


def _logs(*messages: str) -> BrokerLogs:
    return BrokerLogs(
        log_group="/g",
        minutes=60,
        filter_pattern=broker_logs.FILTER_PATTERN,
        records=tuple(
            BrokerLogRecord(log_stream="s", timestamp=i, message=m) for i, m in enumerate(messages)
        ),
    )


def test_a_tls_handshake_failure_is_not_a_sasl_failure() -> None:
    assert broker_logs.kind_of(TLS) is not None
    assert broker_logs.kind_of(TLS).code == "SERVER_AUTH_FAILED"  # type: ignore[union-attr]
    assert broker_logs.kind_of(SASL).code == "SASL_AUTH_FAILED"  # type: ignore[union-attr]
    assert broker_logs.kind_of("INFO Preparing to rebalance group g") is None


def test_only_failures_from_the_pollers_subnets_are_attributed() -> None:
    other = SASL.replace("10.0.1.20", "10.0.9.20")
    found = broker_logs.attributed(_logs(SASL, other, TLS), "SASL_AUTH_FAILED", [SUBNET])
    assert [(r.message, s.id) for _, r, s in found] == [(SASL, "subnet-a")]
    assert broker_logs.client_address(SASL) == "10.0.1.20"


def test_broker_trouble_is_counted_and_quoted_per_kind() -> None:
    disk = "ERROR Error while appending to t-0 in dir /kafka (x) java.io.IOException: No space left on device"
    [sign] = broker_logs.trouble(_logs(disk, SASL, disk))
    assert sign.startswith("broker logs: a broker's disk is full (2 line(s) in /g")
    assert disk in sign


def test_lines_are_trimmed_and_anything_like_a_password_masked() -> None:
    line = broker_logs.trim("WARN  login  failed\tpassword=hunter2 " + "x" * 400)
    assert "hunter2" not in line
    assert "password=***" in line
    assert line.endswith("...")
    assert len(line) == broker_logs.QUOTE_MAX + 3


def test_the_filter_pattern_is_any_of_the_lines_first_phrases() -> None:
    # The sandbox reads the pattern as CloudWatch Logs documents it (`?"phrase"` terms).
    assert any_of(broker_logs.FILTER_PATTERN) == (
        "Failed authentication",
        "No space left on device",
        "Stopping serving logs in dir",
        "KafkaStorageException",
        "OutOfMemoryError",
    )
