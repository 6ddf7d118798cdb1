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
from remediate.evidence import BlockedPath, NetworkBlock
from remediate.facts import Facts, Network, Subnet, VpcEndpoint
from remediate.reachability import Block, PathResult, Peer, cidr_contains, evaluate, nat_route, route_table_of

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
    """The pollers' ENIs: one per subnet, with the event source's security groups."""
    return [
        Peer(f"ENI in {s.id}", s.cidr, s.id, net.source_security_group_ids)
        for s in sorted(net.subnets, key=lambda s: (s.availability_zone, s.id))
    ]


def one_subnet_per_az(net: Network) -> list[str]:
    """An interface endpoint takes at most one subnet per Availability Zone (Amazon VPC PrivateLink
    guide, "Access an AWS service using an interface VPC endpoint"): the first of each, by id."""
    chosen: dict[str, str] = {}
    for s in sorted(net.subnets, key=lambda s: (s.availability_zone, s.id)):
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
    address when given as an IP, else assumed to be somewhere in the VPC."""
    if facts.esm.source_kind == "msk":
        groups = facts.cluster.security_group_ids if facts.cluster else net.source_security_group_ids
        return [Peer(f"brokers in {s.id}", s.cidr, s.id, groups) for s in net.subnets]
    dests = []
    vpc_cidr = net.vpc.cidr if net.vpc else "0.0.0.0/0"
    for server in facts.esm.bootstrap_servers:
        host, server_port = kafka.split_server(server)
        if server_port != port:
            continue
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            dests.append(Peer(f"broker {host}", vpc_cidr, assumed=True))
            continue
        cidr = f"{address}/{address.max_prefixlen}"
        subnet = next((s for s in net.subnets if cidr_contains(s.cidr, cidr)), None)
        dests.append(Peer(f"broker {host}", cidr, subnet.id if subnet else None))
    return dests


def broker_paths(facts: Facts, net: Network) -> list[PathResult]:
    """From each source subnet to the brokers, on each broker port."""
    msk = facts.esm.source_kind == "msk"
    out = []
    for port in kafka.broker_ports(facts.esm, facts.cluster):
        dests = broker_destinations(facts, net, port)
        for src in sources(net):
            label = f"brokers ({', '.join(dests[0].group_ids)})" if msk and dests else "brokers"
            out.append(
                merge(src, label, port, [evaluate(net, src, d, port, dest_ingress=msk) for d in dests])
            )
    return out


def nat_paths(net: Network) -> list[PathResult]:
    """443 to AWS services through a NAT gateway needs an egress rule to the internet."""
    internet = Peer("AWS services via NAT", "0.0.0.0/0")
    return [
        evaluate(net, src, internet, HTTPS, dest_ingress=False)
        for src in sources(net)
        if src.subnet_id and nat_route(net, src.subnet_id)
    ]


# --- service endpoints ----------------------------------------------------------------------------


def needs_endpoints(facts: Facts) -> tuple[Network | None, list[str]]:
    """The network and its subnets without a NAT route, when the ESM needs AWS services from a VPC.

    Provisioned-mode ESMs (`ProvisionedPollerConfig`) need none of this: PrivateLink is required only
    in on-demand mode (Lambda developer guide, MSK network configuration).
    """
    net = facts.network
    if net is None or net.placement == "internet" or net.vpc is None or not net.subnets:
        return None, []
    if facts.esm.provisioned_pollers:
        return None, []
    return net, [s.id for s in net.subnets if nat_route(net, s.id) is None]


def live_endpoint(facts: Facts, net: Network, service: str) -> VpcEndpoint | None:
    name = service_name(facts, service)
    return next((e for e in net.endpoints if e.service_name == name and e.live), None)


def endpoint_paths(net: Network, endpoint: VpcEndpoint, service: str) -> list[PathResult]:
    """From each source to the endpoint's network interfaces on 443, through both sides' groups."""
    by_id: dict[str, Subnet] = {s.id: s for s in net.subnets}
    dests = [
        Peer(f"{service} endpoint ENI in {sid}", by_id[sid].cidr, sid, endpoint.security_group_ids)
        for sid in endpoint.subnet_ids
        if sid in by_id
    ]
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
    out = []
    for src in sources(net):
        table = route_table_of(net, src.subnet_id or "")
        block = Block(
            "route",
            table.id if table else "(no route table)",
            f"no NAT gateway route and no {service} endpoint in {vpc_id}",
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
