"""`scan --output html` is one self-contained page; `scan --output markdown` is the same for tickets.

Self-contained: no element loads anything (no `src`, no `href` but in-page anchors, no `url(` or
`@import` in styles), checked with the standard library's HTML parser. The sorting script is run in
headless Chromium where one is installed (`/usr/bin/chromium`, or `chromium` on the PATH).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from remediate.sandbox import Sandbox, Scenario, build_scenario
from tests.conftest import CliRunner


class Page(HTMLParser):
    """Every tag with its attributes, the text of <style> and <script>, and the mapping table's rows."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[str] = []
        self.rows: list[list[str]] = []
        self._in: list[str] = []
        self._table: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in.append(tag)
        if tag == "table":
            self._table = dict(attrs).get("id")
        if tag == "tr" and self._table == "mappings" and "tbody" in self._in:
            self.rows.append([])
        if tag == "td" and self._table == "mappings" and self.rows:
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] in ("style", "script"):
            self.inline.append(data)
        if self._table == "mappings" and "td" in self._in and self.rows and self.rows[-1]:
            self.rows[-1][-1] += data


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture
def broken_fleet(sandbox: Sandbox) -> list[Scenario]:
    built = [build_scenario(sandbox, name) for name in ("healthy-msk", "scram-no-nat", "endpoint-sg-blocks")]
    sandbox.clear_calls()
    return built


def test_scan_html_is_self_contained_and_complete(broken_fleet: list[Scenario], cli: CliRunner) -> None:
    result = cli("scan", "--output", "html")
    assert result.returncode == 2, result.stderr  # findings present, as for the table
    page = parse(result.stdout)
    assert result.stdout.startswith("<!doctype html>")
    for tag, attrs in page.tags:
        assert "src" not in attrs, f"<{tag}> loads {attrs['src']}"
        href = attrs.get("href")
        assert href is None or href.startswith("#"), f"<{tag}> links to {href}"
        assert tag not in ("link", "iframe", "img", "object", "embed"), tag
    inline = "".join(page.inline)
    assert "url(" not in inline
    assert "@import" not in inline
    assert "fetch(" not in inline
    assert not re.search(r"https?://", inline)
    assert any(tag == "script" for tag, _ in page.tags)
    assert any(tag == "style" for tag, _ in page.tags)
    # Every mapping has a row; the broken ones link to their details, which hold the path picture.
    rows = {row[0]: row for row in page.rows}
    assert set(rows) == {sc.esm_uuid for sc in broken_fleet}
    assert rows[broken_fleet[0].esm_uuid][-1] == "-"
    assert rows[broken_fleet[1].esm_uuid][-1] == "SERVICE_ENDPOINTS_UNREACHABLE"
    anchors = {attrs.get("id") for _, attrs in page.tags}
    for sc in broken_fleet[1:]:
        assert f"esm-{sc.esm_uuid}" in anchors
    assert "esm-" + broken_fleet[0].esm_uuid not in anchors  # healthy: nothing to detail
    assert result.stdout.count('<table class="path">') == 2
    assert "no 0.0.0.0/0 route" in result.stdout
    assert "Mermaid source" in result.stdout
    # The summary counts by finding and by Region.
    assert re.search(r"<td>SERVICE_ENDPOINTS_UNREACHABLE</td><td>2</td>", result.stdout)
    assert re.search(r"<td>us-east-1</td><td>3</td><td>2</td>", result.stdout)


def test_scan_markdown_for_tickets(broken_fleet: list[Scenario], cli: CliRunner) -> None:
    result = cli("scan", "--output", "markdown")
    assert result.returncode == 2, result.stderr
    out = result.stdout
    assert out.startswith("# remediate scan\n")
    assert out.count("```mermaid") == 2  # one picture per broken mapping
    assert "| `SERVICE_ENDPOINTS_UNREACHABLE` | 2 |" in out
    for sc in broken_fleet:
        assert f"| `{sc.esm_uuid}` |" in out


def test_a_report_with_fix_is_bad_input(broken_fleet: list[Scenario], cli: CliRunner) -> None:
    result = cli("scan", "--fix", "--output", "html", "--auto-approve")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")


def chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.mark.skipif(chromium() is None, reason="no headless Chromium on this machine")
def test_sorting_works_in_a_real_browser(
    broken_fleet: list[Scenario], cli: CliRunner, tmp_path: Path
) -> None:
    """Click the ESM header twice in headless Chromium: the rows come out ascending, then descending."""
    html = cli("scan", "--output", "html").stdout
    clicks = """
<script>
var th = document.querySelector("#mappings th");
function esms() {
  return Array.from(document.querySelectorAll("#mappings tbody tr")).map(r => r.cells[0].textContent);
}
th.click(); var up = esms();
th.click(); var down = esms();
document.body.setAttribute("data-up", up.join(" ")); document.body.setAttribute("data-down", down.join(" "));
</script>"""
    page = tmp_path / "scan.html"
    page.write_text(html.replace("</body>", clicks + "</body>"))
    browser = chromium()
    assert browser is not None
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    up = re.search(r'data-up="([^"]*)"', dom)
    down = re.search(r'data-down="([^"]*)"', dom)
    assert up, dom[-2000:]
    assert down, dom[-2000:]
    uuids = sorted(sc.esm_uuid for sc in broken_fleet)
    assert up.group(1).split() == uuids
    assert down.group(1).split() == uuids[::-1]
