"""The network paths of an ESM's pollers, as `reachability` evaluates them. Pure: `Facts` in, paths out.

The pollers' ENIs live where `Network.placement` says: for MSK, in the cluster's subnets with the
cluster's security groups, not the function's (Lambda developer guide, "Creating a Lambda event source
mapping for an Amazon MSK event source": the hyperplane ENI "uses the subnet and security group
configuration of your MSK cluster"); for self-managed Kafka, in the VPC_SUBNET / VPC_SECURITY_GROUP
source access configuration, or on the internet. From there they reach the brokers on the port of
their auth mode (`kafka`), and Lambda, STS, Secrets Manager and the on-failure destination on 443,
through a NAT gateway or VPC endpoints.

Checks use these paths to find what is blocked; actions use the same paths to plan what unblocks it,
so the two can never disagree about where traffic goes.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from remediate import kafka
from remediate.egress import Egress, egress_of
from remediate.evidence import BlockedPath, NetworkBlock, PathCheck
from remediate.facts import DnsForwarder, Facts, Network, VpcEndpoint, VpcZone
from remediate.reachability import (
    EPHEMERAL,
    Block,
    PathResult,
    Peer,
    cidr_contains,
    evaluate,
    nacl_denial,
    nacl_of,
    route_table_of,
)

HTTPS = 443
DESTINATION_SERVICES = frozenset({"sqs", "sns", "s3"})
"""On-failure destinations reached over the network (an SQS queue, an SNS topic, an S3 bucket)."""


def required_services(facts: Facts) -> tuple[str, ...]:
    """Lambda and STS always; Secrets Manager when a secret is configured; the on-failure destination.

    Lambda developer guide, MSK and self-managed Kafka network configuration: the ESM's VPC must reach
    Lambda and STS, Secrets Manager if event source authentication is required, and the on-failure
    destination if one is configured.
    """
    esm = facts.esm
    services = ["lambda", "sts"]
    if any(a.type not in kafka.NETWORK_TYPES for a in esm.source_access):
        services.append("secretsmanager")
    destination = destination_service(facts)
    if destination:
        services.append(destination)
    return tuple(services)


def destination_service(facts: Facts) -> str | None:
    parts = (facts.esm.on_failure_destination or "").split(":")
    return parts[2] if len(parts) > 2 and parts[2] in DESTINATION_SERVICES else None


def service_name(facts: Facts, service: str) -> str:
    return f"com.amazonaws.{facts.region}.{service}"


def sources(net: Network) -> list[Peer]:
    """The pollers' ENIs: one per subnet, with the event source's security groups, seen from the
    subnet's IPv4 range (its IPv6 range for an IPv6-only subnet)."""
    return [
        Peer(f"ENI in {s.id}", s.address, s.id, net.source_security_group_ids)
        for s in sorted(net.subnets, key=lambda s: (s.availability_zone, s.id))
    ]


def one_subnet_per_az(net: Network, zones: tuple[str, ...] | None = None) -> list[str]:
    """An interface endpoint takes at most one subnet per Availability Zone (Amazon VPC PrivateLink
    guide, "Access an AWS service using an interface VPC endpoint"): the first of each, by id, among
    the Availability Zones the service is offered in (`zones`, from DescribeVpcEndpointServices; AWS
    refuses a subnet elsewhere: "The VPC endpoint service ... does not support the availability zone
    of the subnet") and the subnets with a free IPv4 address for the endpoint's network interface
    (else InsufficientFreeAddressesInSubnet, EC2 API reference, "Error codes")."""
    chosen: dict[str, str] = {}
    for s in sorted(net.subnets, key=lambda s: (s.availability_zone, s.id)):
        if zones is not None and s.availability_zone not in zones:
            continue
        if s.available_ips is not None and s.available_ips < 1:
            continue
        chosen.setdefault(s.availability_zone, s.id)
    return list(chosen.values())


def merge(source: Peer, label: str, port: int, results: list[PathResult]) -> PathResult:
    """One result per source for a destination spread over several subnets (brokers, endpoint ENIs)."""
    blocks = tuple(dict.fromkeys(b for r in results for b in r.blocks))
    assumed = any(r.dest.assumed for r in results)
    cidr = ", ".join(dict.fromkeys(r.dest.cidr for r in results))
    return PathResult(source, Peer(label, cidr, assumed=assumed), port, blocks)


# --- brokers --------------------------------------------------------------------------------------


