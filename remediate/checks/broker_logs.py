"""What the MSK brokers' own logs prove about the mapping (issue 21, item 4): its pollers failing to
authenticate, each failure quoted from the broker's line.

A broker logs every client's failures; only those from an address in the pollers' subnets, while the mapping
itself reports an error, are the mapping's (`remediate.broker_logs.attributed`). Broker trouble in the same
logs (a full disk, a log directory offline) is not a finding here: it is measured evidence that turns a
connection error into BROKER_TIMEOUT (`connection_error.broker_trouble`).
"""

from __future__ import annotations

from remediate import broker_logs
from remediate.checks.base import check
from remediate.error_text import hints_for
from remediate.evidence import BrokerLogLines
from remediate.facts import BrokerLogRecord, Facts, Subnet
from remediate.findings import Finding

CODES = tuple(dict.fromkeys(line.code for line in broker_logs.LINES if line.code is not None))


@check("broker_logs", *CODES)
def broker_log_failures(facts: Facts) -> list[Finding]:
    """The brokers' logs show the pollers' authentications failing: one finding per kind, line quoted."""
    logs, network = facts.broker_logs, facts.network
    esm = facts.esm
    if (
        logs is None
        or network is None
        or not hints_for(esm.last_processing_result, esm.state_transition_reason)
    ):
        return []
    found: list[Finding] = []
    for code in CODES:
        by_what: dict[str, list[tuple[BrokerLogRecord, Subnet]]] = {}
        for line, record, subnet in broker_logs.attributed(logs, code, network.subnets):
            by_what.setdefault(line.what, []).append((record, subnet))
        for what, hits in by_what.items():
            record, subnet = hits[0]
            address = broker_logs.client_address(record.message) or ""
            found.append(
                Finding(
                    code=code,
                    summary=(
                        f"The brokers' logs show {what} for {len(hits)} connection(s) from the pollers' "
                        f"subnet {subnet.id} ({address}) in the last {logs.minutes} minutes of "
                        f"{logs.log_group}, "
                        f'e.g. "{record.message}"'
                    ),
                    evidence=BrokerLogLines(
                        source="broker-logs",
                        error=what,
                        log_group=logs.log_group,
                        log_stream=record.log_stream,
                        line=record.message,
                        timestamp=record.timestamp,
                        count=len(hits),
                        client_address=address,
                        subnet_id=subnet.id,
                    ),
                )
            )
    return found
