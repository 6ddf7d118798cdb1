"""Checks on the network the ESM's pollers use: broker ports, AWS service access, VPC DNS.

The pollers' ENIs live where `Network.placement` says: for MSK, in the cluster's subnets with the
cluster's security groups (not the function's); for self-managed Kafka, in the VPC_SUBNET /
VPC_SECURITY_GROUP source access configuration, or on the internet (nothing to check here).

Each finding carries the static reachability of every path it depends on (`evidence["paths"]`) and
the smallest fix as data the actions turn into changes: security-group `rules` that reference
security groups (or, for a self-managed broker, at most the VPC's own CIDR), endpoints to create,
and `manual_steps` for what no safe API call can do (NACL rules, opening 443 to the internet).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from remediate import kafka
from remediate.checks.base import check
from remediate.facts import Esm, Facts, Nacl, Network, VpcEndpoint
from remediate.findings import Finding
from remediate.reachability import (
    Block,
    PathResult,
    Peer,
    cidr_contains,
    evaluate,
    groups_allow,
    nat_route,
    route_table_of,
)

HTTPS = 443
DESTINATION_SERVICES = frozenset({"sqs", "sns", "s3"})
ENDPOINT_GROUP_KEY = "vpce-sg"
"""The draft key of a security group created for endpoints: later drafts use `${vpce-sg.GroupId}`."""


def endpoint_group_name(vpc_id: str) -> str:
    """One name per VPC, so a re-run (or a concurrent run) finds the group instead of making another."""
    return f"remediate-endpoints-{vpc_id}"


# --- what the ESM needs ---------------------------------------------------------------------------


def broker_ports(facts: Facts) -> tuple[int, ...]:
    return kafka.broker_ports(facts.esm, facts.cluster)


def required_services(facts: Facts) -> tuple[str, ...]:
    """Lambda and STS always; Secrets Manager when a secret is configured; the on-failure destination."""
    esm = facts.esm
    services = ["lambda", "sts"]
    if any(a.type not in kafka.NETWORK_TYPES for a in esm.source_access):
        services.append("secretsmanager")
    destination = _destination_service(esm)
    if destination:
        services.append(destination)
    return tuple(services)


def _destination_service(esm: Esm) -> str | None:
    arn = esm.on_failure_destination or ""
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 and parts[2] in DESTINATION_SERVICES else None


def _sources(net: Network) -> list[Peer]:
    return [
        Peer(f"ENI in {s.id}", s.cidr, s.id, net.source_security_group_ids)
        for s in sorted(net.subnets, key=lambda s: (s.availability_zone, s.id))
    ]


def _merge(source: Peer, label: str, port: int, results: list[PathResult]) -> PathResult:
    """One result per source for a destination spread over several subnets (brokers, endpoint ENIs)."""
    blocks = tuple(dict.fromkeys(b for r in results for b in r.blocks))
    assumed = any(r.dest.assumed for r in results)
    cidr = ", ".join(dict.fromkeys(r.dest.cidr for r in results))
    return PathResult(source, Peer(label, cidr, assumed=assumed), port, blocks)


def _manual_nacl(net: Network, block: Block) -> str:
    nacl = next(n for n in net.nacls if n.id == block.resource)
    egress = block.direction == "egress"
    below = block.rule_number or 32767
    number = _free_rule_number(nacl, egress, below)
    lo, hi = block.ports or (0, 65535)
    return (
        f"NACL {nacl.id} {block.detail}. Add an allow rule numbered below {below} "
        f"(remediate does not change NACLs, which other subnets share): aws ec2 create-network-acl-entry "
        f"--network-acl-id {nacl.id} {'--egress' if egress else '--ingress'} --rule-number {number} "
        f"--protocol tcp --port-range From={lo},To={hi} --cidr-block {block.cidr} --rule-action allow"
    )


def _free_rule_number(nacl: Nacl, egress: bool, below: int) -> int:
    used = {e.rule_number for e in nacl.entries if e.egress == egress}
    return next(n for n in range(below - 1, 0, -1) if n not in used)


def _rule(
    direction: str, group_id: str, port: int, description: str, *, peer_group: str = "", cidr: str = ""
) -> dict[str, Any]:
    """A security-group rule to add, in the shape the authorize_sg_* actions take."""
    rule: dict[str, Any] = {
        "direction": direction,
        "GroupId": group_id,
        "IpProtocol": "tcp",
        "FromPort": port,
        "ToPort": port,
        "Description": description,
    }
    if peer_group:
        rule["PeerGroupId"] = peer_group
    else:
        rule["CidrIp"] = cidr
    return rule


# --- broker ports ---------------------------------------------------------------------------------


def _broker_dests(facts: Facts, net: Network, port: int) -> list[Peer]:
    if facts.esm.source_kind == "msk":
        groups = facts.cluster.security_group_ids if facts.cluster else net.source_security_group_ids
        return [Peer(f"brokers in {s.id}", s.cidr, s.id, groups) for s in net.subnets]
    dests = []
    vpc_cidr = net.vpc.cidr if net.vpc else "0.0.0.0/0"
    for server in facts.esm.bootstrap_servers:
        host, _, server_port = server.rpartition(":")
        if server_port != str(port):
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


@check("broker_ports", "BROKER_PORTS_BLOCKED")
def broker_ports_blocked(facts: Facts) -> list[Finding]:
    """Security groups or NACLs block the broker port, or 443 egress to AWS services through a NAT."""
    net = facts.network
    if net is None or net.placement == "internet" or not net.subnets:
        return []
    msk = facts.esm.source_kind == "msk"
    sources = _sources(net)
    results: list[PathResult] = []
    for port in broker_ports(facts):
        dests = _broker_dests(facts, net, port)
        for src in sources:
            label = f"brokers ({', '.join(dests[0].group_ids)})" if msk and dests else "brokers"
            results.append(
                _merge(src, label, port, [evaluate(net, src, d, port, dest_ingress=msk) for d in dests])
            )
    nat_paths = [] if facts.esm.provisioned_pollers else _nat_https(net, sources)
    blocked = [r for r in (*results, *nat_paths) if not r.allowed]
    if not blocked:
        return []
    rules: list[dict[str, Any]] = []
    manual: list[str] = []
    source_group = net.source_security_group_ids[0] if net.source_security_group_ids else ""
    for r in results:
        for b in r.blocks:
            if b.element == "NACL":
                manual.append(_manual_nacl(net, b))
            elif b.direction == "ingress" and facts.cluster and facts.cluster.security_group_ids:
                rules.append(
                    _rule(
                        "ingress",
                        facts.cluster.security_group_ids[0],
                        r.port,
                        f"remediate: Lambda ESM pollers to brokers tcp/{r.port}",
                        peer_group=source_group,
                    )
                )
            elif b.direction == "egress" and source_group and msk and facts.cluster:
                rules.append(
                    _rule(
                        "egress",
                        source_group,
                        r.port,
                        f"remediate: Lambda ESM pollers to brokers tcp/{r.port}",
                        peer_group=facts.cluster.security_group_ids[0],
                    )
                )
            elif b.direction == "egress" and source_group:
                rules += [
                    _rule(
                        "egress",
                        source_group,
                        r.port,
                        f"remediate: Lambda ESM pollers to brokers tcp/{r.port}",
                        cidr=cidr,
                    )
                    for cidr in _unreached_broker_cidrs(facts, net, r.port)
                ]
    for r in nat_paths:
        if not r.allowed:
            manual.append(
                f"Allow outbound tcp/443 from {source_group} to the AWS service endpoints reached through "
                "the NAT gateway (remediate never opens a security group to addresses outside the VPC): "
                f"aws ec2 authorize-security-group-egress --group-id {source_group} --ip-permissions "
                "IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=0.0.0.0/0}]"
            )
    ports = "/".join(str(p) for p in broker_ports(facts))
    return [
        Finding(
            code="BROKER_PORTS_BLOCKED",
            summary=f"{len(blocked)} of {len(results) + len(nat_paths)} network paths of the ESM are blocked "
            f"(broker port {ports}{', 443 through NAT' if nat_paths else ''})",
            evidence={
                "placement": net.placement,
                "ports": list(broker_ports(facts)),
                "paths": [r.line() for r in (*results, *nat_paths)],
                "rules": list({_rule_key(x): x for x in rules}.values()),
                "manual_steps": list(dict.fromkeys(manual)),
            },
        )
    ]


def _unreached_broker_cidrs(facts: Facts, net: Network, port: int) -> list[str]:
    """Self-managed brokers the pollers' egress does not reach: each by its own address when given as
    an IP, else the VPC's CIDR (where the brokers are assumed to be; never anything wider)."""
    groups = net.source_security_group_ids
    return list(
        dict.fromkeys(
            d.cidr
            for d in _broker_dests(facts, net, port)
            if not groups_allow(net, groups, "egress", port, d)
        )
    )


