"""End to end, issue 25 item 8: monitoring as a fix, off unless asked.

With `--fix-with monitoring` (or the `monitoring_fix` setting) a diagnosis reads the alarms on the function's
OffsetLag and Errors and plans what is missing: two CloudWatch alarms, thresholds from the observed window
(twice the worst lag, at least 100; twice the window's average 5-minute error count, at least 1), named
remediate-FUNCTION-METRIC and tagged remediate:run-id, and the mapping's MetricsConfig. The seeded metrics
are the sandbox's; the expected thresholds are computed here from them.
"""

from __future__ import annotations

import json
import math
from typing import Any

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner, diagnosed

# Healthy but watched by nobody: a few errors (under FUNCTION_FAILING's half), lag that does not grow.
_METRICS = {"Invocations": (40.0, 40.0, 40.0), "Errors": (4.0, 4.0, 4.0), "OffsetLag": (300.0, 420.0, 150.0)}
ALL = ["EventCount", "ErrorCount", "KafkaMetrics"]


def _plan(cli: CliRunner, uuid: str, *extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    run = cli("plan", "--esm", uuid, "--output", "json", *extra, env=env)
    assert run.returncode == 0, run.stderr
    doc: dict[str, Any] = json.loads(run.stdout)
    return doc


def test_monitoring_is_planned_only_when_asked_and_converges(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "healthy-msk", name="unwatched", function_metrics=_METRICS)
    sandbox.clear_calls()
    assert diagnosed(cli, scn.esm_uuid) == []
    assert not [op for _, op in sandbox.calls if op.startswith("DescribeAlarms")]  # off unless asked
    plan = _plan(cli, scn.esm_uuid, "--fix-with", "monitoring")
    asked = [op for _, op in sandbox.calls if op.startswith("DescribeAlarms")]
    assert asked == ["DescribeAlarmsForMetric"] * 2
    [found] = plan["findings"]
    assert found["code"] == "MONITORING_MISSING"
    ev = found["evidence"]
    assert ev["missing"] == ["offset-lag-alarm", "errors-alarm", "esm-metrics"]
    assert (ev["offset_lag_max"], ev["errors"]) == (420.0, 12.0)
    window = ev["window_minutes"]
    lag, errors, metrics = plan["changes"]
    fn = scn.function_name
    assert (lag["action"], lag["kind"], lag["resource"]) == (
        "put_alarm",
        "create",
        f"remediate-{fn}-OffsetLag",
    )
    assert lag["after"]["Dimensions"] == [{"Name": "FunctionName", "Value": fn}]
    assert (lag["after"]["Threshold"], lag["after"]["Statistic"]) == (840.0, "Maximum")
    assert errors["resource"] == f"remediate-{fn}-Errors"
    assert errors["after"]["Threshold"] == max(1.0, math.ceil(2 * 12.0 * 5 / window))
    assert (metrics["action"], metrics["after"]["MetricsConfig"]) == ("enable_esm_metrics", {"Metrics": ALL})
    applied = cli(
        "apply", "--esm", scn.esm_uuid, "--fix-with", "monitoring", "--auto-approve", "--output", "json"
    )
    assert applied.returncode == 0, applied.stderr
    run_id = json.loads(applied.stdout)["run_id"]
    cw = sandbox.client("cloudwatch")
    made = cw.describe_alarms(AlarmNamePrefix=f"remediate-{fn}-")["MetricAlarms"]
    assert sorted(a["MetricName"] for a in made) == ["Errors", "OffsetLag"]
    for alarm in made:
        tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
        assert {"Key": "remediate:run-id", "Value": run_id} in tags
    lam = sandbox.client("lambda")
    assert lam.get_event_source_mapping(UUID=scn.esm_uuid)["MetricsConfig"] == {"Metrics": ALL}
    # A re-run converges; so does the config switch.
    again = _plan(cli, scn.esm_uuid, "--fix-with", "monitoring")
    assert (again["findings"], again["changes"]) == ([], [])
    assert _plan(cli, scn.esm_uuid, env={"REMEDIATE_MONITORING_FIX": "true"})["changes"] == []
    undone = cli("rollback", run_id, "--auto-approve")
    assert undone.returncode == 0, undone.stderr
    assert cw.describe_alarms(AlarmNamePrefix=f"remediate-{fn}-")["MetricAlarms"] == []
    assert (lam.get_event_source_mapping(UUID=scn.esm_uuid).get("MetricsConfig") or {}).get(
        "Metrics", []
    ) == []


def test_an_existing_alarm_is_kept_and_the_switch_turns_it_on(sandbox: Sandbox, cli: CliRunner) -> None:
    """A person's alarm on Errors counts (any alarm on the metric); the setting asks as the flag does."""
    scn = build_scenario(sandbox, "healthy-msk", name="half-watched", function_metrics=_METRICS)
    sandbox.client("cloudwatch").put_metric_alarm(
        AlarmName="team-errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": scn.function_name}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
    )
    plan = _plan(cli, scn.esm_uuid, env={"REMEDIATE_MONITORING_FIX": "true"})
    assert plan["findings"][0]["evidence"]["missing"] == ["offset-lag-alarm", "esm-metrics"]
    assert [c["resource"] for c in plan["changes"]] == [
        f"remediate-{scn.function_name}-OffsetLag",
        scn.esm_uuid,
    ]
