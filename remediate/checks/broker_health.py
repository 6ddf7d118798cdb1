"""Checks on the brokers themselves, from their CloudWatch metrics: the article's "disk full, CPU at 100%"
measured instead of concluded by elimination, and the connection quota behind intermittent SASL failures.

Each finding carries the numbers (every broker's worst minute in the window) and the documented limit it
crossed (`remediate.health`). Metrics exist only for provisioned MSK clusters: for self-managed Kafka and
MSK Serverless nothing is read and nothing is said here.
"""

from __future__ import annotations

from collections.abc import Callable

from remediate import health
from remediate.checks.base import check
from remediate.evidence import (
    BrokerConnectionsExhausted,
    BrokerCpuSaturated,
    BrokerReading,
    BrokerStorageFull,
    CouldNotCheck,
)
from remediate.facts import BrokerHealth, BrokerStats, Facts
from remediate.findings import Finding


def _readings(bh: BrokerHealth, value: Callable[[BrokerStats], float | None]) -> tuple[BrokerReading, ...]:
    found = [(b.broker_id, value(b)) for b in bh.brokers]
    return tuple(
        sorted(
            (BrokerReading(broker_id=i, value=v) for i, v in found if v is not None),
            key=lambda r: -r.value,
        )
    )


def _worst(readings: tuple[BrokerReading, ...]) -> str:
    return f"broker {readings[0].broker_id} at {readings[0].value:g}"


@check(
    "broker_health",
    "BROKER_STORAGE_FULL",
    "BROKER_CPU_SATURATED",
    "BROKER_CONNECTIONS_EXHAUSTED",
    "COULD_NOT_CHECK",
)
def broker_health(facts: Facts) -> list[Finding]:
    """Brokers over the documented limits of disk, CPU or (with IAM access control) connections."""
    bh, cluster = facts.broker_health, facts.cluster
    if bh is None or cluster is None:
        return []
    if bh.unread:
        what = f"the broker metrics of MSK cluster {cluster.name or cluster.arn}"
        return [
            Finding(
                code="COULD_NOT_CHECK",
                summary=f"could not check {what}: {'; '.join(bh.unread)}",
                evidence=CouldNotCheck(what=what, reason="; ".join(bh.unread)),
            )
        ]
    name = cluster.name or cluster.arn
    found: list[Finding] = []
    disk = _readings(bh, lambda b: b.disk_used_percent)
    grown = health.storage_grown(cluster.tags)
    since = ""
    if grown is not None and bh.read_at is not None and grown[2] > bh.read_at - bh.window_minutes * 60:
        # issue 23 (N9): the window began before remediate grew the storage from grown[0] to grown[1]
        # GiB: its readings are percents of the old size, read here as shares of the new one.
        disk = tuple(
            BrokerReading(broker_id=r.broker_id, value=round(r.value * grown[0] / grown[1], 1)) for r in disk
        )
        since = f" (as a share of the {grown[1]} GiB it was grown to from {grown[0]} GiB within the window)"
    # issue 21 (item 8): Express brokers have no customer storage to fill or grow (`remediate.express`).
    if disk and disk[0].value >= health.DISK_LIMIT_PERCENT and not cluster.express:
        target = (
            health.storage_target_gib(cluster.volume_gib, disk[0].value)
            if cluster.volume_gib is not None
            else None
        )
        grow = f"; grow storage per broker from {cluster.volume_gib} to {target} GiB" if target else ""
        found.append(
            Finding(
                code="BROKER_STORAGE_FULL",
                summary=f"MSK cluster {name}: data-log disk {_worst(disk)}%{since} in the last "
                f"{bh.window_minutes} min "
                f"(limit {health.DISK_LIMIT_PERCENT:g}%){grow}",
                evidence=BrokerStorageFull(
                    cluster=cluster.arn,
                    window_minutes=bh.window_minutes,
                    metric="KafkaDataLogsDiskUsed",
                    limit=health.DISK_LIMIT_PERCENT,
                    worst=disk[0].value,
                    brokers=disk,
                    volume_gib=cluster.volume_gib,
                    target_gib=target,
                    max_gib=health.STORAGE_MAX_GIB,
                    current_version=cluster.current_version,
                ),
            )
        )
    cpu = _readings(bh, lambda b: b.cpu_percent)
    if cpu and cpu[0].value >= health.CPU_LIMIT_PERCENT:
        found.append(
            Finding(
                code="BROKER_CPU_SATURATED",
                summary=f"MSK cluster {name}: CPU (user + system) {_worst(cpu)}% in the last "
                f"{bh.window_minutes} min (keep under {health.CPU_LIMIT_PERCENT:g}%)",
                evidence=BrokerCpuSaturated(
                    cluster=cluster.arn,
                    window_minutes=bh.window_minutes,
                    metric="CpuUser + CpuSystem",
                    limit=health.CPU_LIMIT_PERCENT,
                    worst=cpu[0].value,
                    brokers=cpu,
                    instance_type=cluster.instance_type,
                ),
            )
        )
    connections = _readings(bh, lambda b: b.connections)
    quota = health.iam_connection_quota(cluster.instance_type)  # issue 24 (N14)
    limit = quota * health.CONNECTIONS_NEAR if quota is not None else None
    if cluster.auth.iam and connections and limit is not None and connections[0].value >= limit:
        found.append(
            Finding(
                code="BROKER_CONNECTIONS_EXHAUSTED",
                summary=f"MSK cluster {name}: {_worst(connections)} connections in the last "
                f"{bh.window_minutes} min, near the IAM access control quota of "
                f"{quota} per broker (the Standard broker default; listener.name.client_iam.max.connections "
                "may raise it): new connections (and SASL handshakes) fail intermittently",
                evidence=BrokerConnectionsExhausted(
                    cluster=cluster.arn,
                    window_minutes=bh.window_minutes,
                    metric="ConnectionCount",
                    limit=float(quota or 0),
                    worst=connections[0].value,
                    brokers=connections,
                    auth="iam",
                ),
            )
        )
    return found


def metrics_line(facts: Facts) -> tuple[str, dict[str, float | None]]:
    """What the broker metrics show, for the broker-timeout evidence: one line and the numbers."""
    bh = facts.broker_health
    if facts.esm.source_kind == "self-managed":
        return "no broker metrics: self-managed Kafka publishes none to CloudWatch", {}
    if bh is None:
        return "broker metrics not read (metrics_window 0, MSK Serverless, or a cross-account cluster)", {}
    if bh.unread:
        return f"broker metrics could not be read: {'; '.join(bh.unread)}", {}

    def worst(value: Callable[[BrokerStats], float | None]) -> float | None:
        found = [v for v in (value(b) for b in bh.brokers) if v is not None]
        return max(found) if found else None

    numbers = {
        "max_cpu_percent": worst(lambda b: b.cpu_percent),
        "max_disk_used_percent": worst(lambda b: b.disk_used_percent),
        "max_heap_after_gc_percent": worst(lambda b: b.heap_after_gc_percent),
        "max_memory_used_bytes": worst(lambda b: b.memory_used_bytes),
        "max_connections": worst(lambda b: b.connections),
        "under_replicated_partitions": worst(lambda b: b.under_replicated_partitions),
        "offline_partitions": bh.offline_partitions,
        "active_controllers": bh.active_controllers,
    }
    shown = [f"{k.replace('_', ' ')} {v:g}" for k, v in numbers.items() if v is not None]
    line = (
        f"broker metrics over the last {bh.window_minutes} min: " + ", ".join(shown)
        if shown
        else f"broker metrics: no data points in the last {bh.window_minutes} min"
    )
    return line, numbers
