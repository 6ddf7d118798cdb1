"""How the network actions fix blocked paths: the rules to add, the endpoints and group to create, and
the manual steps for what no safe API call can do (NACL rules, opening 443 to the internet, private
DNS on an endpoint someone else owns). Pure: typed evidence and `Facts` in, a `NetworkFix` out.

Every security-group rule planned here references a security group, or (for a self-managed broker
given by address) that broker's own address, at most the VPC's CIDR: never 0.0.0.0/0. The security
group, endpoint and rule actions each take their part of the same `NetworkFix`, so they agree.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from remediate import poller_paths
from remediate.evidence import BlockedPath, BrokerPortsBlocked, NetworkBlock, ServiceEndpointsUnreachable
from remediate.facts import Facts, Nacl, Network, SecurityGroup, VpcEndpoint
from remediate.poller_paths import HTTPS
from remediate.reachability import Peer, groups_allow, route_table_of

ENDPOINT_GROUP_KEY = "vpce-sg"
"""The draft key of a security group created for endpoints: later drafts use `${vpce-sg.GroupId}`."""
BROKER_RULE = "remediate: Lambda ESM pollers to brokers tcp/{port}"
ENDPOINT_RULE = "remediate: Lambda ESM pollers to VPC endpoints"


def endpoint_group_name(vpc_id: str) -> str:
    """One name per VPC, so a re-run (or a concurrent run) finds the group instead of making another."""
    return f"remediate-endpoints-{vpc_id}"


@dataclass
class NetworkFix:
    """What the network actions plan for one finding, in the order they were decided."""

    rules: list[dict[str, Any]] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    create_group: dict[str, Any] | None = None

    def unique_rules(self) -> list[dict[str, Any]]:
        keys = ("direction", "GroupId", "FromPort", "PeerGroupId", "CidrIp")
        return list({"|".join(str(r.get(k, "")) for k in keys): r for r in self.rules}.values())

    def unique_manual(self) -> list[str]:
        return list(dict.fromkeys(self.manual))


def rule(
    direction: str, group_id: str, port: int, description: str, *, peer_group: str = "", cidr: str = ""
) -> dict[str, Any]:
    """A security-group rule to add, in the shape the authorize_sg_* actions take."""
    out: dict[str, Any] = {
        "direction": direction,
        "GroupId": group_id,
        "IpProtocol": "tcp",
        "FromPort": port,
        "ToPort": port,
        "Description": description,
    }
    if peer_group:
        out["PeerGroupId"] = peer_group
    else:
        out["CidrIp"] = cidr
    return out


# --- the security-group rule quota -----------------------------------------------------------------


def rule_counts(group: SecurityGroup, direction: str) -> dict[int, int]:
    """How many rules AWS counts against the group's quota in one direction, per IP version.

    Amazon VPC user guide, "Amazon VPC quotas" (Inbound or outbound rules per security group): the
    quota "is enforced separately for inbound and outbound rules" and "separately for IPv4 rules and
    IPv6 rules"; "Security group rules", Security group size: a rule that references a CIDR block or
    another security group "counts as one rule", one that references a prefix list counts as the
    list's maximum size (or weight). The page does not tie a group or prefix-list reference to one
    IP version, so they count in both (the tool stops early rather than fail mid-apply), and a prefix
    list counts at least one: its size is not read, so the count is a lower bound there.
    """
    rules = group.ingress if direction == "ingress" else group.egress
    counts = {4: 0, 6: 0}
    for r in rules:
        if r.cidr is not None:
            counts[ipaddress.ip_network(r.cidr, strict=False).version] += 1
        else:
            counts[4] += 1
            counts[6] += 1
    return counts


def _versions(rule_: dict[str, Any]) -> tuple[int, ...]:
    cidr = rule_.get("CidrIp")
    return (ipaddress.ip_network(cidr, strict=False).version,) if cidr else (4, 6)


def within_quota(fix: NetworkFix, net: Network) -> NetworkFix:
    """Rules a group has no room for become manual steps at plan time: AWS refuses the next rule of a
    group at its quota (RulesPerSecurityGroupLimitExceeded), which would stop an apply half-way."""
    quota = net.sg_rule_quota
    planned: dict[tuple[str, str, int], int] = {}
    kept = []
    for r in fix.unique_rules():
        group = net.group(r["GroupId"])
        if group is None:  # a group this plan creates starts empty
            kept.append(r)
            continue
        counts = rule_counts(group, r["direction"])
        versions = _versions(r)
        full = [v for v in versions if counts[v] + planned.get((group.id, r["direction"], v), 0) + 1 > quota]
        if not full:
            for v in versions:
                key = (group.id, r["direction"], v)
                planned[key] = planned.get(key, 0) + 1
            kept.append(r)
            continue
        fix.manual.append(
            f"Security group {group.id} already has {counts[full[0]]} {r['direction']} IPv{full[0]} rules "
            "and "
            f'the quota is {quota} (Amazon VPC quotas, "Inbound or outbound rules per security group", '
            f"vpc/L-0EA8095F): AWS would refuse another rule (RulesPerSecurityGroupLimitExceeded). Remove or "
            f"merge a rule, or raise the quota, then add tcp/{r['FromPort']} "
            f"{'from' if r['direction'] == 'ingress' else 'to'} {r.get('PeerGroupId') or r.get('CidrIp')}: "
            f"aws ec2 authorize-security-group-{r['direction']} --group-id {group.id} --ip-permissions "
            f"IpProtocol=tcp,FromPort={r['FromPort']},ToPort={r['ToPort']},"
            + (
                f"UserIdGroupPairs=[{{GroupId={r['PeerGroupId']}}}]"
                if r.get("PeerGroupId")
                else f"IpRanges=[{{CidrIp={r['CidrIp']}}}]"
            )
        )
    fix.rules = kept
    return fix


_NAT_EGRESS = (
    "Allow outbound tcp/443 from {group} to the AWS service endpoints reached through the NAT gateway "
    "(remediate never opens a security group to addresses outside the VPC): aws ec2 "
    "authorize-security-group-egress --group-id {group} --ip-permissions "
    "IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{{CidrIp=0.0.0.0/0}}]"
)


def manual_nacl(net: Network, block: NetworkBlock) -> str:
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


def _source_group(net: Network) -> str:
    return net.source_security_group_ids[0] if net.source_security_group_ids else ""


# --- brokers --------------------------------------------------------------------------------------


def broker_fix(facts: Facts, evidence: BrokerPortsBlocked) -> NetworkFix:
    """Rules that let the pollers reach the brokers, and manual steps for NACLs and 443 through NAT."""
    fix = NetworkFix()
    net = facts.network
    if net is None:
        return fix
    source_group = _source_group(net)
    cluster_groups = facts.cluster.security_group_ids if facts.cluster else ()
    msk = facts.esm.source_kind == "msk"
    for path in evidence.blocked:
        if path.target == "nat":
            # issue 24 (item 6): the NACLs on the way (the pollers' subnet's and the NAT gateway's) each get
            # their own step; the security group's egress its own.
            fix.manual += [manual_nacl(net, b) for b in path.blocks if b.element == "NACL"]
            if any(b.element == "SG" for b in path.blocks):
                fix.manual.append(_NAT_EGRESS.format(group=source_group))
            continue
        description = BROKER_RULE.format(port=path.port)
        planned = (len(fix.rules), len(fix.manual))
        for b in path.blocks:
            if b.element == "NACL":
                fix.manual.append(manual_nacl(net, b))
            elif b.direction == "ingress" and cluster_groups:
                fix.rules.append(
                    rule("ingress", cluster_groups[0], path.port, description, peer_group=source_group)
                )
            elif b.direction == "ingress" and not msk and source_group and b.resource.startswith("sg-"):
                # issue 21 (item 6): a self-managed broker's own group (its interface's first group)
                # admits the mapping's group on that one port.
                broker_group = b.resource.split(", ")[0]
                fix.rules.append(
                    rule("ingress", broker_group, path.port, description, peer_group=source_group)
                )
            elif b.direction == "egress" and source_group and msk and cluster_groups:
                fix.rules.append(
                    rule("egress", source_group, path.port, description, peer_group=cluster_groups[0])
                )
            elif b.direction == "egress" and source_group:
                fix.rules += [
                    rule("egress", source_group, path.port, description, cidr=cidr)
                    for cidr in _unreached_broker_cidrs(facts, net, path.port)
                ]
        if (len(fix.rules), len(fix.manual)) == planned:
            # issue 24 (N3): a blocked path is never left without a change or a step.
            fix.manual.append(
                f"Open tcp/{path.port} from the pollers in {path.source_subnet} to the brokers by hand: "
                "remediate plans no rule for it "
                f"({'; '.join(f'{b.element} {b.resource}: {b.detail}' for b in path.blocks)})"
            )
    return within_quota(fix, net)


def _unreached_broker_cidrs(facts: Facts, net: Network, port: int) -> list[str]:
    """Self-managed brokers the pollers' egress does not reach: each by its own address when given as
    an IP, else the VPC's CIDR (where the brokers are assumed to be; never anything wider)."""
    groups = net.source_security_group_ids
    return list(
        dict.fromkeys(
            d.cidr
            for d in poller_paths.broker_destinations(facts, net, port)
            if not groups_allow(net, groups, "egress", port, d)
        )
    )


