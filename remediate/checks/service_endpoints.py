"""Whether the pollers reach Lambda, STS, Secrets Manager and the destination: by NAT or VPC endpoints.

Subnets with no way out (`remediate.egress`) need a live endpoint for every required service that the
pollers can reach on 443; an existing private-DNS endpoint captures the service's name whatever the
routes say, so its security groups and NACLs must admit the pollers either way, wherever its network
interfaces are. What the tool cannot see past is said, not guessed: a way out through an appliance
(transit gateway, firewall endpoint, instance) and a service whose name a private hosted zone
associated with the VPC answers (a centralised endpoint) are COULD_NOT_CHECK, and no endpoint is
planned for them. Provisioned-mode ESMs call none of these services from the VPC.
"""

from __future__ import annotations

from remediate import poller_paths
from remediate.checks.base import check
from remediate.egress import Egress
from remediate.evidence import CouldNotCheck, PathCheck, ServiceEndpointsUnreachable
from remediate.facts import DnsForwarder, Facts, Network
from remediate.findings import Finding
from remediate.reachability import PathResult


@check("service_endpoints", "SERVICE_ENDPOINTS_UNREACHABLE", "COULD_NOT_CHECK")
def service_endpoints_unreachable(facts: Facts) -> list[Finding]:
    """Without a way out the pollers need endpoints for Lambda, STS, Secrets Manager, the destination."""
    net, no_way_out = poller_paths.needs_endpoints(facts)
    if net is None or net.vpc is None:
        return []
    services = poller_paths.required_services(facts)
    paths: list[PathResult] = []
    checks: list[PathCheck] = []
    to_endpoints = []
    missing = []
    centralised: list[tuple[str, str, str]] = []
    forwarded: list[tuple[str, DnsForwarder]] = []
    for service in services:
        endpoint = poller_paths.live_endpoint(facts, net, service)
        if endpoint is not None and (no_way_out or endpoint.private_dns):
            if endpoint.type == "Gateway":
                found = poller_paths.gateway_paths(net, endpoint, service)
            else:
                found = (
                    [] if endpoint.private_dns else poller_paths.private_dns_off_paths(net, endpoint, service)
                )
                found += poller_paths.endpoint_paths(net, endpoint, service)
            paths += found
            checks += poller_paths.checked(found, "service", service)
            to_endpoints += poller_paths.blocked(found, "endpoint", service=service, endpoint_id=endpoint.id)
        elif endpoint is None and (zone := poller_paths.covering_zone(facts, net, service)) is not None:
            centralised.append((service, zone.name, zone.id))
        elif endpoint is None and no_way_out and (fwd := poller_paths.forwarding(facts, net, service)):
            forwarded.append((service, fwd))  # issue 24 (N10)
        elif endpoint is None and no_way_out:
            missing.append(service)
            gone = poller_paths.missing_paths(net, service, net.vpc.id)
            paths += gone
            checks += poller_paths.checked(gone, "service", service)
    found_now = _unverifiable(net, poller_paths.unverified_egress(facts), centralised)
    found_now += [_forwarded(net, service, fwd) for service, fwd in forwarded]
    blocked = [r for r in paths if not r.allowed]
    if not blocked:
        return found_now
    what = f"missing endpoint(s) for {', '.join(missing)}" if missing else "endpoint paths blocked"
    where = f"subnets {', '.join(no_way_out)} have no way out to AWS services; " if no_way_out else ""
    return [
        Finding(
            code="SERVICE_ENDPOINTS_UNREACHABLE",
            summary=f"{where}{what} ({len(blocked)} blocked path(s))",
            evidence=ServiceEndpointsUnreachable(
                placement=net.placement,
                vpc_id=net.vpc.id,
                services=services,
                subnets_without_nat=tuple(no_way_out),
                missing=tuple(missing),
                paths=tuple(r.line() for r in paths),
                blocked=tuple(to_endpoints),
                checked=tuple(checks),
            ),
        ),
        *found_now,
    ]


def _unverifiable(
    net: Network, appliances: dict[str, Egress], centralised: list[tuple[str, str, str]]
) -> list[Finding]:
    """What the tool cannot see past, one finding per appliance and per centralised service."""
    out = []
    by_target: dict[str, list[str]] = {}
    for subnet_id, way in appliances.items():
        by_target.setdefault(way.detail, []).append(subnet_id)
    for detail, subnets in by_target.items():
        what = (
            f"the way out of subnets {', '.join(subnets)} to Lambda, STS and the other services the ESM calls"
        )
        out.append(
            Finding(
                code="COULD_NOT_CHECK",
                summary=f"could not check {what}: {detail}, which remediate cannot see past; "
                "no VPC endpoints are planned on a guess",
                evidence=CouldNotCheck(what=what, reason=detail),
            )
        )
    for service, zone_name, zone_id in centralised:
        what = f"the path to {service}"
        reason = (
            f"private hosted zone {zone_id} ({zone_name}) associated with "
            f"{net.vpc.id if net.vpc else 'the VPC'} "
            "answers for the service's name (a centralised endpoint elsewhere): its endpoint's security "
            "group and the route to it are not in this VPC; creating a private-DNS endpoint here would be "
            "refused (conflicting DNS domain)"
        )
        out.append(
            Finding(
                code="COULD_NOT_CHECK",
                summary=f"could not check {what}: {reason}",
                evidence=CouldNotCheck(what=what, reason=reason),
            )
        )
    return out


def _forwarded(net: Network, service: str, fwd: DnsForwarder) -> Finding:
    what = f"the path to {service}"
    reason = (
        f"{poller_paths.forwarder_text(net, fwd)}, so the service's name resolves where those servers "
        "say (a centralised endpoint, or a way out elsewhere) and a private-DNS endpoint made here would "
        "not be used: no endpoint is planned"
    )
    return Finding(
        code="COULD_NOT_CHECK",
        summary=f"could not check {what}: {reason}",
        evidence=CouldNotCheck(what=what, reason=reason),
    )
