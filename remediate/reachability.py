"""A small static reachability analyzer over `Network` facts: security groups, NACLs and routes.

Like AWS's Reachability Analyzer, but pure and offline: given a source (the event source's ENI in one
subnet, with its security groups) and a destination (brokers, or a VPC endpoint's ENIs) it says
whether TCP to one port is allowed, and if not, which element blocks it. It evaluates what the
traffic crosses in order: the source groups' egress, the source subnet's NACL outbound, the
destination subnet's NACL inbound, the destination groups' ingress, and the return traffic on the
ephemeral ports through both NACLs (NACLs are stateless; security groups are not). Traffic within
one subnet crosses no NACL. Every block is collected rather than only the first, so one plan can fix
all of them.

A destination whose address is not known (a self-managed broker given by host name) is assumed to
be in the VPC, and the line says so.

Each CIDR string is parsed once (a bounded cache shared by every mapping of a scan) and paths are
evaluated on the parsed networks; a network's groups are found through its index, not by scanning.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from remediate.facts import Nacl, NaclEntry, Network, Route, RouteTable, SgRule

EPHEMERAL: tuple[int, int] = (1024, 65535)
"""The client ports return traffic goes back to; a NACL must allow the whole range."""

Direction = Literal["ingress", "egress"]


@dataclass(frozen=True)
class Peer:
    """One end of a path: what it is, where it is (CIDR, subnet) and which groups it carries."""

    label: str
    cidr: str
    subnet_id: str | None = None
    group_ids: tuple[str, ...] = ()
    assumed: bool = False  # the address is a guess (a broker host name that was not resolved)


@dataclass(frozen=True)
class Block:
    """One element on a path that drops the traffic, with what a fix needs to know about it."""

    element: Literal["SG", "NACL", "route", "DNS"]
    resource: str
    detail: str
    direction: Direction | None = None
    rule_number: int | None = None  # the NACL rule that denies (None: the implicit final deny)
    ports: tuple[int, int] | None = None
    cidr: str | None = None


@dataclass(frozen=True)
class PathResult:
    source: Peer
    dest: Peer
    port: int
    blocks: tuple[Block, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.blocks

    def line(self) -> str:
        """One line for the finding's evidence, e.g. `ENI subnet-a -> brokers tcp/9098: blocked by SG ...`."""
        head = f"{self.source.label} -> {self.dest.label} tcp/{self.port}"
        if self.allowed:
            note = f" (assuming {self.dest.cidr})" if self.dest.assumed else ""
            return f"{head}: allowed{note}"
        return f"{head}: blocked by " + "; ".join(
            f"{b.element} {b.resource}: {b.detail}" for b in self.blocks
        )