def _rule_key(rule: dict[str, Any]) -> str:
    return "|".join(
        str(rule.get(k, "")) for k in ("direction", "GroupId", "FromPort", "PeerGroupId", "CidrIp")
    )


def _nat_https(net: Network, sources: list[Peer]) -> list[PathResult]:
    """443 to AWS services through a NAT gateway needs an egress rule to the internet."""
    internet = Peer("AWS services via NAT", "0.0.0.0/0")
    out = []
    for src in sources:
        if src.subnet_id and nat_route(net, src.subnet_id):
            out.append(evaluate(net, src, internet, HTTPS, dest_ingress=False))
    return out


# --- service endpoints ----------------------------------------------------------------------------


def service_name(facts: Facts, service: str) -> str:
    return f"com.amazonaws.{facts.region}.{service}"


def _live_endpoint(net: Network, name: str) -> VpcEndpoint | None:
    return next((e for e in net.endpoints if e.service_name == name and e.live), None)


def _endpoint_paths(
    net: Network, sources: list[Peer], endpoint: VpcEndpoint, service: str
) -> list[PathResult]:
    by_id = {s.id: s for s in net.subnets}
    dests = [
        Peer(f"{service} endpoint ENI in {sid}", by_id[sid].cidr, sid, endpoint.security_group_ids)
        for sid in endpoint.subnet_ids
        if sid in by_id
    ]
    return [
        _merge(src, f"{service} endpoint {endpoint.id}", HTTPS, [evaluate(net, src, d, HTTPS) for d in dests])
        for src in sources
    ]


