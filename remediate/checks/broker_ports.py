"""Whether security groups and NACLs let the pollers reach the brokers, and 443 out through a NAT.

The finding describes every path it checked (one line each, for people) and the blocked ones with
what blocks them (for the security-group actions, which plan the rules, and for the manual steps).
"""

from __future__ import annotations

from remediate import kafka, poller_paths
from remediate.checks.base import check
from remediate.evidence import BrokerPortsBlocked
from remediate.facts import Facts
from remediate.findings import Finding


@check("broker_ports", "BROKER_PORTS_BLOCKED")
def broker_ports_blocked(facts: Facts) -> list[Finding]:
    """Security groups or NACLs block the broker port, or 443 egress to AWS services through a NAT."""
    net = facts.network
    if net is None or net.placement == "internet" or not net.subnets:
        return []
    brokers = poller_paths.broker_paths(facts, net)
    # 443 out matters only where the pollers call AWS services from the VPC (on-demand mode).
    nat = poller_paths.nat_paths(net) if poller_paths.reaches_services_from_vpc(facts) else []
    blocked = [r for r in (*brokers, *nat) if not r.allowed]
    if not blocked:
        return []
    ports = kafka.broker_ports(facts.esm, facts.cluster)
    v6 = kafka.ipv6_port(facts.esm, facts.cluster)
    note = (
        (
            f"dual-stack cluster: its IPv6 listener is tcp/{v6}; Lambda's documented brokers are the IPv4 "
            f"listener's, so tcp/{v6} is not checked",
        )
        if v6
        else ()
    )
    return [
        Finding(
            code="BROKER_PORTS_BLOCKED",
            summary=f"{len(blocked)} of {len(brokers) + len(nat)} network paths of the ESM are blocked "
            f"(broker port {'/'.join(map(str, ports))}{', 443 through NAT' if nat else ''})",
            evidence=BrokerPortsBlocked(
                placement=net.placement,
                ports=ports,
                paths=(*(r.line() for r in (*brokers, *nat)), *note),
                blocked=(*poller_paths.blocked(brokers, "brokers"), *poller_paths.blocked(nat, "nat")),
                checked=(*poller_paths.checked(brokers, "brokers"), *poller_paths.checked(nat, "nat")),
            ),
        )
    ]
