"""API responses to `Facts` models: one converter per AWS shape, pure (no calls).

Observation (`reads`) feeds them what it read; actions re-read a resource after a change and convert
it the same way, so the two never disagree about what a response means.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from remediate.errors import InputError
from remediate.facts import (
    Cluster,
    ClusterAuth,
    Destination,
    DnsForwarder,
    EndpointService,
    Esm,
    Function,
    Nacl,
    NaclEntry,
    NatGateway,
    Route,
    RouteTable,
    SecurityGroup,
    SgRule,
    SourceAccess,
    SourceKind,
    Subnet,
    Vpc,
    VpcConnection,
    VpcEndpoint,
    VpcZone,
)


def policy_document(value: Any) -> dict[str, Any]:
    """IAM returns policy documents decoded by boto3, or URL-encoded JSON from some endpoints."""
    if isinstance(value, dict):
        return value
    return dict(json.loads(unquote(str(value))))


def esm_from_api(raw: dict[str, Any]) -> Esm:
    """Normalise a GetEventSourceMapping response; InputError if it is not a Kafka mapping."""
    uuid = raw["UUID"]
    source_arn = raw.get("EventSourceArn") or None
    self_managed = raw.get("SelfManagedEventSource")
    kind: SourceKind
    if source_arn and ":kafka:" in source_arn:
        kind = "msk"
        servers: tuple[str, ...] = ()
        config = raw.get("AmazonManagedKafkaEventSourceConfig") or {}
        group = config.get("ConsumerGroupId")
    elif self_managed:
        kind = "self-managed"
        servers = tuple(self_managed.get("Endpoints", {}).get("KAFKA_BOOTSTRAP_SERVERS", []))
        config = raw.get("SelfManagedKafkaEventSourceConfig") or {}
        group = config.get("ConsumerGroupId")
    else:
        service = (
            source_arn.split(":")[2] if source_arn and source_arn.count(":") >= 2 else "an unknown source"
        )
        raise InputError(f"ESM {uuid} polls {service} ({source_arn}), not Amazon MSK or Kafka")
    destination = raw.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    registry = config.get("SchemaRegistryConfig") or {}
    return Esm(
        uuid=uuid,
        arn=raw.get("EventSourceMappingArn") or "",
        function_arn=raw.get("FunctionArn", ""),
        state=raw.get("State", "Unknown"),
        state_transition_reason=raw.get("StateTransitionReason", "") or "",
        last_processing_result=raw.get("LastProcessingResult", "") or "",
        last_modified=str(raw["LastModified"]) if raw.get("LastModified") else None,
        batch_size=raw.get("BatchSize"),
        maximum_batching_window=raw.get("MaximumBatchingWindowInSeconds"),
        source_kind=kind,
        event_source_arn=source_arn,
        bootstrap_servers=servers,
        topics=tuple(raw.get("Topics", [])),
        source_access=tuple(
            SourceAccess(type=a["Type"], uri=a["URI"]) for a in raw.get("SourceAccessConfigurations", [])
        ),
        consumer_group_id=group or None,
        provisioned_pollers=bool(raw.get("ProvisionedPollerConfig")),
        on_failure_destination=destination or None,
        schema_registry_uri=registry.get("SchemaRegistryURI") or None,
        schema_registry_access=tuple(
            SourceAccess(type=a["Type"], uri=a["URI"]) for a in registry.get("AccessConfigs", []) or []
        ),
        maximum_retry_attempts=_int_or_default(raw.get("MaximumRetryAttempts")),
        maximum_record_age=_int_or_default(raw.get("MaximumRecordAgeInSeconds")),
        bisect_on_error=bool(raw.get("BisectBatchOnFunctionError")),
        report_batch_item_failures="ReportBatchItemFailures" in (raw.get("FunctionResponseTypes") or ()),
        filter_patterns=tuple(
            str(f.get("Pattern", "")) for f in (raw.get("FilterCriteria") or {}).get("Filters", []) or []
        ),
        metrics_config=tuple((raw.get("MetricsConfig") or {}).get("Metrics", []) or []),
        starting_position=raw.get("StartingPosition") or None,  # issue 25
        minimum_pollers=(raw.get("ProvisionedPollerConfig") or {}).get("MinimumPollers"),
        maximum_pollers=(raw.get("ProvisionedPollerConfig") or {}).get("MaximumPollers"),
        system_log_level=(raw.get("LoggingConfig") or {}).get("SystemLogLevel") or None,  # issue 21
    )


def _int_or_default(value: Any) -> int:
    """A retry setting GetEventSourceMapping left out is Lambda's default, -1 (infinite)."""
    return int(value) if value is not None else -1


