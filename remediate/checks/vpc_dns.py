"""Whether private-DNS endpoints resolve: the VPC needs both DNS support and DNS hostnames on.

Amazon VPC user guide, "DNS attributes for your VPC": private DNS names of interface endpoints need
enableDnsSupport and enableDnsHostnames.
"""

from __future__ import annotations

from remediate import poller_paths
from remediate.checks.base import check
from remediate.evidence import VpcDnsDisabled
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.reachability import Block, PathResult, Peer


@check("vpc_dns", "VPC_DNS_DISABLED")
def vpc_dns_disabled(facts: Facts) -> list[Finding]:
    """Private-DNS endpoints resolve only when the VPC has both DNS support and DNS hostnames on."""
    net, no_nat = poller_paths.needs_endpoints(facts)
    if net is None or net.vpc is None or not no_nat:
        return []
    vpc = net.vpc
    off = [
        name
        for name, on in (("enableDnsSupport", vpc.dns_support), ("enableDnsHostnames", vpc.dns_hostnames))
        if not on
    ]
    if not off:
        return []
    block = Block("DNS", vpc.id, f"{' and '.join(off)} off: private DNS names do not resolve to endpoints")
    paths = []
    for service in poller_paths.required_services(facts):
        endpoint = poller_paths.live_endpoint(facts, net, service)
        label = f"{service} endpoint {endpoint.id}" if endpoint else f"{service} endpoint (to be created)"
        paths += [
            PathResult(src, Peer(label, "VPC"), poller_paths.HTTPS, (block,))
            for src in poller_paths.sources(net)
        ]
    return [
        Finding(
            code="VPC_DNS_DISABLED",
            summary=f"VPC {vpc.id} has {' and '.join(off)} off, so private-DNS endpoints do not resolve",
            evidence=VpcDnsDisabled(
                vpc_id=vpc.id,
                enableDnsSupport=vpc.dns_support,
                enableDnsHostnames=vpc.dns_hostnames,
                paths=tuple(r.line() for r in paths),
            ),
        )
    ]