def broker_destinations(facts: Facts, net: Network, port: int) -> list[Peer]:
    """MSK brokers live in the cluster's subnets behind its groups; a self-managed broker is its own
    address when given as an IP or as a name a private hosted zone of the VPC answers (behind its
    interface's groups when that interface was read: issue 21, item 6), else assumed to be somewhere in
    the VPC."""
    if facts.esm.source_kind == "msk":
        groups = facts.cluster.security_group_ids if facts.cluster else net.source_security_group_ids
        return [Peer(f"brokers in {s.id}", s.address, s.id, groups) for s in net.subnets]
    dests = []
    vpc_cidr = net.vpc.cidr if net.vpc else "0.0.0.0/0"
    for server in facts.esm.bootstrap_servers:
        host, server_port = kafka.split_server(server)
        if server_port != port:
            continue
        label = f"broker {host}"
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            # issue 21 (item 6): a name a private hosted zone of the VPC answers is that address.
            resolved = facts.dns.zone_address(host) if facts.dns is not None else None
            if resolved is None or not kafka.is_ip(resolved):
                dests.append(Peer(label, vpc_cidr, assumed=True))
                continue
            address = ipaddress.ip_address(resolved)
            label = f"broker {host} ({resolved})"
        cidr = f"{address}/{address.max_prefixlen}"
        interface = next((i for i in facts.broker_interfaces or () if i.address == str(address)), None)
        if interface is not None:
            # issue 21 (item 6): the broker's own interface, its subnet and its groups.
            dests.append(Peer(label, cidr, interface.subnet_id, interface.group_ids))
            continue
        subnet = next((s for s in net.subnets if any(cidr_contains(c, cidr) for c in s.cidrs)), None)
        dests.append(Peer(label, cidr, subnet.id if subnet else None))
    return dests


def broker_paths(facts: Facts, net: Network) -> list[PathResult]:
    """From each source subnet to the brokers, on each broker port. A broker's ingress is evaluated
    where its groups are known: MSK's cluster groups, or a self-managed broker's interface (issue 21)."""
    msk = facts.esm.source_kind == "msk"
    out = []
    for port in kafka.broker_ports(facts.esm, facts.cluster):
        dests = broker_destinations(facts, net, port)
        groups = list(dict.fromkeys(g for d in dests for g in d.group_ids))
        for src in sources(net):
            label = f"brokers ({', '.join(groups)})" if groups else "brokers"
            results = [evaluate(net, src, d, port, dest_ingress=msk or bool(d.group_ids)) for d in dests]
            out.append(merge(src, label, port, results))
    return out


def egress(net: Network) -> dict[str, Egress]:
    """The way out of each of the pollers' subnets (`remediate.egress`)."""
    return {s.id: egress_of(net, s.id) for s in net.subnets}


def nat_paths(net: Network) -> list[PathResult]:
    """443 to AWS services through a NAT gateway (or an appliance) needs an egress rule to the
    internet: the security group applies before any route does."""
    internet = Peer("AWS services via NAT", "0.0.0.0/0")
    ways = egress(net)
    out = []
    for src in sources(net):
        if not src.subnet_id or ways[src.subnet_id].kind == "none":
            continue
        path = evaluate(net, src, internet, HTTPS, dest_ingress=False)
        extra = nat_subnet_blocks(net, src, ways[src.subnet_id])
        out.append(PathResult(path.source, path.dest, path.port, (*path.blocks, *extra)) if extra else path)
    return out


def nat_subnet_blocks(net: Network, src: Peer, way: Egress) -> list[Block]:
    """The NAT gateway's own subnet's NACL on the way out and back (issue 24, item 6).

    NACLs are stateless and apply to every subnet a packet enters or leaves ("Control subnet traffic with
    network access control lists", Amazon VPC user guide); a zonal NAT gateway's interface is in its own
    subnet ("NAT gateways": "You create a public NAT gateway in a public subnet"), so that subnet's NACL
    must admit tcp/443 from the pollers and to the internet, and the replies on the ephemeral ports. A
    regional NAT gateway has no subnet, and one in the pollers' own subnet crosses no other NACL."""
    nat = next((n for n in net.nat_gateways if n.id == way.target), None) if way.kind == "nat" else None
    if nat is None or not nat.subnet_id or nat.subnet_id == src.subnet_id:
        return []
    nacl = nacl_of(net, nat.subnet_id)
    if nacl is None:
        return []
    steps = (
        (False, (HTTPS, HTTPS), src.cidr),
        (True, (HTTPS, HTTPS), "0.0.0.0/0"),
        (False, EPHEMERAL, "0.0.0.0/0"),
        (True, EPHEMERAL, src.cidr),
    )
    found = [nacl_denial(nacl, egress, ports, cidr) for egress, ports, cidr in steps]
    return [b for b in found if b is not None]


# --- service endpoints ----------------------------------------------------------------------------


