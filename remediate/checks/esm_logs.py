"""What the mapping's own system logs prove (issue 21, item 3): each Kafka error quoted from its record.

A record of the mapping's log stream that names a Kafka error is measured evidence of the cause: it is
reported with the record quoted, and its finding suppresses CONNECTION_UNEXPLAINED (that playbook's
`unless`). The mapping from errors to findings is `remediate.esm_logs.ERRORS`.
"""

from __future__ import annotations

from remediate import esm_logs
from remediate.checks.base import check
from remediate.evidence import EsmLogError
from remediate.facts import Facts
from remediate.findings import Finding

CODES = tuple(dict.fromkeys(e.code for e in esm_logs.ERRORS))
QUOTE_MAX = 300
"""A summary quotes at most this many characters of the record; the evidence keeps all of it."""


@check("esm_system_logs", *CODES)
def esm_system_logs(facts: Facts) -> list[Finding]:
    """The mapping's system logs name a Kafka error in the window: one finding per error, record quoted."""
    logs = facts.esm_logs
    if logs is None:
        return []
    found: list[Finding] = []
    for code in CODES:
        hits = esm_logs.matches(logs, code)
        by_error: dict[str, list[esm_logs.EsmLogRecord]] = {}
        for error, record in hits:
            by_error.setdefault(error.what, []).append(record)
        for what, records in by_error.items():
            first = records[0]
            quote = first.message.strip()
            if len(quote) > QUOTE_MAX:
                quote = quote[:QUOTE_MAX] + "..."
            subject = _subject(facts, what)
            found.append(
                Finding(
                    code=code,
                    summary=(
                        f"The mapping's system logs show {what}{subject}: {len(records)} record(s) in "
                        f'the last {logs.minutes} minutes of {logs.log_group}, e.g. "{quote}"'
                    ),
                    evidence=EsmLogError(
                        source="esm-system-logs",
                        error=what,
                        log_group=logs.log_group,
                        log_stream=first.log_stream,
                        record=first.message,
                        timestamp=first.timestamp,
                        count=len(records),
                    ),
                )
            )
    return found


def _subject(facts: Facts, what: str) -> str:
    """What the failing authorization is about, from the mapping's configuration."""
    esm = facts.esm
    if what in ("topic authorization failed", "the topic unknown to the brokers") and esm.topics:
        return f" (topic {', '.join(esm.topics)})"
    if what == "group authorization failed":
        return f" (consumer group {esm.group_id})"
    return ""
