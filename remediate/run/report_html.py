"""`scan --output html`: one self-contained HTML file for a fleet. Pure: scan results and plans in.

Self-contained means it fetches nothing: the styles and the sorting script are inline, and there is no
`src` or `href` to anywhere but an anchor in the page. Mermaid's renderer is a large script that a
page would load from a CDN, so the path picture is not drawn by Mermaid here: the same picture
(`mermaid.picture`, the nodes and edges the Markdown report draws) is written as HTML, one row per
edge, from -> to, a blocked edge in red with its cause, and the Mermaid source follows in a
collapsed block to paste where Mermaid is drawn (a ticket, a wiki).

The page holds: the counts of mappings per finding and per Region, a table of every mapping (ESM,
function, source, state, findings) that sorts on a click of a column header, and the details of each
mapping with findings (findings with their evidence grouped by cause, path picture, plan, manual
steps).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING

from remediate.findings import Finding
from remediate.plan import Plan
from remediate.run import mermaid, path_groups
from remediate.run.render import PLACEMENT_TEXT, render_plan
from remediate.run.report_markdown import finding_codes, summary_counts

if TYPE_CHECKING:
    from remediate.run.fleet import ScanResult

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em;color:#1b1b1b;max-width:80em}
h1,h2,h3{font-weight:600}table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}th.sort{cursor:pointer;user-select:none}th.sort::after{content:" \\2195";color:#999}
th[aria-sort=ascending]::after{content:" \\2191"}th[aria-sort=descending]::after{content:" \\2193"}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
pre{background:#f7f7f7;border:1px solid #ddd;padding:.6em;overflow:auto}
.bad{color:#b71c1c}.ok{color:#1b5e20}.warn{color:#8a6d00}
tr.blocked td{background:#fdecea}tr.open td{background:#edf7ee}
section.mapping{border-top:2px solid #ddd;margin-top:2em}
.summary{display:flex;gap:3em;flex-wrap:wrap}
"""

SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.classList.add("sort");
    th.addEventListener("click", function () {
      var up = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].textContent, y = b.cells[column].textContent;
        var numbers = x !== "" && y !== "" && isFinite(x) && isFinite(y);
        return (up ? 1 : -1) * (numbers ? x - y : x < y ? -1 : x > y ? 1 : 0);
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def _evidence(finding: Finding) -> str:
    parts = []
    for g in path_groups.group(path_groups.checked_of(finding.evidence)):
        head = (
            f'<span class="bad">blocked by {escape(g.cause)}</span>'
            if g.blocked
            else '<span class="ok">allowed</span>'
        )
        if g.full:
            parts.append(
                f"<li>{head}: {escape(', '.join(g.targets))} from {escape(', '.join(g.subnets))}</li>"
            )
            continue
        rows = path_groups.matrix(g, mark="✗" if g.blocked else "✓", empty="")
        table = "<tr>" + "".join(f"<th>{escape(c)}</th>" for c in ["target", *rows[0][1:]]) + "</tr>"
        table += "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows[1:])
        parts.append(f"<li>{head}:<table>{table}</table></li>")
    parts += [f"<li>{escape(note)}</li>" for note in path_groups.notes_of(finding.evidence)]
    return f"<ul>{''.join(parts)}</ul>" if parts else ""


def _picture(result: ScanResult) -> str:
    assert result.facts is not None
    pic = mermaid.picture(result.facts, result.findings)
    rows = []
    for a, b, cause in pic.links:
        css, mark = ("blocked", f'<span class="bad">✗ {escape(cause)}</span>') if cause else ("open", "✓")
        rows.append(
            f'<tr class="{css}"><td>{escape(pic.names[a])}</td><td>→</td>'
            f"<td>{escape(pic.names[b])}</td><td>{mark}</td></tr>"
        )
    head = "<tr><th>from</th><th></th><th>to</th><th>edge</th></tr>"
    return (
        f'<table class="path">{head}{"".join(rows)}</table>'
        f"<details><summary>Mermaid source</summary><pre>{escape(pic.text())}</pre></details>"
    )


def _mapping(result: ScanResult, plan: Plan | None) -> str:
    assert result.facts is not None
    facts = result.facts
    out = [
        f'<section class="mapping" id="esm-{escape(result.esm_uuid)}">',
        f"<h2>ESM <code>{escape(result.esm_uuid)}</code></h2>",
        "<table>",
        f"<tr><th>Region</th><td>{escape(result.region)}</td></tr>",
        f"<tr><th>function</th><td><code>{escape(result.function_arn)}</code></td></tr>",
        f"<tr><th>source</th><td><code>{escape(result.source)}</code></td></tr>",
        f"<tr><th>state</th><td>{escape(result.state)}</td></tr>",
    ]
    if facts.network:
        out.append(f"<tr><th>pollers</th><td>{escape(PLACEMENT_TEXT[facts.network.placement])}</td></tr>")
    out.append("</table>")
    out.append(f"<h3>Findings ({len(result.findings)})</h3><ul>")
    for f in result.findings:
        out.append(f"<li><strong>{escape(f.code)}</strong>: {escape(f.summary)}{_evidence(f)}</li>")
    out.append("</ul><h3>Network path</h3>")
    out.append(_picture(result))
    if plan is not None:
        out.append(f"<h3>Plan</h3><p><strong>{escape(plan.summary())}</strong></p>")
        if plan.changes:
            body = render_plan(plan.model_copy(update={"manual_steps": ()}), color=False)
            out.append(f"<pre>{escape(body.rstrip())}</pre>")
        if plan.manual_steps:
            out.append("<h3>Manual steps</h3><ol>")
            out += [f"<li>[{escape(', '.join(s.because))}] {escape(s.text)}</li>" for s in plan.manual_steps]
            out.append("</ol>")
    out.append("</section>")
    return "\n".join(out)


def scan_html(results: Sequence[ScanResult], plans: Mapping[str, Plan]) -> str:
    """The whole page: summary counts, the sortable table of mappings, each broken mapping's details."""
    codes, regions = summary_counts(results)
    per_region = Counter(r.region for r in results)
    healthy = sum(1 for r in results if r.healthy)
    rows = []
    for r in results:
        tone = "ok" if r.healthy else "bad" if r.error else "warn"
        esm = escape(r.esm_uuid)
        link = f'<a href="#esm-{esm}">{esm}</a>' if r.facts is not None and r.findings else esm
        cells = [link, escape(r.function_arn.rsplit(":", 1)[-1]), escape(r.source), escape(r.state)]
        cells.append(f'<span class="{tone}">{escape(finding_codes(r))}</span>')
        if len(per_region) > 1:
            cells.insert(0, escape(r.region))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = (["Region"] if len(per_region) > 1 else []) + ["ESM", "function", "source", "state", "findings"]
    page = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>remediate scan</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>remediate scan</h1>",
        f"<p>{len(results)} mapping(s): {healthy} healthy, "
        f"{len(results) - healthy} with findings or errors.</p>",
        '<div class="summary"><table id="by-finding"><tr><th>finding</th><th>mappings</th></tr>',
        *(f"<tr><td>{escape(c)}</td><td>{n}</td></tr>" for c, n in sorted(codes.items())),
        '</table><table id="by-region"><tr><th>Region</th><th>mappings</th><th>with findings</th></tr>',
        *(
            f"<tr><td>{escape(reg)}</td><td>{n}</td><td>{regions.get(reg, 0)}</td></tr>"
            for reg, n in sorted(per_region.items())
        ),
        "</table></div>",
        '<table id="mappings" class="sortable"><thead><tr>',
        "".join(f"<th>{h}</th>" for h in header),
        "</tr></thead><tbody>",
        *rows,
        "</tbody></table>",
        *(_mapping(r, plans.get(r.esm_uuid)) for r in results if r.facts is not None and r.findings),
        f"<script>{SORT_SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(page) + "\n"