def _gateway_paths(
    net: Network, sources: list[Peer], endpoint: VpcEndpoint, service: str
) -> list[PathResult]:
    out = []
    for src in sources:
        table = route_table_of(net, src.subnet_id or "")
        blocks: list[Block] = []
        if table is None or table.id not in endpoint.route_table_ids:
            blocks.append(
                Block("route", table.id if table else "(none)", f"no route to the {service} gateway endpoint")
            )
        if not _egress_to_aws(net, src.group_ids):
            blocks.append(
                Block("SG", ", ".join(src.group_ids), f"no egress rule allows tcp/443 to {service}")
            )
        out.append(
            PathResult(src, Peer(f"{service} gateway endpoint {endpoint.id}", service), HTTPS, tuple(blocks))
        )
    return out


def _egress_to_aws(net: Network, group_ids: tuple[str, ...]) -> bool:
    """443 out to AWS's public ranges: to everywhere, or to a prefix list (S3's, for a gateway endpoint)."""
    groups = [g for g in (net.group(gid) for gid in group_ids) if g is not None]
    return any(
        r.covers_port(HTTPS) and (r.prefix_list_id is not None or r.cidr in ("0.0.0.0/0", "::/0"))
        for g in groups
        for r in g.egress
    )


def _missing_paths(net: Network, sources: list[Peer], service: str, vpc_id: str) -> list[PathResult]:
    out = []
    for src in sources:
        table = route_table_of(net, src.subnet_id or "")
        block = Block(
            "route",
            table.id if table else "(no route table)",
            f"no NAT gateway route and no {service} endpoint in {vpc_id}",
        )
        out.append(PathResult(src, Peer(service, "AWS"), HTTPS, (block,)))
    return out


def _one_subnet_per_az(net: Network) -> list[str]:
    chosen: dict[str, str] = {}
    for s in sorted(net.subnets, key=lambda s: (s.availability_zone, s.id)):
        chosen.setdefault(s.availability_zone, s.id)
    return list(chosen.values())