def reaches_services_from_vpc(facts: Facts) -> bool:
    """Whether the ESM's pollers call Lambda, STS, Secrets Manager and the destination from the
    event source's VPC, so that a NAT gateway or VPC endpoints there must carry those calls.

    Only in on-demand mode. Lambda developer guide, "Configuring your self-managed Apache Kafka cluster
    and network for Lambda": "AWS PrivateLink VPC endpoints are required for functions with event
    source mappings that use the default (on-demand) mode for event pollers. If your event source
    mapping uses provisioned mode, you don't need to configure AWS PrivateLink VPC endpoints"; the MSK
    page ("Configuring your Amazon MSK cluster and Amazon VPC network for Lambda") makes the network
    requirements depend on the mode the same way, and polls the brokers the same way in both modes,
    so the broker path is checked in both.
    """
    net = facts.network
    if net is None or net.placement == "internet" or net.vpc is None or not net.subnets:
        return False
    return not facts.esm.provisioned_pollers


def needs_endpoints(facts: Facts) -> tuple[Network | None, list[str]]:
    """The network and its subnets with no way out at all (`egress` kind `none`), when the ESM calls
    AWS services from its VPC (`reaches_services_from_vpc`). Subnets whose way out goes through an
    appliance are neither: see `unverified_egress`."""
    net = facts.network
    if net is None or not reaches_services_from_vpc(facts):
        return None, []
    ways = egress(net)
    return net, [s.id for s in net.subnets if ways[s.id].kind == "none"]


def unverified_egress(facts: Facts) -> dict[str, Egress]:
    """Subnets whose way out goes through an appliance the tool cannot see past."""
    net = facts.network
    if net is None or not reaches_services_from_vpc(facts):
        return {}
    return {sid: e for sid, e in egress(net).items() if e.kind == "appliance"}


def service_dns_name(facts: Facts, service: str) -> str:
    """The name private DNS answers for: the service's `PrivateDnsName` when it was read, else the
    default public DNS name for the service in the Region, which the endpoint's private hosted zone
    holds (EC2 API reference, CreateVpcEndpoint, `PrivateDnsEnabled`: "for example,
    kinesis.us-east-1.amazonaws.com")."""
    net = facts.network
    detail = net.service(service_name(facts, service)) if net is not None else None
    if detail is not None and detail.private_dns_name:
        return detail.private_dns_name
    return f"{service}.{facts.region}.amazonaws.com"


def covering_zone(facts: Facts, net: Network, service: str) -> VpcZone | None:
    """A private hosted zone for the service's own name associated with the VPC (a centralised
    endpoint shared from a hub VPC): the service's name then resolves to what that zone says, and
    AWS refuses private DNS on a new endpoint for it ("private-dns-enabled cannot be set because there
    is already a conflicting DNS domain")."""
    name = service_dns_name(facts, service)
    return next((z for z in net.zones or () if z.name == name), None)


def forwarding(facts: Facts, net: Network, service: str) -> DnsForwarder | None:
    """Issue 24 (N10): a Resolver FORWARD rule associated with the VPC whose domain covers the service's
    name, or custom DHCP DNS servers: the pollers' queries for it go there, not to the VPC's resolver, so a
    private-DNS endpoint made here would not be what they reach ("VPC Resolver compares the domain name in
    the DNS query with the domain name in the rules that are associated with the VPC", Route 53 DG, "How
    VPC Resolver determines whether the domain name in a query matches any rules")."""
    name = service_dns_name(facts, service)
    return next((f for f in net.forwarders or () if f.answers(name)), None)


def forwarder_text(net: Network, fwd: DnsForwarder) -> str:
    """Who answers the pollers' queries instead of the VPC's resolver (issue 24, N10)."""
    vpc = net.vpc.id if net.vpc else "the VPC"
    if fwd.kind == "resolver-rule":
        rule = f"Route 53 Resolver rule {fwd.id} associated with {vpc}"
        return f"{rule} forwards {fwd.domain} to other DNS servers"
    return f"DHCP options set {fwd.id} of {vpc} gives the pollers DNS servers other than AmazonProvidedDNS"


def live_endpoint(facts: Facts, net: Network, service: str) -> VpcEndpoint | None:
    name = service_name(facts, service)
    return next((e for e in net.endpoints if e.service_name == name and e.live), None)


