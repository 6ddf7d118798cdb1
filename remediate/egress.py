"""How traffic leaves a subnet for AWS's public service endpoints, read from its default route the way
AWS documents each kind of target. Pure: `Network` in, one `Egress` per subnet out.

Three answers, because only one of them lets the tool conclude anything:

- `nat`: an active 0.0.0.0/0 route to an available *public* NAT gateway whose own subnet routes
  0.0.0.0/0 to an internet gateway. Amazon VPC user guide, "NAT gateways", Connectivity type: "You
  create a public NAT gateway in a public subnet ... You route traffic from the NAT gateway to the
  internet gateway for the VPC."
  (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html)
- `none`: no default route, a blackhole one (its target is gone: EC2 API reference, Route, `State`),
  a route to the VPC's internet gateway itself (the pollers' network interfaces have private
  addresses only: Lambda developer guide, "Giving Lambda functions access to resources in an Amazon
  VPC": "Connecting a function to a public subnet doesn't give it internet access or a public IP
  address"; https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html), a private NAT
  gateway (same NAT page: "if you route traffic from the private NAT gateway to the internet
  gateway, the internet gateway drops the traffic"), or a public NAT gateway whose subnet has no way
  out.
- `appliance`: a transit gateway, a Gateway Load Balancer or Network Firewall endpoint (a `vpce-`
  target), a network interface or instance (a firewall or NAT instance), a peering connection, a
  virtual private gateway, a Cloud WAN core network. Where those lead is outside the VPC's own
  description, so the tool cannot verify the path: it says so (COULD_NOT_CHECK) and plans no
  endpoints on a guess.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

from remediate.facts import NatGateway, Network, Route
from remediate.reachability import route_table_of

DEFAULT_ROUTE = "0.0.0.0/0"
APPLIANCES: dict[str, str] = {
    "tgw-": "transit gateway",
    "vpce-": "Gateway Load Balancer or firewall endpoint",
    "eni-": "network interface (an appliance)",
    "i-": "instance (an appliance or NAT instance)",
    "pcx-": "VPC peering connection",
    "vgw-": "virtual private gateway",
    "lgw-": "local gateway",
    "cagw-": "carrier gateway",
    "arn:": "Cloud WAN core network",
}
"""Route targets past which the path to AWS's endpoints cannot be seen from this VPC."""

Kind = Literal["nat", "appliance", "none"]


@dataclass(frozen=True)
class Egress:
    kind: Kind
    detail: str
    route_table: str | None = None
    target: str | None = None


def default_route(net: Network, subnet_id: str) -> tuple[str | None, Route | None]:
    """(route table id, its IPv4 default route) for the subnet's explicit or main table."""
    table = route_table_of(net, subnet_id)
    if table is None:
        return None, None
    return table.id, next((r for r in table.routes if r.destination == DEFAULT_ROUTE), None)


def appliance(target: str) -> str | None:
    return next((kind for prefix, kind in APPLIANCES.items() if target.startswith(prefix)), None)


def egress_of(net: Network, subnet_id: str) -> Egress:
    """The way out of one subnet of the pollers, by its default route (see the module docstring), unless a
    more specific route to public addresses may take the service's traffic elsewhere (issue 24, item 6)."""
    subnet = net.subnet(subnet_id)
    if subnet is not None and not subnet.cidr:
        return Egress("appliance", f"{subnet_id} is IPv6-only: its way to AWS's endpoints is not modelled")
    table, route = default_route(net, subnet_id)
    way = _by_default_route(net, table, route)
    specific = public_routes(net, table)
    if route is None and specific:
        covered = _split_default(net, table, specific)
        if covered is not None:
            return covered
    other = next((r for r in specific if route is None or r.target != route.target), None)
    if other is None:
        return way
    return Egress(
        "appliance",
        f"{way.detail}; but the more specific route {other.destination} goes to {other.target}, and whether "
        "the service's addresses are in it is not known",
        table,
        other.target,
    )


def public_routes(net: Network, table_id: str | None) -> list[Route]:
    """Active routes other than 0.0.0.0/0 to public addresses or a prefix list (issue 24, item 6).

    "In general, we direct traffic using the most specific route that matches the traffic. This is known as
    the longest prefix match" (Amazon VPC user guide, "How route priority works",
    https://docs.aws.amazon.com/vpc/latest/userguide/route-tables-priority.html), so such a route, not the
    default one, may carry the calls to AWS's public endpoints.
    Left out: `local`, private ranges (RFC 1918 and shared space: AWS's public endpoints are never there,
    issue 24 N10 treats centralised endpoints), IPv6, and a gateway endpoint's prefix-list route, which
    carries only its own service (S3, DynamoDB)."""
    table = next((t for t in net.route_tables if t.id == table_id), None)
    if table is None:
        return []
    gateways = {e.id for e in net.endpoints if e.type.lower() == "gateway"}
    out = []
    for r in table.routes:
        if r.destination == DEFAULT_ROUTE or r.state != "active" or r.target == "local":
            continue
        if r.destination.startswith("pl-"):
            if r.target.startswith("vpce-") or r.target in gateways:
                continue
        elif ":" in r.destination or not ipaddress.ip_network(r.destination, strict=False).is_global:
            continue
        out.append(r)
    return out


