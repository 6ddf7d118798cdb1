"""Text rendering of findings and plans, Terraform-style. Pure: strings in, strings out.

`+` create, `~` update, `-` destroy; multi-line values (policy documents) are shown as a unified
diff of their pretty JSON, so a reviewer sees exactly which statement is added or narrowed.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from remediate.error_text import hints_for
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import Change, Plan
from remediate.run import path_groups
from remediate.run.duplicates import duplicates

if TYPE_CHECKING:
    from remediate.run.fleet import ScanResult

_COLORS = {"green": "32", "yellow": "33", "red": "31", "bold": "1", "dim": "2", "cyan": "36"}
_SIGN = {"create": ("+", "green"), "update": ("~", "yellow"), "delete": ("-", "red")}
PLACEMENT_TEXT = {
    "cluster": "the MSK cluster's subnets and security groups (not the function's VPC settings)",
    "source-access": "the VPC_SUBNET / VPC_SECURITY_GROUP source access configuration of the ESM",
    "internet": "the internet (self-managed Kafka without VPC source access)",
}


class Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *names: str) -> str:
        if not self.color or not names:
            return text
        codes = ";".join(_COLORS[n] for n in names)
        return f"\x1b[{codes}m{text}\x1b[0m"


def _value(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


def _multiline(v: Any) -> bool:
    return isinstance(v, dict | list) and len(json.dumps(v)) > 60


def render_findings(facts: Facts, findings: list[Finding], color: bool = False) -> str:
    s = Style(color)
    esm = facts.esm
    source = esm.event_source_arn if esm.source_kind == "msk" else ", ".join(esm.bootstrap_servers)
    lines = [
        s(f"ESM {esm.uuid}", "bold") + f"  ({esm.state}, batch size {esm.batch_size})",
        f"  function: {esm.function_arn}",
        f"  source:   {esm.source_kind} {source}",
    ]
    if facts.network:
        lines.append(f"  network:  {PLACEMENT_TEXT[facts.network.placement]}")
    for hint in hints_for(esm.last_processing_result, esm.state_transition_reason):
        lines.append(f"  AWS says ({hint.source}): {hint.text}")
    lines.append("")
    if not findings:
        lines.append(s("No problems found.", "green"))
        return "\n".join(lines) + "\n"
    lines.append(s(f"{len(findings)} finding(s):", "bold"))
    for f in findings:
        colour = "yellow" if f.code == "COULD_NOT_CHECK" else "red"
        lines.append(f"  {s('!', colour)} {s(f.code, 'bold')}: {f.summary}")
        lines.extend(evidence_lines(f, s))
    return "\n".join(lines) + "\n"


def evidence_lines(finding: Finding, s: Style, indent: str = "      ") -> list[str]:
    """The network findings' paths, one line per cause with the targets and subnets it affects; a
    small target x subnet matrix when the cause does not cover every pair."""
    lines = []
    for g in path_groups.group(path_groups.checked_of(finding.evidence)):
        word = s("blocked by", "red") + " " if g.blocked else ""
        tone = "dim" if not g.blocked else ""
        if g.full:
            lines.append(indent + word + s(path_groups.one_line(g), *filter(None, [tone])))
            continue
        lines.append(indent + word + s(f"{g.cause}:", *filter(None, [tone])))
        rows = path_groups.matrix(g)
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            lines.append(
                indent + "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            )
    lines.extend(indent + note for note in path_groups.notes_of(finding.evidence))
    return lines


def _change_lines(change: Change, s: Style) -> list[str]:
    sign, colour = _SIGN[change.kind]
    because = s(f"  (because {', '.join(change.because)})", "dim") if change.because else ""
    lines = [
        s(f"  # {change.id}: {change.action} on {change.resource}", "bold") + because,
        f'  {s(sign, colour)} {change.action} "{change.resource}" {{',
    ]
    before = change.before or {}
    keys = list(dict.fromkeys([*before.keys(), *change.after.keys()]))
    for key in keys:
        old, new = before.get(key), change.after.get(key)
        if change.kind == "delete":  # issue 23 (N24): what a delete removes is all `-`, never `+`
            lines.append(f"      {s('-', 'red')} {key} = {_value(old if key in before else new)}")
        elif key not in change.after:
            lines.append(f"      {s('-', 'red')} {key} = {_value(old)}")
        elif change.before is None or key not in before:
            if _multiline(new):
                lines.append(
                    f"      {s('+', 'green')} {key} = "
                    + json.dumps(new, indent=2, sort_keys=True).replace("\n", "\n          ")
                )
            else:
                lines.append(f"      {s('+', 'green')} {key} = {_value(new)}")
        elif old != new:
            if _multiline(old) or _multiline(new):
                lines.append(f"      {s('~', 'yellow')} {key}:")
                diff = difflib.unified_diff(
                    json.dumps(old, indent=2, sort_keys=True).splitlines(),
                    json.dumps(new, indent=2, sort_keys=True).splitlines(),
                    lineterm="",
                    n=3,
                )
                for d in list(diff)[2:]:
                    tone = "green" if d.startswith("+") else "red" if d.startswith("-") else "dim"
                    lines.append("          " + s(d, tone))
            else:
                lines.append(f"      {s('~', 'yellow')} {key} = {_value(old)} -> {_value(new)}")
        else:
            lines.append(f"        {key} = {_value(new)}")
    lines.append("    }")
    return lines


def render_plan(plan: Plan, color: bool = False, *, with_findings: bool = False) -> str:
    """The plan; `with_findings` heads it with the findings it answers (for `apply`, which shows no
    separate diagnosis before asking for approval)."""
    s = Style(color)
    lines: list[str] = []
    if with_findings and plan.findings:
        lines.append(s(f"ESM {plan.target.esm_uuid}: {len(plan.findings)} finding(s):", "bold"))
        for f in plan.findings:
            lines.append(f"  {s('!', 'red')} {s(f.code, 'bold')}: {f.summary}")
            lines.extend(evidence_lines(f, s))
        lines.append("")
    if plan.changes:
        lines.append("remediate will perform the following actions:")
        lines.append("")
        for change in plan.changes:
            lines.extend(_change_lines(change, s))
            lines.append("")
    if plan.manual_steps:
        lines.append(s("Manual steps (no API can do these):", "bold"))
        for i, step in enumerate(plan.manual_steps, 1):
            because = f"[{', '.join(step.because)}] " if step.because else ""
            lines.append(f"  {i}. {because}" + step.text.replace("\n", "\n     "))
        lines.append("")
    if plan.alternatives:
        lines.append(s("Alternatives (not planned; choose one with --fix-with):", "bold"))
        lines.extend(f"  - [{', '.join(a.because)}] {a.text}" for a in plan.alternatives)
        lines.append("")
    lines.append(s(plan.summary(), "bold"))
    return "\n".join(lines) + "\n"


def render_scan_table(results: Sequence[ScanResult], color: bool = False, scanned: Sequence[str] = ()) -> str:
    """One row per mapping (ESM, function, source, state, findings) and a one-line summary. With
    more than one region `scanned`, a REGION column and the regions in the summary, even when the
    mappings are all in one (issue 23, operator-hunt N20: nothing said eu-west-1 was scanned)."""
    s = Style(color)
    where = list(dict.fromkeys([*scanned, *(r.region for r in results)]))
    regions = len(where) > 1
    header = ("REGION",) * regions + ("ESM", "FUNCTION", "SOURCE", "STATE", "FINDINGS")
    rows = [
        (
            (r.region,) * regions
            + (
                r.esm_uuid,
                r.function_arn.rsplit(":", 1)[-1],
                r.source,
                r.state,
                f"error: {r.error}" if r.error else ", ".join(f.code for f in r.findings) or "-",
            )
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]

    def line(row: tuple[str, ...], paint: tuple[str, ...] = ()) -> str:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        return "  ".join([*cells, s(row[-1], *paint)]).rstrip()

    out = [s(line(header), "bold")]
    for result, row in zip(results, rows, strict=True):
        out.append(line(row, () if result.healthy else ("red" if result.error else "yellow",)))
    broken = sum(1 for r in results if r.findings and not r.error)
    errors = sum(1 for r in results if r.error)
    out.extend(f"duplicate: {d.text()}" for d in duplicates(results))  # issue 25
    out.append("")
    out.append(
        f"{len(results)} mapping(s) scanned{' in ' + ', '.join(where) if regions else ''}: "
        f"{len(results) - broken - errors} healthy, "
        f"{broken} with findings, {errors} could not be checked."
    )
    return "\n".join(out) + "\n"