def cluster_from_api(info: dict[str, Any], brokers: dict[str, Any] | None) -> Cluster:
    kind = info.get("ClusterType", "PROVISIONED")
    if kind == "SERVERLESS":
        # issue 24 (N17): every VpcConfigs entry ("The configuration of the Amazon VPCs for the cluster", MSK
        # API reference, Serverless); which one Lambda's pollers use is not documented, so all are checked.
        configs = info.get("Serverless", {}).get("VpcConfigs") or [{}]
        subnets = list(dict.fromkeys(s for c in configs for s in c.get("SubnetIds", [])))
        groups = list(dict.fromkeys(g for c in configs for g in c.get("SecurityGroupIds", [])))
        auth_raw = info.get("Serverless", {}).get("ClientAuthentication", {})
        encryption = "TLS"
        connectivity = info.get("Serverless", {}).get("ConnectivityInfo", {})
    else:
        prov = info.get("Provisioned", {})
        nodes = prov.get("BrokerNodeGroupInfo", {})
        subnets, groups = nodes.get("ClientSubnets", []), nodes.get("SecurityGroups", [])
        auth_raw = prov.get("ClientAuthentication", {})
        encryption = prov.get("EncryptionInfo", {}).get("EncryptionInTransit", {}).get("ClientBroker")
        connectivity = nodes.get("ConnectivityInfo", {})
    sasl = auth_raw.get("Sasl", {})
    auth = ClusterAuth(
        iam=bool(sasl.get("Iam", {}).get("Enabled")),
        scram=bool(sasl.get("Scram", {}).get("Enabled")),
        tls=bool(auth_raw.get("Tls", {}).get("Enabled")),
        # MSK treats a cluster without any client authentication as unauthenticated.
        unauthenticated=bool(auth_raw.get("Unauthenticated", {}).get("Enabled")) or not auth_raw,
    )
    return Cluster(
        arn=info["ClusterArn"],
        name=info.get("ClusterName", ""),
        kind=kind,
        state=info.get("State", "UNKNOWN"),
        subnet_ids=tuple(subnets),
        security_group_ids=tuple(groups),
        auth=auth,
        client_broker_encryption=encryption,
        # ConnectivityInfo.NetworkType: IPV4 (the default) or DUAL (MSK API reference, ConnectivityInfo).
        network_type="DUAL" if (connectivity or {}).get("NetworkType") == "DUAL" else "IPV4",
        bootstrap_brokers={k: v for k, v in (brokers or {}).items() if k.startswith("BootstrapBroker") and v},
        current_version=info.get("CurrentVersion") or None,
        instance_type=(
            info.get("Provisioned", {}).get("BrokerNodeGroupInfo", {}).get("InstanceType") or None
        ),
        volume_gib=_volume_gib(info),
        kafka_version=(
            info.get("Provisioned", {}).get("CurrentBrokerSoftwareInfo", {}).get("KafkaVersion") or None
        ),
        **_broker_logs(info),  # issue 21 (item 4)
        # issue 24 (N6): the private CAs mTLS clients' certificates must chain to (MSK API reference, Tls).
        tls_ca_arns=tuple(auth_raw.get("Tls", {}).get("CertificateAuthorityArnList") or ()),
        tags={str(k): str(v) for k, v in (info.get("Tags") or {}).items()},
    )


def _broker_logs(info: dict[str, Any]) -> dict[str, Any]:
    """Where the brokers deliver their logs (MSK API reference, LoggingInfo / BrokerLogs: CloudWatchLogs
    {Enabled, LogGroup}, Firehose {Enabled, DeliveryStream}, S3 {Enabled, Bucket, Prefix}); MSK developer
    guide, "Amazon MSK logging": the destination is the customer's own, created before delivery is on."""
    logs = ((info.get("Provisioned", {}).get("LoggingInfo") or {}).get("BrokerLogs")) or {}
    cloudwatch = logs.get("CloudWatchLogs") or {}
    group = cloudwatch.get("LogGroup") if cloudwatch.get("Enabled") else None
    elsewhere = tuple(k for k in ("S3", "Firehose") if (logs.get(k) or {}).get("Enabled"))
    return {"broker_log_group": group or None, "broker_log_elsewhere": elsewhere}


