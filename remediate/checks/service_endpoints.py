"""Whether the pollers reach Lambda, STS, Secrets Manager and the destination: by NAT or VPC endpoints.

Without a NAT route every required service needs a live endpoint the pollers can reach on 443; with a
NAT route an existing private-DNS endpoint still captures the service's name, so its security groups
must admit the pollers either way. Provisioned-mode ESMs need none of this.
"""

from __future__ import annotations

from remediate import poller_paths
from remediate.checks.base import check
from remediate.evidence import ServiceEndpointsUnreachable
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.reachability import PathResult


@check("service_endpoints", "SERVICE_ENDPOINTS_UNREACHABLE")
def service_endpoints_unreachable(facts: Facts) -> list[Finding]:
    """Without a NAT route the pollers need endpoints for Lambda, STS, Secrets Manager, the destination."""
    net, no_nat = poller_paths.needs_endpoints(facts)
    if net is None or net.vpc is None:
        return []
    services = poller_paths.required_services(facts)
    paths: list[PathResult] = []
    to_endpoints = []
    missing = []
    for service in services:
        endpoint = poller_paths.live_endpoint(facts, net, service)
        if endpoint is not None and (no_nat or endpoint.private_dns):
            if endpoint.type == "Gateway":
                found = poller_paths.gateway_paths(net, endpoint, service)
            else:
                found = (
                    [] if endpoint.private_dns else poller_paths.private_dns_off_paths(net, endpoint, service)
                )
                found += poller_paths.endpoint_paths(net, endpoint, service)
            paths += found
            to_endpoints += poller_paths.blocked(found, "endpoint", service=service, endpoint_id=endpoint.id)
        elif endpoint is None and no_nat:
            missing.append(service)
            paths += poller_paths.missing_paths(net, service, net.vpc.id)
    blocked = [r for r in paths if not r.allowed]
    if not blocked:
        return []
    what = f"missing endpoint(s) for {', '.join(missing)}" if missing else "endpoint paths blocked"
    where = f"subnets {', '.join(no_nat)} have no NAT gateway route; " if no_nat else ""
    return [
        Finding(
            code="SERVICE_ENDPOINTS_UNREACHABLE",
            summary=f"{where}{what} ({len(blocked)} blocked path(s))",
            evidence=ServiceEndpointsUnreachable(
                placement=net.placement,
                vpc_id=net.vpc.id,
                services=services,
                subnets_without_nat=tuple(no_nat),
                missing=tuple(missing),
                paths=tuple(r.line() for r in paths),
                blocked=tuple(to_endpoints),
            ),
        )
    ]
