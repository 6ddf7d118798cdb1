"""Monitoring as a fix (issue 25, item 8), planned only when asked for (MONITORING_MISSING exists only then).

put_alarm: a CloudWatch alarm (PutMetricAlarm) on the function's AWS/Lambda metric, dimension FunctionName
(Lambda developer guide, "Types of metrics for Lambda functions"), named `remediate-FUNCTION-METRIC` so a
second run finds it instead of making another, and tagged `remediate:run-id` at creation (PutMetricAlarm
`Tags`; CloudWatch API reference). Thresholds come from the observed window:

- OffsetLag (Maximum per minute): twice the worst lag seen in the window, at least LAG_FLOOR, for
  LAG_MINUTES minutes in a row: longer than on-demand scaling takes to react (three minutes, Lambda
  developer guide, "Apache Kafka event poller scaling modes in Lambda");
- Errors (Sum per 5 minutes): twice the window's average 5-minute error count, at least one.

Missing data is not breaching (an idle function is not an alarm). Rollback deletes only the alarms this run
created (DeleteAlarms).

enable_esm_metrics: UpdateEventSourceMapping MetricsConfig with EventCount, ErrorCount and KafkaMetrics
(Lambda API reference, EventSourceMappingMetricsConfig), keeping any already on; the metrics are billed as
CloudWatch metrics (`after.CostBasis`). Rollback restores the previous list.
"""

from __future__ import annotations

import math
from typing import Any, Final

from pydantic import BaseModel

from remediate import health
from remediate.actions.base import Action, ApplyContext, Draft, register
from remediate.actions.esm import EsmFieldWrite
from remediate.actions.security_group import RUN_TAG
from remediate.evidence import MonitoringMissing
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep

LAG_FLOOR: Final = 100.0
LAG_MINUTES: Final = 5
ERRORS_PERIOD_S: Final = 300
NAME_MAX: Final = 255
"""CloudWatch: an alarm name has up to 255 characters (PutMetricAlarm)."""
COST_BASIS: Final = (
    "CloudWatch bills each metric the mapping publishes as a custom metric (Amazon CloudWatch pricing)"
)


def alarm_name(function_name: str, metric: str) -> str:
    return f"remediate-{function_name}-{metric}"[:NAME_MAX]


def _alarm(function_name: str, metric: str, threshold: float) -> dict[str, Any]:
    lag = metric == "OffsetLag"
    return {
        "Namespace": "AWS/Lambda",
        "MetricName": metric,
        "Dimensions": [{"Name": "FunctionName", "Value": function_name}],
        "Statistic": "Maximum" if lag else "Sum",
        "Period": 60 if lag else ERRORS_PERIOD_S,
        "EvaluationPeriods": LAG_MINUTES if lag else 1,
        "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold" if lag else "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
    }


def lag_threshold(ev: MonitoringMissing) -> float:
    return max(LAG_FLOOR, float(math.ceil(2 * (ev.offset_lag_max or 0))))


def errors_threshold(ev: MonitoringMissing) -> float:
    if not ev.errors or not ev.window_minutes:
        return 1.0
    per_period = ev.errors * (ERRORS_PERIOD_S / 60) / ev.window_minutes
    return max(1.0, float(math.ceil(2 * per_period)))


def _described(ctx: ApplyContext, name: str) -> dict[str, Any] | None:
    raw = ctx.aws.call("cloudwatch", "describe_alarms", AlarmNames=[name])
    alarms = raw.get("MetricAlarms") or []
    return dict(alarms[0]) if alarms else None


@register
class PutAlarm(Action):
    """One CloudWatch alarm on the function's OffsetLag or Errors."""

    name = "put_alarm"
    accepts = (MonitoringMissing,)
    order = 86  # before the restart (90), which the SSM runbook makes natively after `apply`
    permissions = (
        "cloudwatch:DescribeAlarms",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:TagResource",  # PutMetricAlarm with Tags
        "cloudwatch:ListTagsForResource",
        "cloudwatch:DeleteAlarms",
    )
    created_id = "AlarmName"
    finds_own = True

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, MonitoringMissing)
        wanted = []
        if "offset-lag-alarm" in ev.missing:
            wanted.append(("OffsetLag", lag_threshold(ev)))
        if "errors-alarm" in ev.missing:
            wanted.append(("Errors", errors_threshold(ev)))
        return [
            Draft(
                Change(
                    id="",
                    action=self.name,
                    resource=alarm_name(ev.function_name, metric),
                    kind="create",
                    before=None,
                    after=_alarm(ev.function_name, metric, threshold),
                )
            )
            for metric, threshold in wanted
        ]

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        return (_described(ctx, change.resource) is None) == (change.kind == "delete")

    def found(self, change: Change, ctx: ApplyContext) -> dict[str, Any] | None:
        alarm = _described(ctx, change.resource)
        if alarm is None:
            return None
        tags = ctx.aws.call("cloudwatch", "list_tags_for_resource", ResourceARN=alarm["AlarmArn"])
        mine = any(t["Key"] == RUN_TAG and t["Value"] == ctx.run_id for t in tags.get("Tags", []))
        return {"AlarmName": change.resource, "created": True} if mine else None

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        if change.kind == "delete":
            ctx.progress(f"deleting alarm {change.resource}")
            ctx.aws.call("cloudwatch", "delete_alarms", AlarmNames=[change.resource])
            return {}
        if _described(ctx, change.resource) is not None:  # made by an earlier run, or a person
            return {"AlarmName": change.resource, "created": False}
        ctx.progress(f"creating alarm {change.resource}")
        ctx.aws.call(
            "cloudwatch",
            "put_metric_alarm",
            AlarmName=change.resource,
            AlarmDescription="remediate: issue 25, monitoring of a Kafka event source mapping's function",
            Tags=[{"Key": RUN_TAG, "Value": ctx.run_id}],
            **change.after,
        )
        return {"AlarmName": change.resource, "created": True}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        alarm = _described(ctx, change.resource)
        if change.kind == "delete":
            return None if alarm is None else f"alarm {change.resource} still exists"
        if alarm is None:
            return f"alarm {change.resource} does not exist"
        if alarm.get("MetricName") != change.after["MetricName"]:
            return f"alarm {change.resource} watches {alarm.get('MetricName')}"
        return None


@register
class EnableEsmMetrics(EsmFieldWrite):
    """Turn on the mapping's own metrics (MetricsConfig), keeping those already on."""

    name = "enable_esm_metrics"
    field = "MetricsConfig"
    doing = "setting the metrics of"
    accepts = (MonitoringMissing,)
    order = 87
    permissions = ("lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping")

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, MonitoringMissing)
        if "esm-metrics" not in ev.missing:
            return []
        have = list(ev.metrics_config)
        wanted = [*have, *(m for m in health.ESM_METRICS_CONFIG if m not in have)]
        change = Change(
            id="",
            action=self.name,
            resource=facts.esm.uuid,
            before={"MetricsConfig": {"Metrics": have}},
            after={"MetricsConfig": {"Metrics": wanted}, "CostBasis": COST_BASIS},
        )
        return [Draft(change)]

    def mismatch(self, change: Change, esm: dict[str, Any]) -> str | None:
        have = (esm.get(self.field) or {}).get("Metrics") or []
        wanted = change.after[self.field]["Metrics"]
        return None if sorted(have) == sorted(wanted) else f"ESM {change.resource} publishes {have}"