def _volume_gib(info: dict[str, Any]) -> int | None:
    """EBS storage per broker of a provisioned cluster (MSK API reference, BrokerNodeGroupInfo StorageInfo
    EbsStorageInfo VolumeSize, in GiB); None for serverless, whose storage MSK manages."""
    nodes = info.get("Provisioned", {}).get("BrokerNodeGroupInfo", {})
    size = ((nodes.get("StorageInfo") or {}).get("EbsStorageInfo") or {}).get("VolumeSize")
    return int(size) if size is not None else None


def _rules(perms: list[dict[str, Any]]) -> tuple[SgRule, ...]:
    out: list[SgRule] = []
    for p in perms:
        protocol = str(p.get("IpProtocol", "-1"))
        ports: tuple[int | None, int | None] = (
            (None, None) if protocol == "-1" else (p.get("FromPort"), p.get("ToPort"))
        )
        base: dict[str, Any] = {"protocol": protocol, "from_port": ports[0], "to_port": ports[1]}
        for r in p.get("IpRanges", []):
            out.append(SgRule(**base, cidr=r["CidrIp"], description=r.get("Description")))
        for r in p.get("Ipv6Ranges", []):
            out.append(SgRule(**base, cidr=r["CidrIpv6"], description=r.get("Description")))
        for r in p.get("UserIdGroupPairs", []):
            out.append(SgRule(**base, group_id=r["GroupId"], description=r.get("Description")))
        for r in p.get("PrefixListIds", []):
            out.append(SgRule(**base, prefix_list_id=r["PrefixListId"], description=r.get("Description")))
    return tuple(out)


def security_group_rule_from_api(r: dict[str, Any]) -> tuple[bool, SgRule]:
    """One DescribeSecurityGroupRules item as (is egress, rule): AWS's own unit of a rule, one peer each
    (CidrIpv4, CidrIpv6, PrefixListId or ReferencedGroupInfo; EC2 API reference, SecurityGroupRule)."""
    protocol = str(r.get("IpProtocol", "-1"))
    ports = (None, None) if protocol == "-1" else (r.get("FromPort"), r.get("ToPort"))
    return bool(r.get("IsEgress")), SgRule(
        protocol=protocol,
        from_port=ports[0],
        to_port=ports[1],
        cidr=r.get("CidrIpv4") or r.get("CidrIpv6"),
        group_id=(r.get("ReferencedGroupInfo") or {}).get("GroupId"),
        prefix_list_id=r.get("PrefixListId"),
        description=r.get("Description"),
        rule_id=r.get("SecurityGroupRuleId"),
    )


def _tags(raw: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in raw or []}


def security_group_from_api(raw: dict[str, Any]) -> SecurityGroup:
    """One DescribeSecurityGroups item as a `SecurityGroup`; actions re-read groups through it too."""
    return SecurityGroup(
        id=raw["GroupId"],
        name=raw.get("GroupName", ""),
        vpc_id=raw.get("VpcId"),
        ingress=_rules(raw.get("IpPermissions", [])),
        egress=_rules(raw.get("IpPermissionsEgress", [])),
        tags=_tags(raw.get("Tags")),
    )


def function_from_api(raw: dict[str, Any], arn: str) -> Function:
    """A GetFunctionConfiguration response as a `Function` (LoggingConfig.LogGroup: where it logs)."""
    vpc = raw.get("VpcConfig") or {}
    return Function(
        arn=raw.get("FunctionArn", arn),
        name=raw.get("FunctionName", ""),
        role_arn=raw.get("Role", ""),
        state=raw.get("State"),
        vpc_id=vpc.get("VpcId") or None,
        subnet_ids=tuple(vpc.get("SubnetIds", [])),
        security_group_ids=tuple(vpc.get("SecurityGroupIds", [])),
        log_group=(raw.get("LoggingConfig") or {}).get("LogGroup") or None,
        state_reason=raw.get("StateReason") or None,
        last_update_status=raw.get("LastUpdateStatus") or None,
        last_update_status_reason=raw.get("LastUpdateStatusReason") or None,
        timeout=int(raw["Timeout"]) if raw.get("Timeout") is not None else None,
    )


