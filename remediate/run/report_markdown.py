"""Markdown reports for tickets and chat: one mapping (`diagnose` / `plan --output markdown`) or a
fleet (`scan --output markdown`). Pure: facts, findings and plans in, Markdown out.

A mapping's report is its header, the picture of its network path (a ```mermaid block, which GitHub,
GitLab and most wikis draw), the findings with their evidence grouped by cause, the plan's changes
as Terraform-style text and the manual steps. Nothing here reads AWS or knows about a terminal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from remediate.error_text import hints_for
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import Plan
from remediate.run import mermaid, path_groups
from remediate.run.render import PLACEMENT_TEXT, render_plan

if TYPE_CHECKING:
    from remediate.run.fleet import ScanResult


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell (and out of HTML's way)."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\n", " ")
    )


def code(text: str) -> str:
    return f"`{text.replace('`', '')}`"


def evidence(finding: Finding) -> list[str]:
    """The finding's paths grouped by cause: a bullet per cause, a target x subnet table when the cause
    does not cover every pair; then the evidence's notes."""
    out: list[str] = []
    for g in path_groups.group(path_groups.checked_of(finding.evidence)):
        head = f"blocked by {cell(g.cause)}" if g.blocked else "allowed"
        if g.full:
            targets = ", ".join(code(t) for t in g.targets)
            out.append(f"  - {head}: {targets} from {', '.join(code(s) for s in g.subnets)}")
            continue
        out.append(f"  - {head}:")
        out.append("")
        rows = path_groups.matrix(g, mark="✗" if g.blocked else "✓", empty="")
        out.append("    | target | " + " | ".join(code(s) for s in rows[0][1:]) + " |")
        out.append("    |---|" + "---|" * (len(rows[0]) - 1))
        out += ["    | " + " | ".join([code(r[0]), *r[1:]]) + " |" for r in rows[1:]]
        out.append("")
    out += [f"  - {cell(note)}" for note in path_groups.notes_of(finding.evidence)]
    return out


def findings_section(findings: Sequence[Finding], level: int) -> list[str]:
    hashes = "#" * level
    if not findings:
        return [f"{hashes} Findings", "", "No problems found.", ""]
    out = [f"{hashes} Findings ({len(findings)})", ""]
    for f in findings:
        out.append(f"- **{f.code}**: {cell(f.summary)}")
        out += evidence(f)
    out.append("")
    return out


def plan_section(plan: Plan, level: int) -> list[str]:
    hashes = "#" * level
    out = [f"{hashes} Plan", "", f"**{plan.summary()}**", ""]
    if plan.changes:
        changes_only = plan.model_copy(update={"manual_steps": ()})
        body = render_plan(changes_only, color=False).rstrip("\n").rsplit("\n", 1)[0].rstrip()
        out += ["```text", body, "```", ""]
    if plan.manual_steps:
        out += [f"{hashes} Manual steps", ""]
        for i, step in enumerate(plan.manual_steps, 1):
            text = step.text.replace("\n", "\n   ")
            out.append(f"{i}. [{', '.join(step.because)}] {text}")
        out.append("")
    return out


def mapping_report(facts: Facts, findings: Sequence[Finding], plan: Plan | None, level: int = 1) -> str:
    """One mapping: header, picture, findings, plan and manual steps."""
    esm = facts.esm
    hashes = "#" * level
    source = esm.event_source_arn if esm.source_kind == "msk" else ", ".join(esm.bootstrap_servers)
    out = [
        f"{hashes} ESM {esm.uuid}",
        "",
        "| | |",
        "|---|---|",
        f"| state | {cell(esm.state)} (batch size {esm.batch_size}) |",
        f"| function | {code(esm.function_arn)} |",
        f"| source | {cell(esm.source_kind)} {code(source or '-')} |",
    ]
    if facts.network:
        out.append(f"| pollers | {cell(PLACEMENT_TEXT[facts.network.placement])} |")
    for hint in hints_for(esm.last_processing_result, esm.state_transition_reason):
        out.append(f"| AWS says ({cell(hint.source)}) | {cell(hint.text)} |")
    out += [
        "",
        f"{hashes}# Network path",
        "",
        "```mermaid",
        mermaid.flowchart(facts, findings).rstrip(),
        "```",
        "",
    ]
    out += findings_section(findings, level + 1)
    if plan is not None:
        out += plan_section(plan, level + 1)
    return "\n".join(out).rstrip() + "\n"


def summary_counts(results: Sequence[ScanResult]) -> tuple[Counter[str], Counter[str]]:
    """(mappings per finding code, mappings with findings per Region)."""
    codes: Counter[str] = Counter()
    regions: Counter[str] = Counter()
    for r in results:
        codes.update({f.code for f in r.findings})
        if r.error:
            codes["(could not be checked)"] += 1
        if r.findings or r.error:
            regions[r.region] += 1
    return codes, regions


def finding_codes(r: ScanResult) -> str:
    return f"error: {r.error}" if r.error else ", ".join(dict.fromkeys(f.code for f in r.findings)) or "-"


def scan_report(results: Sequence[ScanResult], plans: Mapping[str, Plan]) -> str:
    """A fleet: counts by finding and Region, one table row per mapping, then each broken mapping's
    report (the healthy ones have nothing to show beyond their row)."""
    codes, regions = summary_counts(results)
    healthy = sum(1 for r in results if r.healthy)
    out = [
        "# remediate scan",
        "",
        f"{len(results)} mapping(s): {healthy} healthy, {len(results) - healthy} with findings or errors.",
        "",
        "| finding | mappings |",
        "|---|---|",
        *(f"| {code(c)} | {n} |" for c, n in sorted(codes.items())),
        "",
        "| Region | mappings | with findings |",
        "|---|---|---|",
        *(
            f"| {r} | {n} | {regions.get(r, 0)} |"
            for r, n in sorted(Counter(x.region for x in results).items())
        ),
        "",
        "| ESM | function | source | state | findings |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        fn = r.function_arn.rsplit(":", 1)[-1]
        row = [code(r.esm_uuid), cell(fn), cell(r.source), cell(r.state), cell(finding_codes(r))]
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    for r in results:
        if r.facts is not None and r.findings:
            out.append(mapping_report(r.facts, r.findings, plans.get(r.esm_uuid), level=2))
    return "\n".join(out).rstrip() + "\n"