def _split_default(net: Network, table: str | None, routes: list[Route]) -> Egress | None:
    """Routes through public NAT gateways that together cover every IPv4 address (0.0.0.0/1 and 128.0.0.0/1,
    as VPN setups write the default route) are a way out like 0.0.0.0/0."""
    nats = [r for r in routes if not r.destination.startswith("pl-") and r.target.startswith("nat-")]
    ways = [_through_nat(net, r.target, table) for r in nats]
    if not nats or any(w.kind != "nat" for w in ways):
        return None
    nets = ipaddress.collapse_addresses(ipaddress.IPv4Network(r.destination) for r in nats)
    if [str(n) for n in nets] != [DEFAULT_ROUTE]:
        return None
    return Egress(
        "nat", f"{', '.join(r.destination for r in nats)} through {ways[0].detail}", table, nats[0].target
    )


def _by_default_route(net: Network, table: str | None, route: Route | None) -> Egress:
    if route is None:
        return Egress("none", f"no {DEFAULT_ROUTE} route", table)
    if route.state != "active":
        return Egress(
            "none", f"the {DEFAULT_ROUTE} route to {route.target} is {route.state}", table, route.target
        )
    target = route.target
    if target.startswith("nat-"):
        return _through_nat(net, target, table)
    if target.startswith("igw-"):
        return Egress(
            "none",
            f"{DEFAULT_ROUTE} goes to {target}, but the pollers' interfaces have no public IP",
            table,
            target,
        )
    kind = appliance(target)
    if kind is not None:
        return Egress("appliance", f"{DEFAULT_ROUTE} goes to {kind} {target}", table, target)
    return Egress(
        "appliance", f"{DEFAULT_ROUTE} goes to {target}, which remediate does not model", table, target
    )


def _through_nat(net: Network, nat_id: str, table: str | None) -> Egress:
    nat = next((n for n in net.nat_gateways if n.id == nat_id), None)
    if nat is None or nat.state != "available":
        state = nat.state if nat else "not found"
        return Egress("none", f"NAT gateway {nat_id} is {state}", table, nat_id)
    if nat.connectivity_type == "private":
        return Egress("none", f"NAT gateway {nat_id} is private: it has no internet path", table, nat_id)
    if nat.availability_mode == "regional":
        return _through_regional_nat(net, nat, table)
    _, out = default_route(net, nat.subnet_id)
    if out is None or out.state != "active":
        return Egress(
            "none",
            f"NAT gateway {nat_id}'s subnet {nat.subnet_id} has no active {DEFAULT_ROUTE} route",
            table,
            nat_id,
        )
    if out.target.startswith("igw-"):
        return Egress("nat", f"NAT gateway {nat_id}, then {out.target}", table, nat_id)
    kind = appliance(out.target) or out.target
    return Egress(
        "appliance",
        f"NAT gateway {nat_id}'s subnet {nat.subnet_id} sends {DEFAULT_ROUTE} to {kind} {out.target}",
        table,
        nat_id,
    )


def _through_regional_nat(net: Network, nat: NatGateway, table: str | None) -> Egress:
    """A public regional NAT gateway (issue 24, N4): no subnet of its own ("with a regional NAT Gateway, you
    don't need to create a public subnet to host it", Amazon VPC user guide, "Regional NAT gateways for
    automatic multi-AZ expansion", https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateways-regional.html);
    it goes out through its own route table (NatGateway `RouteTableId`, "For regional NAT gateways only").
    A default route there to an internet gateway is a way out; anything else, or a table not read, cannot be
    followed (never "no way out", which would plan endpoints the VPC does not need)."""
    own = next((t for t in net.route_tables if t.id == nat.route_table_id), None)
    out = next((r for r in own.routes if r.destination == DEFAULT_ROUTE), None) if own else None
    if out is not None and out.state == "active" and out.target.startswith("igw-"):
        return Egress("nat", f"regional NAT gateway {nat.id}, then {out.target}", table, nat.id)
    why = (
        f"its route table {nat.route_table_id} was not read"
        if own is None
        else f"its route table {own.id} sends {DEFAULT_ROUTE} to {out.target if out else 'nothing'}"
    )
    return Egress("appliance", f"regional NAT gateway {nat.id}: {why}", table, nat.id)
