"""The Mermaid picture of `diagnose` / `plan --output markdown` is valid Mermaid and says what is blocked.

Validity is checked twice: always, by a strict grammar of the subset the renderer writes (written here
from Mermaid's flowchart syntax reference, not from the renderer), which also checks what a parser
would let pass (every edge's ends declared, `linkStyle` indices in range, balanced subgraphs); and,
where Node.js and the `mermaid` package are installed (`make test` installs them in tests/mermaid),
by Mermaid's own parser.
"""

from __future__ import annotations

import atexit
import functools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remediate.run.mermaid import label
from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner

PARSER = Path(__file__).parent / "mermaid"
ID = r"[A-Za-z][A-Za-z0-9_]*"
LABEL = r'"(?:[^"<>|\n#]|#(?:quot|lt|gt|35|124);)*"'
PROPS = r"[a-z-]+:[#A-Za-z0-9. ]+(?:,[a-z-]+:[#A-Za-z0-9. ]+)*"
LINE = {
    "subgraph": re.compile(rf"^subgraph ({ID})\[({LABEL})\]$"),
    "end": re.compile(r"^end$"),
    "node": re.compile(rf"^({ID})\[({LABEL})\]$"),
    "edge": re.compile(rf"^({ID}) (?:-->|-\.->) ({ID})$"),
    "cut": re.compile(rf"^({ID}) --x\|({LABEL})\| ({ID})$"),
    "classDef": re.compile(rf"^classDef ({ID}) {PROPS}$"),
    "class": re.compile(rf"^class ({ID}(?:,{ID})*) ({ID})$"),
    "linkStyle": re.compile(rf"^linkStyle (\d+(?:,\d+)*) {PROPS}$"),
}
RESERVED = {"end", "graph", "flowchart", "subgraph", "class", "classDef", "style", "linkStyle", "click"}


def strict_parse(text: str) -> dict[str, list[tuple[str, ...]]]:
    """Nodes, edges (with their label, '' for an open edge) and subgraphs; AssertionError if invalid."""
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "flowchart LR", lines[0]
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str, str]] = []
    depth, styled, classes = 0, [], set()
    for raw in lines[1:]:
        line = raw.strip()
        kind, match = next(((k, m) for k, p in LINE.items() if (m := p.match(line))), (None, None))
        assert match is not None, f"not in the grammar: {raw!r}"
        if kind in ("subgraph", "node"):
            ident = match.group(1)
            assert ident not in RESERVED, ident
            assert ident not in nodes, f"{ident} declared twice"
            nodes[ident] = match.group(2)
            depth += kind == "subgraph"
        elif kind == "end":
            depth -= 1
            assert depth >= 0, "end without subgraph"
        elif kind == "edge":
            edges.append((match.group(1), match.group(2), ""))
        elif kind == "cut":
            edges.append((match.group(1), match.group(3), match.group(2)))
        elif kind == "classDef":
            classes.add(match.group(1))
        elif kind == "class":
            assert match.group(2) in classes, f"class {match.group(2)} used before classDef"
            assert all(i in nodes for i in match.group(1).split(",")), line
        elif kind == "linkStyle":
            styled += [int(i) for i in match.group(1).split(",")]
    assert depth == 0, "unclosed subgraph"
    for a, b, _ in edges:
        assert a in nodes, f"edge from undeclared node {a}"
        assert b in nodes, f"edge to undeclared node {b}"
    assert all(0 <= i < len(edges) for i in styled), "linkStyle index out of range"
    return {
        "nodes": list(nodes.items()),
        "edges": edges,
        "styled": [(str(i),) for i in styled],
    }


