"""The mapping's own system logs (issue 21, item 3): where Lambda writes them and what each error proves.

Lambda developer guide, "Kafka event source mapping logging" (https://docs.aws.amazon.com/lambda/latest/dg/
esm-logging.html): system logs are "only available for Kafka event source mappings, and with Provisioned
mode"; the mapping "reuses the same log destination with your Lambda function"; it "will have its own log
stream, with date and event source mapping UUID as the log stream name, like
`2020/01/01/12345678-1234-1234-1234-12345678901`"; WARN carries "potential warns and errors".

The part of that page read here does not spell out a record's fields, so a record's error is
recognised by the Kafka client's own exception or error-code name anywhere in it (Apache Kafka protocol
error codes: TOPIC_AUTHORIZATION_FAILED is TopicAuthorizationException, GROUP_AUTHORIZATION_FAILED
GroupAuthorizationException, SASL_AUTHENTICATION_FAILED SaslAuthenticationException,
UNKNOWN_TOPIC_OR_PARTITION UnknownTopicOrPartitionException; SslAuthenticationException is a failed TLS
handshake). Pure: no AWS calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from remediate.facts import EsmLogRecord, EsmLogs

__all__ = ["ERRORS", "EsmLogRecord", "LogError", "error_of", "matches", "metadata_timeouts", "stream_names"]

DEFAULT_MINUTES = 60
"""The window read when no metrics window was asked for: the last hour."""


@dataclass(frozen=True)
class LogError:
    """What one Kafka error in the mapping's logs proves."""

    names: tuple[str, ...]
    """The exception and error-code names that identify it in a record."""
    code: str
    """The finding it proves."""
    what: str


ERRORS = (
    LogError(
        ("TopicAuthorizationException", "TOPIC_AUTHORIZATION_FAILED"),
        "CLUSTER_AUTHZ_FAILED",
        "topic authorization failed",
    ),
    LogError(
        ("GroupAuthorizationException", "GROUP_AUTHORIZATION_FAILED"),
        "CLUSTER_AUTHZ_FAILED",
        "group authorization failed",
    ),
    LogError(
        ("SaslAuthenticationException", "SASL_AUTHENTICATION_FAILED"),
        "SASL_AUTH_FAILED",
        "SASL authentication failed",
    ),
    LogError(("SslAuthenticationException",), "SERVER_AUTH_FAILED", "the TLS handshake failed"),
    LogError(
        ("UnknownTopicOrPartitionException", "UNKNOWN_TOPIC_OR_PARTITION"),
        "TOPIC_NOT_FOUND",
        "the topic unknown to the brokers",
    ),
)
METADATA_TIMEOUT = "Timeout expired while fetching topic metadata"
"""The Kafka client's metadata timeout: a connection error that explains nothing by itself."""


def stream_names(uuid: str, now: datetime, minutes: int) -> tuple[str, ...]:
    """The mapping's log streams that may hold the window's records: one per UTC date the window touches."""
    start = (now - timedelta(minutes=minutes)).astimezone(UTC).date()
    end = now.astimezone(UTC).date()
    days = (end - start).days
    return tuple(f"{(start + timedelta(days=d)).strftime('%Y/%m/%d')}/{uuid}" for d in range(days + 1))


def error_of(message: str) -> LogError | None:
    """The first known Kafka error a record names, or None."""
    for error in ERRORS:
        if any(name in message for name in error.names):
            return error
    return None


def matches(logs: EsmLogs | None, code: str) -> list[tuple[LogError, EsmLogRecord]]:
    """Each record proving `code`, with the error it names, oldest first."""
    if logs is None:
        return []
    out = []
    for record in sorted(logs.records, key=lambda r: r.timestamp):
        error = error_of(record.message)
        if error is not None and error.code == code:
            out.append((error, record))
    return out


def metadata_timeouts(logs: EsmLogs | None) -> list[EsmLogRecord]:
    """The records that are the Kafka client's metadata timeout."""
    if logs is None:
        return []
    return [r for r in logs.records if METADATA_TIMEOUT in r.message]
