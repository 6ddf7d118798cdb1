"""The mapping's network path as a Mermaid flowchart. Pure: `Facts` and findings in, Mermaid text out.

The picture follows the pollers' traffic: the pollers' ENIs (one node per subnet, inside a box naming
their security groups) -> the brokers, one node per port -> the way out (a VPC endpoint per service,
a NAT gateway, or nothing) -> Lambda, STS, Secrets Manager and the destination. What the checks found
blocked is drawn as a crossed, red edge labelled with its cause (`path_groups.cause_of`); everything
else as a plain arrow. When every subnet has the same outcome to a target, one edge leaves the
pollers' box instead of one per subnet, the picture's form of grouping by cause.

Only a small subset of Mermaid's flowchart syntax is written (see `tests/test_report_mermaid.py`,
which holds it to a strict grammar of that subset and, where Node.js and the `mermaid` package are
installed, to Mermaid's own parser): `flowchart LR`, `subgraph ID["..."]`/`end`, nodes `ID["..."]`,
edges `-->`, `-.->` and `--x` with `|"..."|` labels, `classDef`, `class` and `linkStyle`. Labels are
quoted and carry no `"`, `<`, `>`, `|` or newline: those are written as Mermaid's `#quot;`-style
entity codes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from remediate import kafka, poller_paths
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.run import path_groups

SERVICE_TITLES = {
    "lambda": "Lambda",
    "sts": "STS",
    "secretsmanager": "Secrets Manager",
    "sqs": "SQS destination",
    "sns": "SNS destination",
    "s3": "S3 destination",
}
_ENTITIES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "|": "#124;", "#": "#35;"}
MAX_LABEL = 110


def label(text: str) -> str:
    """A quoted Mermaid label: entity codes for the characters the syntax reserves, one line."""
    text = " ".join(text.split())
    if len(text) > MAX_LABEL:
        text = text[: MAX_LABEL - 1] + "…"
    return '"' + "".join(_ENTITIES.get(c, c) for c in text) + '"'


def node_id(*parts: str) -> str:
    return "_".join(re.sub(r"[^A-Za-z0-9]", "", p) for p in parts if p) or "n"


@dataclass
class Picture:
    """The flowchart as it is built: nodes, edges (with their cause, None when open) and classes."""

    lines: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    """Node id -> its text (the pollers' box included), for renderers that draw it another way."""
    links: list[tuple[str, str, str | None]] = field(default_factory=list)
    """(from, to, cause): cause None for an open edge."""
    classes: dict[str, list[str]] = field(default_factory=dict)

    def node(self, ident: str, text: str, css: str | None = None, indent: str = "  ") -> str:
        if ident not in self.names:
            self.names[ident] = text
            self.lines.append(f"{indent}{ident}[{label(text)}]")
            if css:
                self.classes.setdefault(css, []).append(ident)
        return ident

    def edge(self, a: str, b: str, cause: str | None = None, dotted: bool = False) -> None:
        if cause:
            self.lines.append(f"  {a} --x|{label(cause)}| {b}")
        else:
            self.lines.append(f"  {a} {'-.->' if dotted else '-->'} {b}")
        self.links.append((a, b, cause))

    def text(self) -> str:
        out = ["flowchart LR", *self.lines]
        out += [
            "  classDef blocked fill:#fde2e1,stroke:#c0392b,color:#000",
            "  classDef missing fill:#fff,stroke:#c0392b,stroke-dasharray:4 3,color:#000",
            "  classDef ok fill:#e8f5e9,stroke:#2e7d32,color:#000",
            "  classDef aws fill:#fff3e0,stroke:#ef6c00,color:#000",
        ]
        out += [f"  class {','.join(ids)} {css}" for css, ids in sorted(self.classes.items())]
        red = [str(i) for i, (_, _, cause) in enumerate(self.links) if cause]
        if red:
            out.append(f"  linkStyle {','.join(red)} stroke:#c0392b,stroke-width:2px,color:#c0392b")
        return "\n".join(out) + "\n"


def _causes(findings: Sequence[Finding]) -> dict[tuple[str, str, str], list[str]]:
    """(to, port-or-service, subnet) -> the causes that block it, from every network finding."""
    out: dict[tuple[str, str, str], list[str]] = {}
    for f in findings:
        for p in path_groups.checked_of(f.evidence):
            if not p.blocks:
                continue
            what = p.service or "" if p.to == "service" else str(p.port) if p.to == "brokers" else "nat"
            causes = out.setdefault((p.to, what, p.source_subnet), [])
            cause = path_groups.cause_of(p).replace(path_groups.SERVICE, p.service or "the service")
            if cause not in causes:
                causes.append(cause)
    return out


def flowchart(facts: Facts, findings: Sequence[Finding]) -> str:
    """The Mermaid source of the mapping's network path, blocked edges marked with their cause."""
    return picture(facts, findings).text()


def picture(facts: Facts, findings: Sequence[Finding]) -> Picture:
    """The mapping's network path: the pollers, the brokers per port, the ways out and the services."""
    pic = Picture()
    net = facts.network
    subnets = [s.id for s in sorted(net.subnets, key=lambda s: (s.availability_zone, s.id))] if net else []
    groups = ", ".join(net.source_security_group_ids) if net else ""
    where = {
        "cluster": "cluster subnets",
        "source-access": "VPC_SUBNET source access",
        "internet": "Lambda's network (internet)",
    }
    place = where[net.placement] if net else "Lambda's network"
    box = "pollers"
    pic.names[box] = f"ESM pollers: {place}" + (f" ({groups})" if groups else "")
    pic.lines.append(f"  subgraph {box}[{label(pic.names[box])}]")
    for sid in subnets:
        pic.node(node_id("s", sid), sid, indent="    ")
    if not subnets:
        pic.node("eni", f"ESM {facts.esm.uuid}", indent="    ")
    pic.lines.append("  end")
    causes = _causes(findings)

    def connect(to: str, what: str, target: str, sources: Sequence[str] | None = None) -> None:
        """Edges from the pollers to `target`: one from the box when every subnet agrees."""
        froms = list(sources if sources is not None else subnets)
        verdicts = {s: " / ".join(causes.get((to, what, s), [])) or None for s in froms}
        if not froms or (len(set(verdicts.values())) == 1 and len(froms) == len(subnets)):
            pic.edge(box, target, next(iter(verdicts.values()), None))
            return
        for s in froms:
            pic.edge(node_id("s", s), target, verdicts[s])

    for port in kafka.broker_ports(facts.esm, facts.cluster):
        blocked = any(k[0] == "brokers" and k[1] == str(port) for k in causes)
        target = pic.node(
            node_id("brokers", str(port)), f"brokers tcp/{port}", "blocked" if blocked else "ok"
        )
        connect("brokers", str(port), target)
    if net is None or not poller_paths.reaches_services_from_vpc(facts):
        return pic
    ways = poller_paths.egress(net)
    nat_subnets = [s for s in subnets if ways[s].kind != "none"]
    nat_id = None
    if nat_subnets:
        kinds = {ways[s].target or ways[s].detail for s in nat_subnets}
        nat_blocked = any(k[0] == "nat" for k in causes)
        nat_id = pic.node("nat", "way out: " + ", ".join(sorted(kinds)), "blocked" if nat_blocked else "ok")
        connect("nat", "nat", nat_id, nat_subnets)
    for service in poller_paths.required_services(facts):
        svc = pic.node(node_id("aws", service), SERVICE_TITLES.get(service, service), "aws")
        endpoint = poller_paths.live_endpoint(facts, net, service)
        blocked = any(k[0] == "service" and k[1] == service for k in causes)
        if endpoint is not None:
            via = pic.node(
                node_id("vpce", service),
                f"{service} endpoint {endpoint.id}",
                "blocked" if blocked else "ok",
            )
            connect("service", service, via)
            pic.edge(via, svc)
            continue
        if nat_id is not None:
            pic.edge(nat_id, svc)
        alone = [s for s in subnets if ways[s].kind == "none"]
        if alone:
            gap = pic.node(node_id("none", service), f"no {service} endpoint", "missing")
            connect("service", service, gap, alone)
            pic.edge(gap, svc, dotted=True)
    return pic