@functools.cache
def _parser() -> subprocess.Popen[str]:
    """Mermaid's parser, one process per test worker (loading Mermaid is most of a parse's cost); it
    ends when its standard input closes, at the worker's exit."""
    proc = subprocess.Popen(
        ["node", str(PARSER / "parse.mjs")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    atexit.register(proc.communicate, timeout=60)
    return proc


def mermaid_parse(text: str) -> dict[str, object]:
    proc = _parser()
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write(json.dumps(text) + "\n")
    proc.stdin.flush()
    answer = proc.stdout.readline()
    assert answer, f"Mermaid's parser ended (exit {proc.poll()})"
    doc: dict[str, object] = json.loads(answer)
    return doc


def mermaid_block(markdown: str) -> str:
    found = re.findall(r"^```mermaid\n(.*?)^```$", markdown, flags=re.M | re.S)
    assert len(found) == 1, markdown
    return str(found[0])


def real_parser() -> bool:
    return shutil.which("node") is not None and (PARSER / "node_modules" / "mermaid").is_dir()


def test_the_strict_grammar_rejects_what_mermaid_rejects() -> None:
    """The grammar is not a rubber stamp: a quote in a label, an undeclared node, a stray `end`."""
    good = 'flowchart LR\n  a["A"]\n  b["B"]\n  a --x|"no route"| b\n  linkStyle 0 stroke:#c00\n'
    strict_parse(good)
    for bad in (
        good.replace('"no route"', '"no "route""'),
        good.replace("a --x", "c --x"),
        good + "  end\n",
        good.replace("linkStyle 0", "linkStyle 1"),
        good.replace('a["A"]', 'end["A"]'),
    ):
        with pytest.raises(AssertionError):
            strict_parse(bad)


@given(st.text(min_size=0, max_size=200))
def test_any_text_becomes_a_label_the_grammar_accepts(text: str) -> None:
    assert re.fullmatch(LABEL, label(text)), label(text)


@pytest.mark.parametrize(
    ("scenario", "blocked", "labelled"),
    [
        # No NAT, no endpoints: each service's way out is missing, blocked by the route table.
        ("scram-no-nat", {"none_lambda", "none_sts", "none_secretsmanager"}, "no 0.0.0.0/0 route"),
        # Endpoints exist but their group admits nothing: the edges to both endpoints are cut.
        ("endpoint-sg-blocks", {"vpce_lambda", "vpce_sts"}, "no ingress rule allows tcp/443"),
        # The cluster's group does not admit itself on the broker port.
        ("msk-iam-no-self-ingress", {"brokers_9098"}, "no ingress rule allows tcp/9098"),
    ],
)
def test_diagnose_markdown_draws_each_blocked_edge_with_its_cause(
    sandbox: Sandbox, cli: CliRunner, scenario: str, blocked: set[str], labelled: str
) -> None:
    sc = build_scenario(sandbox, scenario)
    result = cli("diagnose", "--esm", sc.esm_uuid, "--output", "markdown")
    assert result.returncode == 0, result.stderr
    source = mermaid_block(result.stdout)
    parsed = strict_parse(source)
    cut = {b for _, b, text in parsed["edges"] if text}
    assert cut == blocked
    assert all(labelled in text for _, b, text in parsed["edges"] if text)
    assert len(parsed["styled"]) == sum(1 for e in parsed["edges"] if e[2])  # every cut edge is red
    # What follows the picture: the findings, then the plan and (if any) manual steps.
    after = result.stdout.split("```mermaid", 1)[1]
    assert after.index("## Findings") < after.index("## Plan")
    if real_parser():
        assert mermaid_parse(source) == {"ok": True, "type": "flowchart-v2"}


def test_plan_markdown_is_the_same_report(sandbox: Sandbox, cli: CliRunner) -> None:
    sc = build_scenario(sandbox, "scram-no-nat")
    diagnosed = cli("diagnose", "--esm", sc.esm_uuid, "--output", "markdown")
    planned = cli("plan", "--esm", sc.esm_uuid, "--output", "markdown")
    assert planned.returncode == 0, planned.stderr
    assert mermaid_block(planned.stdout) == mermaid_block(diagnosed.stdout)
    assert "**Plan: 4 to add, 0 to change, 0 to destroy.**" in planned.stdout
    assert "create_vpc_endpoint" in planned.stdout


@pytest.mark.skipif(
    not real_parser(), reason="Node.js or tests/mermaid/node_modules absent (make test installs them)"
)
def test_mermaid_itself_rejects_a_broken_picture() -> None:
    """The real parser is a real check: the same input with one edge broken fails."""
    good = 'flowchart LR\n  a["A"]\n  b["B"]\n  a --x|"no route"| b\n'
    assert mermaid_parse(good)["ok"] is True
    assert mermaid_parse(good.replace("a --x", "a --x |"))["ok"] is False


@pytest.mark.parametrize("document", ["README.md", "docs/report-example.md"])
def test_the_documented_report_is_valid_mermaid(document: str) -> None:
    """The README shows a real report: its picture must stay valid Mermaid as the renderer changes."""
    text = (Path(__file__).parent.parent / document).read_text()
    source = mermaid_block(text)
    parsed = strict_parse(source)
    assert {b for _, b, cut in parsed["edges"] if cut} == {"none_lambda", "none_sts", "none_secretsmanager"}
    if real_parser():
        assert mermaid_parse(source) == {"ok": True, "type": "flowchart-v2"}


@pytest.mark.parametrize(
    "scenario",
    [
        "healthy-msk",  # nothing blocked: every edge open
        "self-managed-healthy",  # pollers on the internet: no subnets
        "egress-via-transit-gateway",  # a way out the tool cannot see past
        "destination-sqs-no-endpoint",  # a fourth service, the destination
        "vpc-dns-hostnames-off",  # two findings on the same edges
        "self-managed-vpc-no-broker-egress",  # egress rules, not ingress
    ],
)
def test_every_picture_is_valid_mermaid(sandbox: Sandbox, cli: CliRunner, scenario: str) -> None:
    sc = build_scenario(sandbox, scenario)
    result = cli("diagnose", "--esm", sc.esm_uuid, "--output", "markdown")
    assert result.returncode == 0, result.stderr
    source = mermaid_block(result.stdout)
    parsed = strict_parse(source)
    assert parsed["edges"]
    if scenario.endswith("healthy") or scenario == "healthy-msk":
        assert not any(cut for _, _, cut in parsed["edges"])
    if real_parser():
        assert mermaid_parse(source) == {"ok": True, "type": "flowchart-v2"}
