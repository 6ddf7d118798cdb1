"""Whether private-DNS endpoints resolve: the VPC needs both DNS support and DNS hostnames on.

EC2 API reference, CreateVpcEndpoint, `PrivateDnsEnabled`: "To use a private hosted zone, you must set
the following VPC attributes to true: enableDnsHostnames and enableDnsSupport." That holds wherever a
private-DNS endpoint is in use, not only without a NAT route: a private-DNS endpoint captures the
service's name for the whole VPC whatever the routes say, and one planned for subnets with no way out
needs the same two attributes.
"""

from __future__ import annotations

from remediate import poller_paths
from remediate.checks.base import check
from remediate.evidence import PathCheck, VpcDnsDisabled
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.reachability import Block, PathResult, Peer


@check("vpc_dns", "VPC_DNS_DISABLED")
def vpc_dns_disabled(facts: Facts) -> list[Finding]:
    """Private-DNS endpoints resolve only when the VPC has both DNS support and DNS hostnames on."""
    net, no_way_out = poller_paths.needs_endpoints(facts)
    if net is None or net.vpc is None:
        return []
    services = poller_paths.required_services(facts)
    in_use = [
        e
        for service in services
        if (e := poller_paths.live_endpoint(facts, net, service)) is not None
        and e.private_dns
        and e.type == "Interface"
    ]
    if not no_way_out and not in_use:
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
    checks: list[PathCheck] = []
    for service in services:
        endpoint = poller_paths.live_endpoint(facts, net, service)
        if endpoint is None and not no_way_out:
            continue  # reached through the NAT gateway: its public name needs no private zone
        label = f"{service} endpoint {endpoint.id}" if endpoint else f"{service} endpoint (to be created)"
        found = [
            PathResult(src, Peer(label, "VPC"), poller_paths.HTTPS, (block,))
            for src in poller_paths.sources(net)
        ]
        paths += found
        checks += poller_paths.checked(found, "service", service)
    return [
        Finding(
            code="VPC_DNS_DISABLED",
            summary=f"VPC {vpc.id} has {' and '.join(off)} off, so private-DNS endpoints do not resolve",
            evidence=VpcDnsDisabled(
                vpc_id=vpc.id,
                enableDnsSupport=vpc.dns_support,
                enableDnsHostnames=vpc.dns_hostnames,
                paths=tuple(r.line() for r in paths),
                checked=tuple(checks),
            ),
        )
    ]
