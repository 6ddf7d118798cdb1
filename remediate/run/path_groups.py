"""Checked network paths grouped by cause: one group per thing that blocks (or "allowed"), listing the
subnets and targets it affects. Pure: evidence in, groups out.

A VPC without endpoints blocks nine paths (three subnets, three services) for one reason; a person
wants that reason once, with what it affects. Every renderer (text, Markdown, HTML, the Mermaid
picture) groups through here, so they agree. A block's detail that names the path's own service
("no lambda endpoint in vpc-1") or its source subnet's range ("no ingress rule allows tcp/443 from
10.0.1.0/24") is written with `<service>` or `<subnet CIDR>` in its place, so the same cause for
several services or subnets is one group.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from remediate import measured
from remediate.evidence import Evidence, PathCheck

ALLOWED = "allowed"
SERVICE = "<service>"
SUBNET = "<subnet CIDR>"


@dataclass(frozen=True)
class CauseGroup:
    """One cause (or `ALLOWED`) and the (target, subnet) cells it covers, in first-seen order."""

    cause: str
    cells: tuple[tuple[str, str], ...]

    @property
    def blocked(self) -> bool:
        return self.cause != ALLOWED

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for t, _ in self.cells))

    @property
    def subnets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for _, s in self.cells))

    @property
    def full(self) -> bool:
        """Every target from every subnet: the group reads as one line, no matrix needed."""
        return len(set(self.cells)) == len(self.targets) * len(self.subnets)


def target_text(path: PathCheck) -> str:
    return f"{path.target} tcp/{path.port}"


def cause_of(path: PathCheck) -> str:
    """What blocks `path`, all its blocks in order, with its own service's name made generic."""
    if not path.blocks:
        return ALLOWED
    parts = []
    for b in path.blocks:
        detail = b.detail
        if path.service:
            detail = re.sub(rf"\b{re.escape(path.service)}\b", SERVICE, detail)
        if path.source_cidr:
            detail = re.sub(rf"(?<![\w./]){re.escape(path.source_cidr)}(?![\w/])", SUBNET, detail)
        parts.append(f"{b.element} {b.resource}: {detail}")
    return "; ".join(parts)


def group(paths: Iterable[PathCheck]) -> list[CauseGroup]:
    """Blocked causes first (in the order first seen), then the allowed paths."""
    cells: dict[str, list[tuple[str, str]]] = {}
    for path in paths:
        cells.setdefault(cause_of(path), []).append((target_text(path), path.source_subnet))
    groups = [CauseGroup(cause, tuple(c)) for cause, c in cells.items()]
    return [g for g in groups if g.blocked] + [g for g in groups if not g.blocked]


def checked_of(evidence: Evidence | None) -> tuple[PathCheck, ...]:
    return tuple(getattr(evidence, "checked", ()) or ())


def notes_of(evidence: Evidence | None) -> tuple[str, ...]:
    """The lines of `paths` that are not paths (they follow the checked paths' lines, in order);
    all of them when the evidence predates `checked` (an older plan file)."""
    lines: Sequence[str] = getattr(evidence, "paths", ()) or ()
    probe = measured.evidence_line(evidence)  # issue 22: the "measured" source, in every renderer
    return (*lines[len(checked_of(evidence)) :], *([probe] if probe else []))


def matrix(g: CauseGroup, mark: str = "x", empty: str = ".") -> list[list[str]]:
    """The group as rows: a header (``, subnets...), then one row per target with a mark per cell."""
    have = set(g.cells)
    rows = [["", *g.subnets]]
    rows += [[t, *(mark if (t, s) in have else empty for s in g.subnets)] for t in g.targets]
    return rows


def one_line(g: CauseGroup) -> str:
    """`CAUSE: TARGETS from SUBNETS` for a full group (targets sharing a port share its `tcp/N`)."""
    return f"{g.cause}: {_targets(g.targets)} from {', '.join(g.subnets)}"


def _targets(targets: Sequence[str]) -> str:
    ports = {t.rsplit(" ", 1)[-1] for t in targets}
    if len(ports) == 1 and len(targets) > 1:
        return ", ".join(t.rsplit(" ", 1)[0] for t in targets) + " " + ports.pop()
    return ", ".join(targets)