# --- service endpoints ----------------------------------------------------------------------------


def endpoint_fix(facts: Facts, evidence: ServiceEndpointsUnreachable) -> NetworkFix:
    """Endpoints for missing services (in one group that admits the pollers), rules for endpoints whose
    groups block them, and manual steps for the rest; services in the order the finding lists them."""
    net = facts.network
    if net is None:
        return NetworkFix()
    planner = _EndpointFixer(facts, net, evidence.vpc_id)
    for service in evidence.services:
        if service in evidence.missing:
            planner.missing(service)
            continue
        paths = [p for p in evidence.blocked if p.service == service]
        endpoint = next((e for e in net.endpoints if e.id == (paths[0].endpoint_id if paths else None)), None)
        if endpoint is not None:
            planner.existing(endpoint, service, paths)
    return within_quota(planner.fix, net)


class _EndpointFixer:
    def __init__(self, facts: Facts, net: Network, vpc_id: str) -> None:
        self.facts, self.net, self.vpc_id = facts, net, vpc_id
        self.sources = poller_paths.sources(net)
        self.source_group = _source_group(net)
        self.fix = NetworkFix()
        self._group: tuple[str, str] | None = None  # (id or reference, name) for new endpoints

    def existing(self, endpoint: VpcEndpoint, service: str, paths: list[BlockedPath]) -> None:
        if endpoint.type == "Gateway":
            self.fix.manual += [self._gateway_step(endpoint, b) for p in paths for b in p.blocks]
            return
        if not endpoint.private_dns:
            # Only reached without a NAT route: the service's public name then leads nowhere.
            self.fix.manual.append(
                f"Turn on private DNS for the {service} endpoint {endpoint.id} so the ESM's calls reach it: "
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {endpoint.id} --private-dns-enabled"
            )
        group = endpoint.security_group_ids[0] if endpoint.security_group_ids else ""
        for b in (b for p in paths for b in p.blocks):
            if b.element == "NACL":
                self.fix.manual.append(manual_nacl(self.net, b))
            elif b.element == "SG" and b.direction == "ingress" and group and self.source_group:
                self.fix.rules.append(self._ingress(group))
            elif b.element == "SG" and b.direction == "egress" and group and self.source_group:
                self.fix.rules.append(self._egress(group))

    def _gateway_step(self, endpoint: VpcEndpoint, block: NetworkBlock) -> str:
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
        return rule("ingress", group, HTTPS, ENDPOINT_RULE, peer_group=self.source_group)

    def _egress(self, group: str, name: str = "") -> dict[str, Any]:
        out = rule("egress", self.source_group, HTTPS, ENDPOINT_RULE, peer_group=group)
        if name:
            out["PeerGroupName"] = name
        return out

    def missing(self, service: str) -> None:
        name = poller_paths.service_name(self.facts, service)
        if service == "s3":
            tables = sorted(
                {t.id for s in self.sources if (t := route_table_of(self.net, s.subnet_id or "")) is not None}
            )
            if not self._gateway_preconditions(name, tables):
                return
            self.fix.endpoints.append(
                {
                    "VpcId": self.vpc_id,
                    "ServiceName": name,
                    "VpcEndpointType": "Gateway",
                    "RouteTableIds": tables,
                }
            )
            return
        subnets = self._preconditions(service, name)
        if not subnets:
            return
        group = self._endpoint_group()
        self.fix.endpoints.append(
            {
                "VpcId": self.vpc_id,
                "ServiceName": name,
                "VpcEndpointType": "Interface",
                "PrivateDnsEnabled": True,
                "SubnetIds": subnets,
                "SecurityGroupIds": [group],
            }
        )

    def _gateway_preconditions(self, name: str, tables: list[str]) -> bool:
        """issue 24 (N15): an S3 gateway endpoint planned whole. Within "Gateway VPC endpoints per Region"
        (20 by default, AWS PrivateLink quotas; the count is read Region-wide, a count not read is no
        reason to stop), else a manual step; and the pollers' security group must let tcp/443 out to the
        endpoint's prefix list, which a new gateway endpoint does not open: a manual step naming it (its id
        is known once the endpoint exists, `aws ec2 describe-prefix-lists`)."""
        net = self.net
        planned = sum(1 for e in self.fix.endpoints if e["VpcEndpointType"] == "Gateway")
        count = net.gateway_endpoints_in_region
        if count is not None and count + planned + 1 > net.gateway_endpoint_quota:
            self.fix.manual.append(
                f"The account has {count} gateway endpoints in {self.facts.region} and the quota is "
                f'{net.gateway_endpoint_quota} (AWS PrivateLink quotas, "Gateway VPC endpoints per Region"): '
                "AWS would refuse another (VpcEndpointLimitExceeded). Delete an unused one or raise the "
                f"quota, then create it: aws ec2 create-vpc-endpoint --vpc-id {self.vpc_id} "
                f"--vpc-endpoint-type Gateway --service-name {name} --route-table-ids {' '.join(tables)}"
            )
            return False
        if self.source_group and not poller_paths.egress_to_aws(net, net.source_security_group_ids):
            self.fix.manual.append(
                f"Allow outbound tcp/443 from {self.source_group} to the S3 prefix list of the new gateway "
                f"endpoint (aws ec2 describe-prefix-lists --filters Name=prefix-list-name,Values={name}): "
                f"aws ec2 authorize-security-group-egress --group-id {self.source_group} --ip-permissions "
                "IpProtocol=tcp,FromPort=443,ToPort=443,PrefixListIds=[{PrefixListId=PL_ID}]"
            )
        return True

    def _preconditions(self, service: str, name: str) -> list[str]:
        """The subnets for a new interface endpoint, or none (and a manual step) when AWS would refuse
        CreateVpcEndpoint: the service not offered here, no offered Availability Zone with a free
        address among the pollers' subnets, the VPC at its interface endpoint quota, or a private
        hosted zone for the service's name already associated (a centralised endpoint)."""
        net = self.net
        offered = net.service(name) if net.endpoint_services is not None else None
        if net.endpoint_services is not None and (offered is None or "Interface" not in offered.types):
            self.fix.manual.append(
                f"{name} is not offered as an interface endpoint service in {self.facts.region} "
                "(DescribeVpcEndpointServices): give the subnets a NAT gateway route instead"
            )
            return []
        zone = poller_paths.covering_zone(self.facts, net, service)
        if zone is not None:
            self.fix.manual.append(
                f"Private hosted zone {zone.id} ({zone.name}) is associated with {self.vpc_id}, so AWS "
                f"refuses a private-DNS {service} endpoint here (conflicting DNS domain): make sure the "
                "endpoint that zone points to admits tcp/443 from the pollers' subnets and is routed "
                "from them"
            )
            return []
        forwarder = poller_paths.forwarding(self.facts, net, service)
        if forwarder is not None:  # issue 24 (N10)
            self.fix.manual.append(
                f"{poller_paths.forwarder_text(net, forwarder)}: the pollers' queries for {service} go "
                f"there, so no private-DNS {service} endpoint is created here. Make sure what those "
                "servers answer for "
                f"{poller_paths.service_dns_name(self.facts, service)} admits tcp/443 from the pollers' "
                "subnets and is routed from them"
            )
            return []
        subnets = poller_paths.one_subnet_per_az(net, offered.availability_zones if offered else None)
        if not subnets:
            self.fix.manual.append(
                f"No subnet of the pollers can take a {service} endpoint: none is in an Availability Zone "
                f"{name} is offered in ({', '.join(offered.availability_zones) if offered else 'unknown'}) "
                "with "
                "a free IP address. Add one (aws ec2 create-subnet) or free addresses, then create the "
                f"endpoint: aws ec2 create-vpc-endpoint --vpc-id {self.vpc_id} --vpc-endpoint-type Interface "
                f"--service-name {name} --private-dns-enabled --subnet-ids SUBNET_IDS "
                "--security-group-ids GROUP_ID"
            )
            return []
        live = sum(
            1 for e in net.endpoints if e.live and e.type.lower() in ("interface", "gatewayloadbalancer")
        )
        planned = sum(1 for e in self.fix.endpoints if e["VpcEndpointType"] == "Interface")
        if live + planned + 1 > net.interface_endpoint_quota:
            self.fix.manual.append(
                f"{self.vpc_id} has {live} interface endpoints, this plan creates {planned}, and the quota "
                "is "
                f'{net.interface_endpoint_quota} (Amazon VPC quotas, "Interface and Gateway Load Balancer '
                'endpoints per VPC", vpc/L-29B6F2EB): AWS would refuse another (VpcEndpointLimitExceeded). '
                f"Delete an unused endpoint or raise the quota, then create the {service} endpoint: aws ec2 "
                f"create-vpc-endpoint --vpc-id {self.vpc_id} --vpc-endpoint-type Interface "
                f"--service-name {name} "
                f"--private-dns-enabled --subnet-ids {' '.join(subnets)} --security-group-ids GROUP_ID"
            )
            return []
        return subnets

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
            self.fix.rules.append(self._ingress(candidates[0]))
        else:
            self._group = ("${" + ENDPOINT_GROUP_KEY + ".GroupId}", name)
            self.fix.create_group = {
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
                        "Description": ENDPOINT_RULE,
                    }
                ],
            }
        group_id, group_name = self._group
        new_ids = (group_id,) if not group_name else ("(new group)",)
        targets = [Peer("endpoint", s.address, s.id, new_ids) for s in net.subnets]
        if self.source_group and not all(
            groups_allow(net, src.group_ids, "egress", HTTPS, t) for src in self.sources for t in targets
        ):
            self.fix.rules.append(self._egress(group_id, group_name))
        return group_id


def fix_for(facts: Facts, evidence: object) -> NetworkFix:
    """The network fix of a finding the security-group and endpoint actions answer."""
    if isinstance(evidence, BrokerPortsBlocked):
        return broker_fix(facts, evidence)
    if isinstance(evidence, ServiceEndpointsUnreachable):
        return endpoint_fix(facts, evidence)
    return NetworkFix()
