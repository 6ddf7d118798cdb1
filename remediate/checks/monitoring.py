"""Monitoring as a fix (issue 25, item 8): a mapping nobody would hear about when it stops delivering.

Only when asked (`--fix-with monitoring` or the `monitoring_fix` setting): observation then reads the alarms
on the function's OffsetLag and Errors (`observe.monitoring`), and `Facts.monitoring` is set. A mapping
whose function has no alarm on either, or that does not publish its own metrics (MetricsConfig EventCount,
ErrorCount, KafkaMetrics: Lambda API reference, EventSourceMappingMetricsConfig), gets MONITORING_MISSING,
an informational finding whose playbook creates what is missing.
"""

from __future__ import annotations

from typing import Literal

from remediate import health
from remediate.checks.base import check
from remediate.evidence import MonitoringMissing
from remediate.facts import Facts
from remediate.findings import Finding


@check("monitoring_missing", "MONITORING_MISSING")
def monitoring_missing(facts: Facts) -> list[Finding]:
    watched = facts.monitoring
    if watched is None:
        return []
    missing: list[Literal["offset-lag-alarm", "errors-alarm", "esm-metrics"]] = []
    if not watched.on("OffsetLag"):
        missing.append("offset-lag-alarm")
    if not watched.on("Errors"):
        missing.append("errors-alarm")
    if not set(health.ESM_METRICS_CONFIG) <= set(facts.esm.metrics_config):
        missing.append("esm-metrics")
    if not missing:
        return []
    fh = facts.function_health
    lag = max(fh.offset_lag) if fh is not None and fh.offset_lag else None
    return [
        Finding(
            code="MONITORING_MISSING",
            summary=f"ESM {facts.esm.uuid}: {', '.join(missing)} missing: nothing alarms when its function "
            f"{watched.function_name} fails or falls behind",
            evidence=MonitoringMissing(
                function_name=watched.function_name,
                missing=tuple(missing),
                metrics_config=facts.esm.metrics_config,
                offset_lag_max=lag,
                errors=fh.errors if fh is not None else None,
                window_minutes=fh.window_minutes if fh is not None else None,
            ),
        )
    ]