def permissions_boundary_arn(role: dict[str, Any]) -> str | None:
    """The managed policy a GetRole `Role` names as its permissions boundary (IAM API reference, Role:
    PermissionsBoundary, an AttachedPermissionsBoundary of PermissionsBoundaryType "Policy")."""
    boundary = role.get("PermissionsBoundary") or {}
    return boundary.get("PermissionsBoundaryArn") or None


def vpc_connection_from_api(raw: dict[str, Any]) -> VpcConnection:
    """A DescribeVpcConnection response (VpcConnectionArn, TargetClusterArn, State, Authentication, VpcId,
    Subnets, SecurityGroups: MSK API reference) as a `VpcConnection`."""
    return VpcConnection(
        arn=raw["VpcConnectionArn"],
        target_cluster_arn=raw.get("TargetClusterArn") or None,
        state=raw.get("State", ""),
        authentication=raw.get("Authentication") or None,
        vpc_id=raw.get("VpcId") or None,
        subnet_ids=tuple(raw.get("Subnets", [])),
        security_group_ids=tuple(raw.get("SecurityGroups", [])),
    )


def destination_from_api(arn: str, service: str, raw: dict[str, Any]) -> Destination:
    """The KMS key of an on-failure destination: SQS GetQueueAttributes or SNS GetTopicAttributes
    (`Attributes.KmsMasterKeyId`), or S3 GetBucketEncryption (an `aws:kms` default rule's KMSMasterKeyID)."""
    if service == "s3":
        rules = raw.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        defaults = [r.get("ApplyServerSideEncryptionByDefault", {}) for r in rules]
        key = next(
            (
                d.get("KMSMasterKeyID")
                for d in defaults
                if str(d.get("SSEAlgorithm", "")).startswith("aws:kms")
            ),
            None,
        )
    else:
        key = raw.get("Attributes", {}).get("KmsMasterKeyId")
    return Destination(arn=arn, service=service, kms_key_id=key or None)


def subnet_from_api(s: dict[str, Any]) -> Subnet:
    """A DescribeSubnets item. An IPv6-only subnet has no `CidrBlock`; a dual-stack one has both; only
    associated IPv6 blocks count (EC2 API reference, Subnet and SubnetIpv6CidrBlockAssociation)."""
    ipv6 = tuple(
        a["Ipv6CidrBlock"]
        for a in s.get("Ipv6CidrBlockAssociationSet", [])
        if a.get("Ipv6CidrBlock")
        and a.get("Ipv6CidrBlockState", {}).get("State", "associated") == "associated"
    )
    return Subnet(
        id=s["SubnetId"],
        vpc_id=s["VpcId"],
        availability_zone=s["AvailabilityZone"],
        cidr=s.get("CidrBlock") or "",
        ipv6_cidrs=ipv6,
        available_ips=s.get("AvailableIpAddressCount"),
    )


def vpc_from_api(raw: dict[str, Any], dns_support: dict[str, Any], dns_hostnames: dict[str, Any]) -> Vpc:
    """A DescribeVpcs item and its two DescribeVpcAttribute answers as a `Vpc`."""
    return Vpc(
        id=raw["VpcId"],
        cidr=raw.get("CidrBlock", ""),
        dns_support=bool(dns_support["EnableDnsSupport"]["Value"]),
        dns_hostnames=bool(dns_hostnames["EnableDnsHostnames"]["Value"]),
    )


def _route(x: dict[str, Any]) -> Route:
    return Route(
        destination=x.get("DestinationCidrBlock")
        or x.get("DestinationIpv6CidrBlock")
        or x.get("DestinationPrefixListId", ""),
        # A NAT instance's route carries both InstanceId and NetworkInterfaceId; either names an
        # appliance. Gateway Load Balancer and Network Firewall endpoints appear as a vpce- GatewayId.
        target=x.get("NatGatewayId")
        or x.get("GatewayId")
        or x.get("EgressOnlyInternetGatewayId")
        or x.get("TransitGatewayId")
        or x.get("VpcPeeringConnectionId")
        or x.get("InstanceId")
        or x.get("NetworkInterfaceId")
        or x.get("LocalGatewayId")
        or x.get("CarrierGatewayId")
        or x.get("CoreNetworkArn")
        or "unknown",
        state=x.get("State", "active"),
    )


def route_table_from_api(t: dict[str, Any]) -> RouteTable:
    return RouteTable(
        id=t["RouteTableId"],
        main=any(a.get("Main") for a in t.get("Associations", [])),
        subnet_ids=tuple(a["SubnetId"] for a in t.get("Associations", []) if a.get("SubnetId")),
        routes=tuple(_route(x) for x in t.get("Routes", [])),
    )


