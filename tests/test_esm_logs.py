"""Unit tests (issue 21, item 3): what each Kafka error in the mapping's system logs proves.

The records are written here as a Kafka client names its errors (exception class or protocol error-code
name); the streams follow the Lambda developer guide, "Kafka event source mapping logging" (date and UUID).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from remediate import esm_logs
from remediate.checks.esm_logs import esm_system_logs
from remediate.facts import EsmLogRecord, EsmLogs
from tests import factories

GROUP = "/aws/lambda/consumer"


def _facts(*messages: str) -> list[dict[str, object]]:
    logs = EsmLogs(
        log_group=GROUP,
        log_streams=(f"2026/12/06/{factories.UUID}",),
        minutes=60,
        records=tuple(
            EsmLogRecord(log_stream=f"2026/12/06/{factories.UUID}", timestamp=1000 + i, message=m)
            for i, m in enumerate(messages)
        ),
    )
    found = esm_system_logs(factories.facts(esm_logs=logs))
    return [{"code": f.code, "summary": f.summary, **f.evidence.model_dump()} for f in found]


@pytest.mark.parametrize(
    ("record", "code", "words"),
    [
        (
            "org.apache.kafka.common.errors.TopicAuthorizationException: Not authorized",
            "CLUSTER_AUTHZ_FAILED",
            "topic authorization failed (topic orders)",
        ),
        ('{"errorCode": "GROUP_AUTHORIZATION_FAILED"}', "CLUSTER_AUTHZ_FAILED", "group authorization failed"),
        (
            "SaslAuthenticationException: Authentication failed during authentication due to invalid "
            "credentials with SASL mechanism SCRAM-SHA-512",
            "SASL_AUTH_FAILED",
            "SASL authentication failed",
        ),
        (
            "org.apache.kafka.common.errors.SslAuthenticationException: SSL handshake failed",
            "SERVER_AUTH_FAILED",
            "the TLS handshake failed",
        ),
        (
            "UnknownTopicOrPartitionException: This server does not host this topic-partition",
            "TOPIC_NOT_FOUND",
            "the topic unknown to the brokers (topic orders)",
        ),
    ],
)
def test_each_kafka_error_proves_its_finding_and_is_quoted(record: str, code: str, words: str) -> None:
    [found] = _facts(record)
    assert found["code"] == code
    assert words in str(found["summary"])
    assert record in str(found["summary"])
    assert (found["record"], found["count"], found["log_group"]) == (record, 1, GROUP)


def test_no_logs_or_no_kafka_error_proves_nothing() -> None:
    assert esm_system_logs(factories.facts()) == []
    assert _facts("[INFO] poller started", "Timeout expired while fetching topic metadata") == []


def test_two_errors_two_findings_counted_separately() -> None:
    topic = "TopicAuthorizationException: Not authorized to access topics: [orders]"
    group = "GroupAuthorizationException: Not authorized to access group: g1"
    found = _facts(topic, group, topic)
    assert sorted((f["error"], f["count"]) for f in found) == [
        ("group authorization failed", 1),
        ("topic authorization failed", 2),
    ]


def test_streams_cover_every_date_of_the_window() -> None:
    now = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)
    assert esm_logs.stream_names("u-1", now, 60) == ("2026/12/06/u-1", "2026/12/07/u-1")
    assert esm_logs.stream_names("u-1", now, 10) == ("2026/12/07/u-1",)
