"""Whether the broker names resolve where the ESM runs.

An MSK cluster's broker names are AWS's to publish, but the VPC decides whether they resolve there (issue
21, item 7): every broker's name (GetBootstrapBrokers, ListNodes) is weighed against the VPC's DNS support
and the private hosted zones associated with it, and an unresolvable one is named with its broker id.

A self-managed source's names resolve on the internet (no VPC access configured) or through the Route 53
Resolver of the ESM's VPC, where a private hosted zone associated with the VPC answers for its whole
domain. Observation resolved the names from this machine and read the relevant private zones; this check
weighs the VPC's facts first, because what this machine resolves is only a hint of what the VPC resolves.
"""

from __future__ import annotations

from remediate.checks.base import check
from remediate.evidence import BrokerDnsUnresolvable
from remediate.facts import Dns, Facts, HostedZone
from remediate.findings import Finding


def _verdict(facts: Facts, dns: Dns, host: str) -> tuple[str, str, HostedZone | None] | None:
    """(cause, explanation, zone) when `host` does not resolve where the ESM runs; None when it does.

    issue 21 (item 7): an MSK broker's name is weighed the same way in the VPC (it carries no local
    resolution and no unassociated zone: AWS publishes the name, so only the VPC's resolver and the
    private zones associated with it can keep it from resolving there); its text names the broker."""
    broker = dns.broker_of(host)
    name = f"broker {broker} ({host})" if broker is not None else host
    local = next((r for r in dns.local.results if r.host == host), None) if dns.local else None
    machine = dns.local.machine if dns.local else "this machine"
    network = facts.network
    if network is not None and network.placement != "internet" and network.vpc is not None:
        vpc = network.vpc
        if not vpc.dns_support:
            return (
                "vpc-dns-support-off",
                f"enableDnsSupport is off in {vpc.id}: the Amazon-provided resolver answers nothing there",
                None,
            )
        inside = [z for z in dns.zones if z.associated and z.covers(host)]
        if inside:
            zone = max(inside, key=lambda z: len(z.name))
            if host in zone.hosts_with_records and not vpc.dns_hostnames:
                # issue 24 (audit #10): "To use private hosted zones, you must set the following Amazon VPC
                # settings to true: enableDnsHostnames, enableDnsSupport" (Route 53 DG, "Considerations when
                # working with a private hosted zone", https://docs.aws.amazon.com/Route53/latest/
                # DeveloperGuide/hosted-zone-private-considerations.html).
                return (
                    "vpc-dns-hostnames-off",
                    f"private hosted zone {zone.name} ({zone.id}) holds {name}, but enableDnsHostnames is "
                    f"off in {vpc.id}, and private hosted zones need it on as well as enableDnsSupport",
                    zone,
                )
            if host in zone.hosts_with_records:
                return None
            return (
                "zone-without-record",
                f"private hosted zone {zone.name} ({zone.id}), associated with {vpc.id}, answers for "
                f"{name} but holds no A, AAAA or CNAME record for it",
                zone,
            )
        outside = [z for z in dns.zones if not z.associated and host in z.hosts_with_records]
        if outside:
            zone = max(outside, key=lambda z: len(z.name))
            return (
                "zone-not-associated",
                f"private hosted zone {zone.name} ({zone.id}) holds {host} but is not associated with "
                f"{vpc.id} (it serves {', '.join(zone.vpc_ids) or 'no VPC'})",
                zone,
            )
    if local is None or local.resolved or facts.esm.source_kind == "msk":
        return None  # AWS publishes MSK's names: what this machine resolves says nothing of them
    return (
        "not-resolvable",
        f"{host} does not resolve from {machine} ({local.error}); checked from this machine, not from "
        "the ESM's network, and no private hosted zone of this account holds it",
        None,
    )


@check("broker_dns", "BROKER_DNS_UNRESOLVABLE")
def broker_dns(facts: Facts) -> list[Finding]:
    """Bootstrap broker names that do not resolve where the ESM runs, grouped by cause."""
    dns = facts.dns
    if dns is None or facts.esm.source_kind not in ("self-managed", "msk"):  # msk: issue 21 (item 7)
        return []
    groups: dict[tuple[str, str], tuple[str, HostedZone | None, list[str]]] = {}
    for host in dns.hosts:
        verdict = _verdict(facts, dns, host)
        if verdict is None:
            continue
        cause, text, zone = verdict
        key = (cause, zone.id if zone else "")
        groups.setdefault(key, (text, zone, []))[2].append(host)
    vpc = facts.network.vpc.id if facts.network and facts.network.vpc else None
    findings = []
    for (cause, _), (text, zone, hosts) in groups.items():
        summary = text if len(hosts) == 1 else f"{text} (and {len(hosts) - 1} more broker name(s))"
        brokers = tuple(b for h in hosts if (b := dns.broker_of(h)) is not None)  # issue 21 (item 7)
        findings.append(
            Finding(
                code="BROKER_DNS_UNRESOLVABLE",
                summary=summary,
                evidence=BrokerDnsUnresolvable(
                    cause=cause,  # type: ignore[arg-type]
                    hosts=tuple(hosts),
                    vpc_id=vpc,
                    placement=facts.network.placement if facts.network else None,
                    zone_id=zone.id if zone else None,
                    zone_name=zone.name if zone else None,
                    resolved_from=dns.local.machine if dns.local else None,
                    broker_ids=tuple(dict.fromkeys(brokers)),
                ),
            )
        )
    return findings