class _EndpointPlan:
    """Accumulates the evidence of SERVICE_ENDPOINTS_UNREACHABLE: paths, and the fix as data."""

    def __init__(self, facts: Facts, net: Network) -> None:
        assert net.vpc is not None
        self.facts, self.net, self.vpc_id = facts, net, net.vpc.id
        self.sources = _sources(net)
        self.source_group = net.source_security_group_ids[0] if net.source_security_group_ids else ""
        self.paths: list[PathResult] = []
        self.rules: list[dict[str, Any]] = []
        self.manual: list[str] = []
        self.endpoints: list[dict[str, Any]] = []
        self.create_group: dict[str, Any] | None = None
        self._group: tuple[str, str] | None = None  # (id or reference, name) for new endpoints

    def existing(self, endpoint: VpcEndpoint, service: str) -> None:
        if endpoint.type == "Gateway":
            results = _gateway_paths(self.net, self.sources, endpoint, service)
            self.paths += results
            for r in results:
                for b in r.blocks:
                    self.manual.append(self._gateway_step(endpoint, b))
            return
        if not endpoint.private_dns:
            # Only reached without a NAT route: the service's public name then leads nowhere.
            self.paths += [
                PathResult(
                    src,
                    Peer(f"{service} endpoint {endpoint.id}", "AWS"),
                    HTTPS,
                    (
                        Block(
                            "route",
                            endpoint.id,
                            "private DNS is off, so the service name resolves to public IPs",
                        ),
                    ),
                )
                for src in self.sources
            ]
            self.manual.append(
                f"Turn on private DNS for the {service} endpoint {endpoint.id} so the ESM's calls reach it: "
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {endpoint.id} --private-dns-enabled"
            )
        results = _endpoint_paths(self.net, self.sources, endpoint, service)
        self.paths += results
        group = endpoint.security_group_ids[0] if endpoint.security_group_ids else ""
        for r in results:
            for b in r.blocks:
                if b.element == "NACL":
                    self.manual.append(_manual_nacl(self.net, b))
                elif b.direction == "ingress" and group and self.source_group:
                    self.rules.append(self._ingress(group))
                elif b.direction == "egress" and group and self.source_group:
                    self.rules.append(self._egress(group))

    def _gateway_step(self, endpoint: VpcEndpoint, block: Block) -> str:
        if block.element == "route":
            return (
                f"Associate route table {block.resource} with the gateway endpoint {endpoint.id}: "
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {endpoint.id} "
                f"--add-route-table-ids {block.resource}"
            )
        return (
            f"Allow outbound tcp/443 from {self.source_group} to the S3 prefix list of {endpoint.id} "
            f"(aws ec2 describe-prefix-lists names it): aws ec2 authorize-security-group-egress --group-id "
            f"{self.source_group} --ip-permissions "
            "IpProtocol=tcp,FromPort=443,ToPort=443,PrefixListIds=[{PrefixListId=PL_ID}]"
        )

    def _ingress(self, group: str) -> dict[str, Any]:
        return _rule(
            "ingress",
            group,
            HTTPS,
            "remediate: Lambda ESM pollers to VPC endpoints",
            peer_group=self.source_group,
        )

    def _egress(self, group: str, name: str = "") -> dict[str, Any]:
        rule = _rule(
            "egress",
            self.source_group,
            HTTPS,
            "remediate: Lambda ESM pollers to VPC endpoints",
            peer_group=group,
        )
        if name:
            rule["PeerGroupName"] = name
        return rule

    def missing(self, service: str) -> None:
        self.paths += _missing_paths(self.net, self.sources, service, self.vpc_id)
        name = service_name(self.facts, service)
        if service == "s3":
            tables = sorted(
                {t.id for s in self.sources if (t := route_table_of(self.net, s.subnet_id or "")) is not None}
            )
            self.endpoints.append(
                {
                    "VpcId": self.vpc_id,
                    "ServiceName": name,
                    "VpcEndpointType": "Gateway",
                    "RouteTableIds": tables,
                }
            )
            return
        group = self._endpoint_group()
        self.endpoints.append(
            {
                "VpcId": self.vpc_id,
                "ServiceName": name,
                "VpcEndpointType": "Interface",
                "PrivateDnsEnabled": True,
                "SubnetIds": _one_subnet_per_az(self.net),
                "SecurityGroupIds": [group],
            }
        )

    def _endpoint_group(self) -> str:
        """The group for new endpoints: one that already admits 443 from the pollers, else an existing
        endpoint group (or ours from an earlier run) given the rule, else a new one."""
        if self._group is not None:
            return self._group[0]
        net, name = self.net, endpoint_group_name(self.vpc_id)
        ours = [g.id for g in net.security_groups if g.name == name]
        used = [g for e in net.endpoints if e.type == "Interface" for g in e.security_group_ids]
        candidates = list(dict.fromkeys([*ours, *used]))
        fits = [
            g for g in candidates if all(groups_allow(net, (g,), "ingress", HTTPS, s) for s in self.sources)
        ]
        if fits:
            self._group = (fits[0], "")
        elif candidates:
            self._group = (candidates[0], "")
            self.rules.append(self._ingress(candidates[0]))
        else:
            ref = "${" + ENDPOINT_GROUP_KEY + ".GroupId}"
            self._group = (ref, name)
            self.create_group = {
                "key": ENDPOINT_GROUP_KEY,
                "GroupName": name,
                "Description": "remediate: interface endpoints reached by Lambda ESM pollers",
                "VpcId": self.vpc_id,
                "Ingress": [
                    {
                        "IpProtocol": "tcp",
                        "FromPort": HTTPS,
                        "ToPort": HTTPS,
                        "SourceGroupId": self.source_group,
                        "Description": "remediate: Lambda ESM pollers to VPC endpoints",
                    }
                ],
            }
        group_id, group_name = self._group
        new_ids = (group_id,) if not group_name else ("(new group)",)
        by_id = {s.id: s for s in net.subnets}
        targets = [Peer("endpoint", by_id[s].cidr, s, new_ids) for s in _one_subnet_per_az(net)]
        if self.source_group and not all(
            groups_allow(net, src.group_ids, "egress", HTTPS, t) for src in self.sources for t in targets
        ):
            self.rules.append(self._egress(group_id, group_name))
        return group_id

    def evidence(self, services: tuple[str, ...], no_nat: list[str]) -> dict[str, Any]:
        return {
            "placement": self.net.placement,
            "vpc_id": self.vpc_id,
            "services": list(services),
            "subnets_without_nat": no_nat,
            "paths": [r.line() for r in self.paths],
            "create_group": self.create_group,
            "endpoints": self.endpoints,
            "rules": list({_rule_key(x): x for x in self.rules}.values()),
            "manual_steps": list(dict.fromkeys(self.manual)),
        }


