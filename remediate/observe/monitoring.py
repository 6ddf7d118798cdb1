"""The alarms on a function's metrics (issue 25, item 8), read only when monitoring is asked for.

DescribeAlarmsForMetric answers the alarms on one metric and dimension set (CloudWatch API reference); the
alarms that matter here are on AWS/Lambda `OffsetLag` and `Errors` with the dimension `FunctionName`: the
Lambda developer guide ("Types of metrics for Lambda functions") publishes both per function, and a
per-mapping OffsetLag dimension was not confirmed (docs/aws-rules.md). Two calls per function.
"""

from __future__ import annotations

from typing import Final

from remediate.aws import Aws, is_access_denied
from remediate.errors import AwsError
from remediate.facts import Alarm, Monitoring, Unchecked

PERMISSIONS: Final = ("cloudwatch:DescribeAlarmsForMetric",)
NAMESPACE: Final = "AWS/Lambda"
METRICS: Final = ("OffsetLag", "Errors")


def read(aws: Aws, function_name: str) -> tuple[Monitoring | None, list[Unchecked]]:
    """The function's alarms on OffsetLag and Errors; a denied read is a COULD_NOT_CHECK instead."""
    alarms: list[Alarm] = []
    for metric in METRICS:
        try:
            raw = aws.call(
                "cloudwatch",
                "describe_alarms_for_metric",
                MetricName=metric,
                Namespace=NAMESPACE,
                Dimensions=[{"Name": "FunctionName", "Value": function_name}],
            )
        except AwsError as exc:
            if exc.__cause__ is not None and is_access_denied(exc.__cause__):
                return None, [Unchecked(what=f"alarms on {function_name}'s {metric}", reason=str(exc))]
            raise
        alarms += [
            Alarm(name=str(a["AlarmName"]), metric=metric, threshold=a.get("Threshold"))
            for a in raw.get("MetricAlarms", [])
        ]
    return Monitoring(function_name=function_name, alarms=tuple(alarms)), []