@lru_cache(maxsize=8192)
def _net(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The parsed network of a CIDR, parsed once: a scan asks about the same few CIDRs many times."""
    return ipaddress.ip_network(cidr, strict=False)


def cidr_contains(outer: str, inner: str) -> bool:
    """True when every address of `inner` is in `outer` (False across IP versions)."""
    a, b = _net(outer), _net(inner)
    return (
        a.version == b.version
        and a.network_address <= b.network_address  # type: ignore[operator]
        and b.broadcast_address <= a.broadcast_address  # type: ignore[operator]
    )


def rule_allows(rule: SgRule, port: int, peer: Peer) -> bool:
    """A security-group rule lets tcp/`port` through to or from `peer` (its groups or its whole CIDR)."""
    if not rule.covers_port(port):
        return False
    if rule.group_id is not None:
        return rule.group_id in peer.group_ids
    if rule.cidr is not None:
        return cidr_contains(rule.cidr, peer.cidr)
    return False  # prefix lists name AWS service ranges, never an address inside the VPC


def groups_allow(
    net: Network, group_ids: tuple[str, ...], direction: Direction, port: int, peer: Peer
) -> bool:
    """Security groups are a union: any rule of any of the ENI's groups is enough."""
    for gid in group_ids:
        group = net.group(gid)
        if group is None:
            continue
        rules = group.ingress if direction == "ingress" else group.egress
        if any(rule_allows(r, port, peer) for r in rules):
            return True
    return False


def route_table_of(net: Network, subnet_id: str) -> RouteTable | None:
    """The subnet's explicitly associated route table, else the VPC's main table."""
    explicit = next((t for t in net.route_tables if subnet_id in t.subnet_ids), None)
    return explicit or next((t for t in net.route_tables if t.main), None)


def nat_route(net: Network, subnet_id: str) -> Route | None:
    """The subnet's active default route to a NAT gateway that is itself available, if any."""
    table = route_table_of(net, subnet_id)
    if table is None:
        return None
    available = {n.id for n in net.nat_gateways if n.state == "available"}
    for route in table.routes:
        if route.destination == "0.0.0.0/0" and route.state == "active" and route.target in available:
            return route
    return None


def nacl_of(net: Network, subnet_id: str) -> Nacl | None:
    return next((n for n in net.nacls if subnet_id in n.subnet_ids), None)


def _entry_matches(entry: NaclEntry, cidr: str) -> bool:
    # An entry applies when the peer's whole range is inside it; a partial overlap is treated as a
    # non-match, so a narrow allow never hides a broad deny.
    return cidr_contains(entry.cidr, cidr)


def nacl_denial(nacl: Nacl, egress: bool, ports: tuple[int, int], cidr: str) -> Block | None:
    """Walk the NACL's rules in number order over `ports`: the first rule that denies any of them.

    Rules are evaluated per port, so this keeps the still-undecided port intervals: an allow removes
    what it covers, a deny over any undecided port blocks, and ports left over hit the implicit deny.
    """
    remaining = [ports]
    direction: Direction = "egress" if egress else "ingress"
    for entry in nacl.ordered(egress=egress):
        if not remaining:
            return None
        if entry.protocol not in ("-1", "6", "tcp") or not _entry_matches(entry, cidr):
            continue
        lo = entry.from_port if entry.from_port is not None and entry.protocol != "-1" else 0
        hi = entry.to_port if entry.to_port is not None and entry.protocol != "-1" else 65535
        hit = [(max(a, lo), min(b, hi)) for a, b in remaining if max(a, lo) <= min(b, hi)]
        if not hit:
            continue
        if not entry.allow:
            number = None if entry.rule_number >= 32767 else entry.rule_number
            return Block(
                "NACL",
                nacl.id,
                f"{'outbound' if egress else 'inbound'} rule {number or '*'} denies tcp/{_ports(hit[0])} "
                f"{'to' if egress else 'from'} {cidr}",
                direction,
                number,
                hit[0],
                cidr,
            )
        remaining = [part for a, b in remaining for part in _minus((a, b), (lo, hi))]
    if not remaining:
        return None
    return Block(
        "NACL",
        nacl.id,
        f"no {'outbound' if egress else 'inbound'} rule allows tcp/{_ports(remaining[0])} "
        f"{'to' if egress else 'from'} {cidr}",
        direction,
        None,
        remaining[0],
        cidr,
    )


def _ports(span: tuple[int, int]) -> str:
    return str(span[0]) if span[0] == span[1] else f"{span[0]}-{span[1]}"


def _minus(span: tuple[int, int], cut: tuple[int, int]) -> list[tuple[int, int]]:
    (a, b), (lo, hi) = span, cut
    out = []
    if a < lo:
        out.append((a, min(b, lo - 1)))
    if b > hi:
        out.append((max(a, hi + 1), b))
    return out


def evaluate(net: Network, source: Peer, dest: Peer, port: int, *, dest_ingress: bool = True) -> PathResult:
    """Every block on tcp/`port` from `source` to `dest` and back. `dest_ingress=False` skips the
    destination's security groups when they are not known (a self-managed broker).

    Evaluated once per network and path (issue 26): a scan's mappings of one cluster share one network
    (`Network`, immutable) and check the same paths, which took an eighth of a 5,000-mapping scan's CPU
    evaluated per mapping. The memo is kept with the network's security groups and each answer with the
    NACLs it was evaluated against (all a path depends on), so a copy with other rules (`model_copy`
    copies what a network remembers) evaluates afresh. Nothing kept refers back to the network, which
    pydantic's `==` would otherwise follow without end."""
    memo: dict[tuple[Peer, Peer, int, bool], tuple[Any, PathResult]] = net._index(
        "paths", net.security_groups, lambda _: {}
    )
    key = (source, dest, port, dest_ingress)
    known = memo.get(key)
    if known is not None and known[0] is net.nacls:
        return known[1]
    result = _evaluate(net, source, dest, port, dest_ingress)
    memo[key] = (net.nacls, result)
    return result


def _evaluate(net: Network, source: Peer, dest: Peer, port: int, dest_ingress: bool) -> PathResult:
    blocks: list[Block] = []
    if not groups_allow(net, source.group_ids, "egress", port, dest):
        blocks.append(
            Block(
                "SG",
                ", ".join(source.group_ids) or "(none)",
                f"no egress rule allows tcp/{port} to {_peer_text(dest)}",
                "egress",
                ports=(port, port),
            )
        )
    crosses = source.subnet_id != dest.subnet_id
    src_nacl = nacl_of(net, source.subnet_id) if source.subnet_id and crosses else None
    dst_nacl = nacl_of(net, dest.subnet_id) if dest.subnet_id and crosses else None
    steps = (
        (src_nacl, True, (port, port), dest.cidr),
        (dst_nacl, False, (port, port), source.cidr),
        (dst_nacl, True, EPHEMERAL, source.cidr),
        (src_nacl, False, EPHEMERAL, dest.cidr),
    )
    for nacl, egress, ports, cidr in steps:
        if nacl is not None:
            denial = nacl_denial(nacl, egress, ports, cidr)
            if denial is not None:
                blocks.append(denial)
    if dest_ingress and not groups_allow(net, dest.group_ids, "ingress", port, source):
        blocks.append(
            Block(
                "SG",
                ", ".join(dest.group_ids) or "(none)",
                f"no ingress rule allows tcp/{port} from {_peer_text(source)}",
                "ingress",
                ports=(port, port),
            )
        )
    return PathResult(source, dest, port, tuple(blocks))


def _peer_text(peer: Peer) -> str:
    groups = f" ({', '.join(peer.group_ids)})" if peer.group_ids else ""
    return f"{peer.cidr}{groups}"
