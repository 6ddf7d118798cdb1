"""The MSK brokers' own logs (issue 21, item 4): what to read, and what each line proves.

MSK developer guide, "Amazon MSK logging" (https://docs.aws.amazon.com/msk/latest/developerguide/
msk-logging.html): a cluster delivers "INFO-level broker logs" to destinations the customer creates first
("Amazon MSK doesn't create these destination resources for you"): a CloudWatch log group, an S3 bucket or a
Firehose stream, on "both MSK Standard and Express brokers". DescribeClusterV2 names them in
Provisioned.LoggingInfo.BrokerLogs. That page does not name the log streams MSK writes, so the whole group
is read, narrowed by a filter pattern (CloudWatch Logs, "Filter pattern syntax for metric filters,
subscription filters, filter log events, and Live Tail": `?term` matches events holding any of the terms, a
term in double quotes is an exact phrase).

The lines are Apache Kafka's own (its network Selector logs "Failed authentication with /ADDRESS (...)",
with "SSL handshake failed" for a failed TLS handshake; its log manager "No space left on device",
KafkaStorageException and "Stopping serving logs in dir" for a full or failed log directory). A broker logs
every client's failures, not only the pollers': a failure is attributed to the mapping only when its
address lies in the subnets its pollers use (for MSK, the cluster's own subnets: Lambda developer guide,
"Creating a Lambda event source mapping for an Amazon MSK event source"). Pure: no AWS calls.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from remediate.facts import BrokerLogRecord, BrokerLogs, Subnet

__all__ = ["FILTER_PATTERN", "LINES", "LogLine", "attributed", "kind_of", "trim", "trouble"]

QUOTE_MAX = 300
"""A line is kept and quoted to at most this many characters."""
MAX_PAGES = 5
"""FilterLogEvents pages read at most per cluster and window (each up to `PAGE_LIMIT` events)."""
PAGE_LIMIT = 200


@dataclass(frozen=True)
class LogLine:
    """A kind of broker log line: the phrases that identify it and what it proves."""

    kind: str
    phrases: tuple[str, ...]
    code: str | None
    """The finding it proves for the mapping (when attributed to its pollers), or None for broker trouble,
    which turns a connection error into BROKER_TIMEOUT (`connection_error.broker_trouble`)."""
    what: str


LINES = (
    LogLine(
        "tls",
        ("Failed authentication", "SSL handshake failed"),
        "SERVER_AUTH_FAILED",
        "the TLS handshake failed",
    ),
    LogLine("sasl", ("Failed authentication",), "SASL_AUTH_FAILED", "authentication failed"),
    LogLine("disk-full", ("No space left on device",), None, "a broker's disk is full"),
    LogLine(
        "log-dir-offline", ("Stopping serving logs in dir",), None, "a broker took a log directory offline"
    ),
    LogLine("storage-error", ("KafkaStorageException",), None, "a broker reported a storage error"),
    LogLine("out-of-memory", ("OutOfMemoryError",), None, "a broker ran out of memory"),
)
"""First match wins: a TLS handshake failure is also a "Failed authentication" line."""

FILTER_PATTERN = " ".join(f'?"{p}"' for p in dict.fromkeys(line.phrases[0] for line in LINES))
"""Any of the lines' first phrases (each line's kind is then decided here, not by the pattern)."""

_ADDRESS = re.compile(r"Failed authentication with /?\[?([0-9A-Fa-f:.]+)")
_SECRETISH = re.compile(r"(?i)(password|secret|token|credential)s?\s*[=:]\s*\S+")


def trim(message: str) -> str:
    """One line, at most `QUOTE_MAX` characters, with anything shaped like `password=...` masked."""
    text = " ".join(message.split())
    text = _SECRETISH.sub(lambda m: f"{m.group(1)}=***", text)
    return text if len(text) <= QUOTE_MAX else text[:QUOTE_MAX] + "..."


def kind_of(message: str) -> LogLine | None:
    """The first kind of line the message is, or None."""
    for line in LINES:
        if all(p in message for p in line.phrases):
            return line
    return None


def client_address(message: str) -> str | None:
    """The client address of a "Failed authentication with /ADDRESS" line."""
    found = _ADDRESS.search(message)
    if found is None:
        return None
    try:
        return str(ipaddress.ip_address(found.group(1).rstrip(".:")))
    except ValueError:
        return None


def _in(address: str, subnets: Iterable[Subnet]) -> Subnet | None:
    ip = ipaddress.ip_address(address)
    for subnet in subnets:
        for cidr in subnet.cidrs:
            if ip in ipaddress.ip_network(cidr, strict=False):
                return subnet
    return None


def attributed(
    logs: BrokerLogs | None, code: str, subnets: Iterable[Subnet]
) -> list[tuple[LogLine, BrokerLogRecord, Subnet]]:
    """The client failures proving `code` whose address is in the pollers' subnets, oldest first."""
    if logs is None:
        return []
    subnets = tuple(subnets)
    out = []
    for record in sorted(logs.records, key=lambda r: r.timestamp):
        line = kind_of(record.message)
        address = client_address(record.message)
        if line is None or line.code != code or address is None:
            continue
        subnet = _in(address, subnets)
        if subnet is not None:
            out.append((line, record, subnet))
    return out


def trouble(logs: BrokerLogs | None) -> tuple[str, ...]:
    """One sign of broker trouble per kind of line found, with the count and the first line quoted."""
    if logs is None:
        return ()
    by_kind: dict[str, list[BrokerLogRecord]] = {}
    what: dict[str, str] = {}
    for record in sorted(logs.records, key=lambda r: r.timestamp):
        line = kind_of(record.message)
        if line is not None and line.code is None:
            by_kind.setdefault(line.kind, []).append(record)
            what[line.kind] = line.what
    return tuple(
        f'broker logs: {what[k]} ({len(rs)} line(s) in {logs.log_group}, e.g. "{rs[0].message}")'
        for k, rs in by_kind.items()
    )
