"""`--output markdown` (diagnose, plan, scan) and `--output html` (scan): reports for tickets and chat.

The report formats are chosen per command, not a setting: `output` in the config file stays `text`
or `json`, and a command given a report format runs as `text` and writes the report instead. The
renderers are pure (`run/report_markdown.py`, `run/report_html.py`); this module only wires them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from remediate.cli.context import F

if TYPE_CHECKING:
    from remediate.cli.context import Ctx
    from remediate.plan import Plan
    from remediate.run.fleet import ScanResult
    from remediate.run.machine import Run

REPORTS = ("markdown", "html")


def report_output(*formats: str) -> Callable[[F], F]:
    """Widen the common `--output` of a command to `text`, `json` and the report `formats`."""

    def widen(fn: F) -> F:
        params: list[click.Parameter] = fn.__click_params__  # type: ignore[attr-defined]
        for i, param in enumerate(params):
            if param.name == "output":
                params[i] = click.Option(
                    ["--output"],
                    type=click.Choice(["text", "json", *formats]),
                    help=f"text (default), one JSON document, or a report: {', '.join(formats)}.",
                )
        return fn

    return widen


def take_report(opts: dict[str, Any]) -> str | None:
    """The report format asked for, if any; the command then runs with `output = text`."""
    if opts.get("output") in REPORTS:
        fmt = str(opts["output"])
        opts["output"] = "text"
        return fmt
    return None


def emit_mapping_report(ctx: Ctx, run: Run, plan: Plan | None) -> None:
    """`diagnose` / `plan --output markdown`: the plan is computed from the run's facts when the run
    stopped at its diagnosis (pure: the same plan `plan` would show, no lock, no extra reads)."""
    from remediate.run.engine import build_plan
    from remediate.run.report_markdown import mapping_report

    assert run.facts is not None
    if plan is None:
        plan = build_plan(run.facts, list(run.findings), ctx.playbooks())
    ctx.emit(mapping_report(run.facts, run.findings, plan))


def emit_scan_report(ctx: Ctx, fmt: str, results: Sequence[ScanResult], books: Any) -> None:
    """`scan --output markdown|html`: every broken mapping with its picture and the plan it would get."""
    from remediate.run.engine import build_plan

    plans = {
        r.esm_uuid: build_plan(r.facts, list(r.findings), books)
        for r in results
        if r.facts is not None and r.findings
    }
    if fmt == "html":
        from remediate.run.report_html import scan_html

        ctx.emit(scan_html(results, plans))
    else:
        from remediate.run.report_markdown import scan_report

        ctx.emit(scan_report(results, plans))
