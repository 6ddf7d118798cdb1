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
    nat = [] if facts.esm.provisioned_pollers else poller_paths.nat_paths(net)
    blocked = [r for r in (*brokers, *nat) if not r.allowed]
    if not blocked:
        return []
    ports = kafka.broker_ports(facts.esm, facts.cluster)
    return [
        Finding(
            code="BROKER_PORTS_BLOCKED",
            summary=f"{len(blocked)} of {len(brokers) + len(nat)} network paths of the ESM are blocked "
            f"(broker port {'/'.join(map(str, ports))}{', 443 through NAT' if nat else ''})",
            evidence=BrokerPortsBlocked(
                placement=net.placement,
                ports=ports,
                paths=tuple(r.line() for r in (*brokers, *nat)),
                blocked=(*poller_paths.blocked(brokers, "brokers"), *poller_paths.blocked(nat, "nat")),
            ),
        )
    ]