def _needs_endpoints(facts: Facts) -> tuple[Network | None, list[str]]:
    """The network and its subnets without a NAT route, when the ESM needs AWS services from a VPC."""
    net = facts.network
    if net is None or net.placement == "internet" or net.vpc is None or not net.subnets:
        return None, []
    if facts.esm.provisioned_pollers:
        return None, []
    return net, [s.id for s in net.subnets if nat_route(net, s.id) is None]


@check("service_endpoints", "SERVICE_ENDPOINTS_UNREACHABLE")
def service_endpoints_unreachable(facts: Facts) -> list[Finding]:
    """Without a NAT route, the pollers need VPC endpoints for Lambda, STS, Secrets Manager, the destination.

    With a NAT route an existing private-DNS endpoint still captures the service's name, so its
    security groups must admit the pollers either way. Provisioned-mode ESMs need none of this.
    """
    net, no_nat = _needs_endpoints(facts)
    if net is None:
        return []
    services = required_services(facts)
    plan = _EndpointPlan(facts, net)
    missing = []
    for service in services:
        endpoint = _live_endpoint(net, service_name(facts, service))
        if endpoint is not None and (no_nat or endpoint.private_dns):
            plan.existing(endpoint, service)
        elif endpoint is None and no_nat:
            missing.append(service)
            plan.missing(service)
    blocked = [r for r in plan.paths if not r.allowed]
    if not blocked:
        return []
    what = f"missing endpoint(s) for {', '.join(missing)}" if missing else "endpoint paths blocked"
    where = f"subnets {', '.join(no_nat)} have no NAT gateway route; " if no_nat else ""
    return [
        Finding(
            code="SERVICE_ENDPOINTS_UNREACHABLE",
            summary=f"{where}{what} ({len(blocked)} blocked path(s))",
            evidence=plan.evidence(services, no_nat),
        )
    ]


# --- VPC DNS --------------------------------------------------------------------------------------


@check("vpc_dns", "VPC_DNS_DISABLED")
def vpc_dns_disabled(facts: Facts) -> list[Finding]:
    """Private-DNS endpoints resolve only when the VPC has both DNS support and DNS hostnames on."""
    net, no_nat = _needs_endpoints(facts)
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
    for service in required_services(facts):
        endpoint = _live_endpoint(net, service_name(facts, service))
        label = f"{service} endpoint {endpoint.id}" if endpoint else f"{service} endpoint (to be created)"
        paths += [PathResult(src, Peer(label, "VPC"), HTTPS, (block,)) for src in _sources(net)]
    return [
        Finding(
            code="VPC_DNS_DISABLED",
            summary=f"VPC {vpc.id} has {' and '.join(off)} off, so private-DNS endpoints do not resolve",
            evidence={
                "vpc_id": vpc.id,
                "enableDnsSupport": vpc.dns_support,
                "enableDnsHostnames": vpc.dns_hostnames,
                "paths": [r.line() for r in paths],
            },
        )
    ]