def nacl_from_api(n: dict[str, Any]) -> Nacl:
    return Nacl(
        id=n["NetworkAclId"],
        subnet_ids=tuple(a["SubnetId"] for a in n.get("Associations", [])),
        entries=tuple(
            NaclEntry(
                rule_number=e["RuleNumber"],
                egress=e["Egress"],
                allow=e["RuleAction"] == "allow",
                protocol=str(e.get("Protocol", "-1")),
                cidr=e.get("CidrBlock") or e.get("Ipv6CidrBlock", ""),
                from_port=e.get("PortRange", {}).get("From"),
                to_port=e.get("PortRange", {}).get("To"),
            )
            for e in n.get("Entries", [])
        ),
    )


def nat_gateway_from_api(n: dict[str, Any]) -> NatGateway:
    """A DescribeNatGateways item; `ConnectivityType` is public unless it says private."""
    return NatGateway(
        id=n["NatGatewayId"],
        subnet_id=n.get("SubnetId", ""),
        state=n.get("State", ""),
        connectivity_type="private" if n.get("ConnectivityType") == "private" else "public",
        availability_mode="regional" if n.get("AvailabilityMode") == "regional" else "zonal",  # issue 24 (N4)
        route_table_id=n.get("RouteTableId"),
    )


def forwarders_from_api(
    vpc_id: str, associations: list[dict[str, Any]], rules: list[dict[str, Any]], dhcp: list[dict[str, Any]]
) -> tuple[DnsForwarder, ...]:
    """The VPC's FORWARD Resolver rules (ListResolverRuleAssociations by VPCId, ListResolverRules:
    `RuleType` FORWARD, `DomainName`) and its DHCP options set when its domain-name-servers are not
    AmazonProvidedDNS (DescribeDhcpOptions; `dhcp` holds only the set the VPC names). Issue 24 (N10)."""
    associated = {a.get("ResolverRuleId") for a in associations if a.get("VPCId") in (None, vpc_id)}
    out = [
        DnsForwarder(kind="resolver-rule", id=r["Id"], domain=r.get("DomainName") or ".")
        for r in rules
        if r.get("Id") in associated and r.get("RuleType") == "FORWARD"
    ]
    for options in dhcp:
        for conf in options.get("DhcpConfigurations", []):
            servers = [v.get("Value") for v in conf.get("Values", [])]
            if conf.get("Key") == "domain-name-servers" and servers and servers != ["AmazonProvidedDNS"]:
                out.append(DnsForwarder(kind="dhcp-options", id=options.get("DhcpOptionsId", "")))
    return tuple(out)


def endpoint_service_from_api(d: dict[str, Any]) -> EndpointService:
    """A DescribeVpcEndpointServices ServiceDetail: where the service is offered, its private name."""
    return EndpointService(
        name=d["ServiceName"],
        types=tuple(t["ServiceType"] for t in d.get("ServiceType", []) if t.get("ServiceType")),
        availability_zones=tuple(d.get("AvailabilityZones", [])),
        private_dns_name=(d.get("PrivateDnsName") or "").rstrip(".").lower() or None,
    )


def vpc_zone_from_api(z: dict[str, Any]) -> VpcZone:
    """A ListHostedZonesByVPC HostedZoneSummary (names come with a trailing dot)."""
    owner = z.get("Owner", {})
    return VpcZone(
        id=z["HostedZoneId"].rsplit("/", 1)[-1],
        name=z["Name"].rstrip(".").lower(),
        owner=owner.get("OwningAccount") or owner.get("OwningService") or "",
    )


def vpc_endpoint_from_api(e: dict[str, Any]) -> VpcEndpoint:
    return VpcEndpoint(
        id=e["VpcEndpointId"],
        service_name=e["ServiceName"],
        type=e.get("VpcEndpointType", ""),
        state=e.get("State", ""),
        subnet_ids=tuple(e.get("SubnetIds", [])),
        security_group_ids=tuple(g["GroupId"] for g in e.get("Groups", [])),
        route_table_ids=tuple(e.get("RouteTableIds", [])),
        private_dns=bool(e.get("PrivateDnsEnabled")),
        policy=policy_document(e["PolicyDocument"]) if e.get("PolicyDocument") else None,
        tags=_tags(e.get("Tags")),
    )