def endpoint_destinations(net: Network, endpoint: VpcEndpoint, service: str) -> list[Peer]:
    """The endpoint's network interfaces, one per subnet, wherever those subnets are: dedicated
    endpoint subnets are not the pollers' (observation reads every subnet of the VPC). A subnet that
    was not read is assumed to be somewhere in the VPC, and the path says so."""
    dests = []
    for sid in endpoint.subnet_ids:
        subnet = net.subnet(sid)
        label = f"{service} endpoint ENI in {sid}"
        if subnet is not None:
            dests.append(Peer(label, subnet.address, sid, endpoint.security_group_ids))
        else:
            vpc_cidr = net.vpc.cidr if net.vpc else "0.0.0.0/0"
            dests.append(Peer(label, vpc_cidr, None, endpoint.security_group_ids, assumed=True))
    return dests


def endpoint_paths(net: Network, endpoint: VpcEndpoint, service: str) -> list[PathResult]:
    """From each source to the endpoint's network interfaces on 443, through both sides' groups and
    both subnets' NACLs."""
    dests = endpoint_destinations(net, endpoint, service)
    return [
        merge(src, f"{service} endpoint {endpoint.id}", HTTPS, [evaluate(net, src, d, HTTPS) for d in dests])
        for src in sources(net)
    ]


def private_dns_off_paths(net: Network, endpoint: VpcEndpoint, service: str) -> list[PathResult]:
    """Without private DNS the service's public name resolves to public addresses, not the endpoint."""
    block = Block("route", endpoint.id, "private DNS is off, so the service name resolves to public IPs")
    return [
        PathResult(src, Peer(f"{service} endpoint {endpoint.id}", "AWS"), HTTPS, (block,))
        for src in sources(net)
    ]


def gateway_paths(net: Network, endpoint: VpcEndpoint, service: str) -> list[PathResult]:
    """A gateway endpoint is reached by a route in the source's table and 443 egress to AWS's ranges."""
    out = []
    for src in sources(net):
        table = route_table_of(net, src.subnet_id or "")
        blocks: list[Block] = []
        if table is None or table.id not in endpoint.route_table_ids:
            blocks.append(
                Block("route", table.id if table else "(none)", f"no route to the {service} gateway endpoint")
            )
        if not egress_to_aws(net, src.group_ids):
            blocks.append(
                Block("SG", ", ".join(src.group_ids), f"no egress rule allows tcp/443 to {service}")
            )
        out.append(
            PathResult(src, Peer(f"{service} gateway endpoint {endpoint.id}", service), HTTPS, tuple(blocks))
        )
    return out


def egress_to_aws(net: Network, group_ids: tuple[str, ...]) -> bool:
    """443 out to AWS's public ranges: to everywhere, or to a prefix list (S3's, for a gateway endpoint)."""
    groups = [g for g in (net.group(gid) for gid in group_ids) if g is not None]
    return any(
        r.covers_port(HTTPS) and (r.prefix_list_id is not None or r.cidr in ("0.0.0.0/0", "::/0"))
        for g in groups
        for r in g.egress
    )


def missing_paths(net: Network, service: str, vpc_id: str) -> list[PathResult]:
    """From each subnet with no way out: no route reaches the service and no endpoint serves it."""
    out = []
    ways = egress(net)
    for src in sources(net):
        way = ways.get(src.subnet_id or "")
        if way is None or way.kind != "none":
            continue
        block = Block(
            "route",
            way.route_table or "(no route table)",
            f"{way.detail}, and no {service} endpoint in {vpc_id}",
        )
        out.append(PathResult(src, Peer(service, "AWS"), HTTPS, (block,)))
    return out


# --- as evidence ----------------------------------------------------------------------------------


def block_data(block: Block) -> NetworkBlock:
    return NetworkBlock(
        element=block.element,
        resource=block.resource,
        detail=block.detail,
        direction=block.direction,
        rule_number=block.rule_number,
        ports=block.ports,
        cidr=block.cidr,
    )


def blocked(
    results: list[PathResult],
    target: Literal["brokers", "nat", "endpoint"],
    service: str | None = None,
    endpoint_id: str | None = None,
) -> list[BlockedPath]:
    """The blocked results as evidence: what a person reads is `PathResult.line()`, this is for actions."""
    return [
        BlockedPath(
            source_subnet=r.source.subnet_id or "",
            target=target,
            port=r.port,
            blocks=tuple(block_data(b) for b in r.blocks),
            service=service,
            endpoint_id=endpoint_id,
        )
        for r in results
        if not r.allowed
    ]


def checked(
    results: list[PathResult], to: Literal["brokers", "nat", "service"], service: str | None = None
) -> list[PathCheck]:
    """Every result as data, allowed or not: what reports group and draw (`run/path_groups.py`)."""
    return [
        PathCheck(
            source_subnet=r.source.subnet_id or "",
            to=to,
            target=r.dest.label,
            port=r.port,
            blocks=tuple(block_data(b) for b in r.blocks),
            service=service,
            source_cidr=r.source.cidr,
        )
        for r in results
    ]
