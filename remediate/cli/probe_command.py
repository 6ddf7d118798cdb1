"""`remediate probe --esm ID`: test the path from where the mapping's pollers stand (issue 22).

Observe the mapping (as `diagnose` does), then run the probe (`probe_flow`: plan, approval, lock,
journal, create, invoke, delete) and show what it measured per broker and step, and the findings it
proves beside the others (the "measured" evidence source).
"""

from __future__ import annotations

from typing import Any

import click

from remediate.cli.context import Ctx, common, guard
from remediate.cli.probe_flow import measure_from_vpc
from remediate.cli.reporter import CliReporter

_MARK = {"ok": "ok", "not-applicable": "-", "skipped": "skipped"}


def _step_cell(step: dict[str, Any]) -> str:
    outcome = str(step["outcome"])
    if outcome in ("ok",):
        return f"ok {step['ms']:.0f}ms"
    if outcome in _MARK:
        return _MARK[outcome]
    return f"{outcome}: {step.get('detail', '')}"


def render_result(result: dict[str, Any], placement: dict[str, Any] | None = None) -> str:
    lines = ["Measured from the pollers' place:"]
    for report in [*result.get("bootstrap", []), *result.get("brokers", [])]:
        node = f" (node {report['node_id']})" if report.get("node_id") is not None else ""
        lines.append(f"  {report['role']} {report['server']}{node}")
        for step in report["steps"]:
            lines.append(f"    {step['step']:<13}{_step_cell(step)}")
    for topic in result.get("topics", []):
        state = "ok" if topic["error_code"] == 0 else f"{topic['error_name']} ({topic['error_code']})"
        extra = (
            f", {topic['partitions']} partitions, leaders {topic['leaders']}"
            if topic["error_code"] == 0
            else ""
        )
        unreachable = (
            f", unreachable leaders {topic['unreachable_leaders']}" if topic["unreachable_leaders"] else ""
        )
        lines.append(f"  topic {topic['topic']}: {state}{extra}{unreachable}")
    group = result.get("group")
    if group:
        state = (
            "ok" if group.get("error_code") == 0 else f"{group.get('error_name')} ({group.get('error_code')})"
        )
        lines.append(f"  consumer group {group['group']}: {group['step']} {state}")
    if result.get("secret_error"):
        lines.append(f"  the function could not read the mapping's secret: {result['secret_error']}")
        if placement and not placement.get("secrets_read_like_pollers", True):  # issue 22
            lines.append(
                "  (provisioned mode: the pollers read it outside the VPC, so this is the probe's path to "
                "Secrets Manager, not theirs; the brokers were not measured)"
            )
    lines.append("  complete" if result.get("complete") else "  incomplete: a step failed or ran out of time")
    return "\n".join(lines) + "\n"


@click.command()
@click.option("--esm", required=True, help="ESM UUID or ARN.")
@click.option("--auto-approve", is_flag=True, default=False, help="Skip the interactive question.")
@common
@guard
def probe(esm: str, auto_approve: bool, **opts: Any) -> None:
    """Test the path from where the mapping's pollers stand: a short-lived Lambda function in their
    subnets and security groups, as the mapping's role, measures DNS, TCP, TLS, SASL, Metadata and the
    consumer group per broker, then is deleted with its log group. Asks first, like apply. Then shows
    the findings diagnosed with what it measured (the "measured" source)."""
    from remediate.cli.run_commands import _new_run
    from remediate.run.render import render_findings

    ctx = Ctx(**opts)
    run = _new_run(ctx, esm, "diagnose", CliReporter(ctx, False, False)).execute()
    probe_record = measure_from_vpc(ctx, run, auto_approve)
    result = probe_record["result"]
    assert run.facts is not None
    if ctx.settings.output == "json":
        ctx.emit_json(
            {
                "schema": "remediate/probe@1",
                "esm_uuid": run.facts.esm.uuid,
                **probe_record,
                "findings": [f.to_json() for f in run.findings],
            }
        )
    else:
        ctx.emit(
            render_result(result, probe_record["placement"])
            + "\n"
            + render_findings(run.facts, run.findings, ctx.color)
        )
