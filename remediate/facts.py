"""`Facts`: the immutable snapshot of everything one ESM depends on.

Observation (`observe.py`) is the only code that reads AWS; it fills these models. Checks are pure
functions of a `Facts`, which makes them testable with fixtures and lets a plan be fingerprinted:
the fingerprint is a hash of the facts that do not change on their own (not the ESM's error text or
timestamps), so a saved plan is refused when what it was computed from has changed.

Secret *values* never enter `Facts`: observation derives what the checks need (e.g. "the key is
PBES2") in memory and stores only that.

The models are immutable and may be shared: a scan gives every mapping of a VPC the same `Network`.
Lookups that would scan a tuple (a group by id, a NACL's rules in order) go through indexes built on
first use and kept beside the fields (never in a dump, a comparison or the fingerprint).
"""

# No `from __future__ import annotations` here: every command builds these models at import, and pydantic
# would compile each annotation string back into a type (about half of this module's import time).
import hashlib
import json
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

SourceKind = Literal["msk", "self-managed"]
Placement = Literal["cluster", "source-access", "internet"]


S = TypeVar("S")
R = TypeVar("R")


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    def _index(self, name: str, source: S, build: Callable[[S], R]) -> R:
        """`build(source)`, built once per instance and kept beside the fields (not one of them).

        It is rebuilt when `source` is no longer the same object, so a `model_copy(update=...)` that
        replaces the field never sees a stale index. Two threads may both build it; either result is
        the same.
        """
        key = f"_index_{name}"
        cached = self.__dict__.get(key)
        if cached is None or cached[0] is not source:
            cached = (source, build(source))
            self.__dict__[key] = cached
        return cached[1]


class SourceAccess(Model):
    type: str
    uri: str


ESM_DISABLED_STATES = frozenset({"Disabled", "Disabling"})
ESM_SETTLED_STATES = frozenset({"Enabled", "Disabled"})
"""An ESM's State is one of Creating, Enabling, Enabled, Disabling, Disabled, Updating, Deleting (Lambda
API reference, EventSourceMappingConfiguration); AWS refuses updates until it is settled again."""
USER_TRANSITION_REASONS = frozenset({"user action", "user initiated"})
"""StateTransitionReason "indicates whether a user or Lambda made the last change to the event source
mapping" (Lambda API reference, EventSourceMappingConfiguration); a person's change reads "User action"
(the Lambda developer guide's CLI examples) or "User initiated" / USER_INITIATED (the API reference's
older wording), compared without case and with "_" read as a space."""


class Esm(Model):
    uuid: str
    arn: str
    function_arn: str
    state: str
    state_transition_reason: str = ""
    last_processing_result: str = ""
    last_modified: str | None = None
    batch_size: int | None = None
    maximum_batching_window: int | None = None
    source_kind: SourceKind
    event_source_arn: str | None = None
    bootstrap_servers: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    source_access: tuple[SourceAccess, ...] = ()
    consumer_group_id: str | None = None
    provisioned_pollers: bool = False
    on_failure_destination: str | None = None
    schema_registry_uri: str | None = None
    """SchemaRegistryConfig.SchemaRegistryURI of the Kafka event source config: a Glue registry ARN or a
    Confluent registry URL (Lambda API reference, KafkaSchemaRegistryConfig)."""
    schema_registry_access: tuple[SourceAccess, ...] = ()
    """SchemaRegistryConfig.AccessConfigs: how Lambda authenticates to a Confluent registry."""
    # issue 25: error handling (Lambda developer guide, "Configuring error handling controls for Kafka
    # event sources": MaximumRetryAttempts and MaximumRecordAgeInSeconds default to -1, infinite)
    maximum_retry_attempts: int = -1
    maximum_record_age: int = -1
    bisect_on_error: bool = False
    report_batch_item_failures: bool = False
    """FunctionResponseTypes holds ReportBatchItemFailures (partial batch responses)."""
    filter_patterns: tuple[str, ...] = ()
    """FilterCriteria.Filters[].Pattern, as written (JSON text)."""
    metrics_config: tuple[str, ...] = ()
    """MetricsConfig.Metrics: EventCount, ErrorCount, KafkaMetrics (what the mapping publishes)."""
    minimum_pollers: int | None = None
    maximum_pollers: int | None = None
    """ProvisionedPollerConfig MinimumPollers / MaximumPollers (None in on-demand mode)."""
    system_log_level: str | None = None
    """issue 21: LoggingConfig.SystemLogLevel (DEBUG, INFO or WARN; None: no system logs)."""
    starting_position: str | None = None
    """issue 25: StartingPosition (LATEST, TRIM_HORIZON, AT_TIMESTAMP): where a new consumer group starts."""

    @property
    def changed_by(self) -> Literal["user", "lambda", "unknown"]:
        """Who made the mapping's last state change, from StateTransitionReason: a person, Lambda, or
        nothing says (an empty reason)."""
        reason = self.state_transition_reason.strip().lower().replace("_", " ")
        if not reason:
            return "unknown"
        return "user" if reason in USER_TRANSITION_REASONS else "lambda"

    @property
    def group_id(self) -> str:
        """The Kafka consumer group: the configured one, else the ESM UUID (AWS's default)."""
        return self.consumer_group_id or self.uuid

    def access(self, kind: str) -> tuple[str, ...]:
        return tuple(a.uri for a in self.source_access if a.type == kind)


class Function(Model):
    arn: str
    name: str
    role_arn: str
    state: str | None = None
    vpc_id: str | None = None
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    log_group: str | None = None
    """The CloudWatch Logs group the function writes to (GetFunctionConfiguration LoggingConfig)."""
    state_reason: str | None = None
    last_update_status: str | None = None
    """InProgress, Successful or Failed (GetFunctionConfiguration LastUpdateStatus)."""
    last_update_status_reason: str | None = None
    timeout: int | None = None
    """GetFunctionConfiguration Timeout, in seconds (issue 25)."""


class PrivateCa(Model):
    """issue 24 (N6): one private CA of an mTLS cluster, as GetCertificateAuthorityCertificate shows it:
    its certificate's public names only; `error` when AWS refused it for a reason other than a denial."""

    arn: str
    subject: str | None = None
    subject_key_id: str | None = None
    error: str | None = None


class ClusterAuth(Model):
    iam: bool = False
    scram: bool = False
    tls: bool = False
    unauthenticated: bool = False


class Cluster(Model):
    arn: str
    name: str
    kind: Literal["PROVISIONED", "SERVERLESS"]
    state: str
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    auth: ClusterAuth = ClusterAuth()
    client_broker_encryption: str | None = None
    network_type: Literal["IPV4", "DUAL"] = "IPV4"
    """IPV4 (MSK's default) or DUAL, which adds IPv6 listeners (DescribeClusterV2 ConnectivityInfo)."""
    bootstrap_brokers: dict[str, str] = Field(default_factory=dict)
    scram_secret_arns: tuple[str, ...] | None = None
    """Secrets associated for SASL/SCRAM (kafka:ListScramSecrets); None when SCRAM is off or unread."""
    current_version: str | None = None
    """The cluster's version, which every MSK update names (UpdateBrokerStorage CurrentVersion)."""
    instance_type: str | None = None
    volume_gib: int | None = None
    """EBS storage per broker (BrokerNodeGroupInfo.StorageInfo.EbsStorageInfo.VolumeSize)."""
    kafka_version: str | None = None
    """Provisioned.CurrentBrokerSoftwareInfo.KafkaVersion (issue 21: the topic APIs need 3.6.0 or later)."""
    # issue 21 (item 4): where the brokers' own logs go (Provisioned.LoggingInfo.BrokerLogs)
    broker_log_group: str | None = None
    """The CloudWatch Logs group the brokers deliver to; None when that delivery is off."""
    broker_log_elsewhere: tuple[str, ...] = ()
    """The other destinations delivery is on for ("S3", "Firehose"), which this tool does not read."""

    @property
    def express(self) -> bool:
        """issue 21 (item 8): Express brokers (instance types `express.*`), whose storage MSK manages."""
        return (self.instance_type or "").startswith("express.")  # `remediate.express.PREFIX`

    # issue 24 (N6)
    tls_ca_arns: tuple[str, ...] = ()
    """ClientAuthentication.Tls.CertificateAuthorityArnList: the private CAs mTLS clients must chain to."""
    private_cas: tuple[PrivateCa, ...] | None = None
    """Each of `tls_ca_arns`'s certificate (acm-pca:GetCertificateAuthorityCertificate); None: not read."""
    tags: dict[str, str] = Field(default_factory=dict)
    """DescribeClusterV2 ClusterInfo.Tags (issue 23: `health.STORAGE_GROWN_TAG`)."""


class VpcConnection(Model):
    """The managed VPC connection of a cross-account MSK source (the ESM's EventSourceArn), as the
    consumer account sees it through kafka:DescribeVpcConnection: the owner's cluster is not readable."""

    arn: str
    target_cluster_arn: str | None = None
    state: str = ""
    authentication: str | None = None
    vpc_id: str | None = None
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()


class Destination(Model):
    """The on-failure destination's encryption: its customer managed KMS key, if any."""

    arn: str
    service: str
    kms_key_id: str | None = None


class SgRule(Model):
    """One permission of a security group, flattened to one peer (CIDR, group or prefix list)."""

    protocol: str  # "-1" for all, else "tcp", "udp", "icmp" or a number
    from_port: int | None = None
    to_port: int | None = None
    cidr: str | None = None
    group_id: str | None = None
    prefix_list_id: str | None = None
    description: str | None = None
    rule_id: str | None = None

    def covers_port(self, port: int, protocol: str = "tcp") -> bool:
        if self.protocol == "-1":
            return True
        if self.protocol not in (protocol, {"tcp": "6", "udp": "17"}.get(protocol)):
            return False
        if self.from_port is None or self.to_port is None:
            return True
        return self.from_port <= port <= self.to_port


class SecurityGroup(Model):
    id: str
    name: str = ""
    vpc_id: str | None = None
    ingress: tuple[SgRule, ...] = ()
    egress: tuple[SgRule, ...] = ()
    tags: dict[str, str] = Field(default_factory=dict)


class NaclEntry(Model):
    rule_number: int
    egress: bool
    allow: bool
    protocol: str
    cidr: str
    from_port: int | None = None
    to_port: int | None = None


class Nacl(Model):
    id: str
    subnet_ids: tuple[str, ...] = ()
    entries: tuple[NaclEntry, ...] = ()

    def ordered(self, *, egress: bool) -> tuple[NaclEntry, ...]:
        """The outbound (or inbound) entries in rule-number order, the order AWS evaluates them."""
        both = self._index(
            "ordered",
            self.entries,
            lambda entries: {
                way: tuple(sorted((e for e in entries if e.egress == way), key=lambda e: e.rule_number))
                for way in (False, True)
            },
        )
        return both[egress]


class Route(Model):
    destination: str
    target: str  # the id of the target: nat-..., igw-..., vpce-..., local, tgw-..., eni-..., i-...
    state: str = "active"  # active | blackhole | filtered (EC2 API reference, Route)


class RouteTable(Model):
    id: str
    main: bool = False
    subnet_ids: tuple[str, ...] = ()
    routes: tuple[Route, ...] = ()


class Subnet(Model):
    id: str
    vpc_id: str
    availability_zone: str
    cidr: str
    """The IPv4 CIDR; empty for an IPv6-only subnet, which has no `CidrBlock` (EC2 API reference, Subnet)."""
    ipv6_cidrs: tuple[str, ...] = ()
    available_ips: int | None = None
    """AvailableIpAddressCount: the free IPv4 addresses (an interface endpoint takes one per subnet)."""

    @property
    def cidrs(self) -> tuple[str, ...]:
        return tuple(c for c in (self.cidr, *self.ipv6_cidrs) if c)

    @property
    def address(self) -> str:
        """The range a peer in this subnet is seen from: IPv4 when there is one, else its IPv6 range."""
        return self.cidrs[0] if self.cidrs else ""


class NatGateway(Model):
    id: str
    subnet_id: str
    state: str
    connectivity_type: Literal["public", "private"] = "public"
    """A private NAT gateway has no internet path (Amazon VPC user guide, "NAT gateways")."""
    # issue 24 (N4)
    availability_mode: Literal["zonal", "regional"] = "zonal"
    """A regional NAT gateway has no subnet (EC2 API reference, NatGateway `AvailabilityMode`)."""
    route_table_id: str | None = None
    """Its own route table ("For regional NAT gateways only"), which leads it out."""


VPC_ENDPOINT_LIVE_STATES = ("pendingAcceptance", "pending", "available")
"""Endpoint states that exist or are being made, spelled as the `vpc-endpoint-state` filter takes them
(pendingAcceptance | pending | available | deleting | deleted | rejected | failed: EC2 API reference,
DescribeVpcEndpoints)."""


class VpcEndpoint(Model):
    id: str
    service_name: str
    type: str
    state: str
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    route_table_ids: tuple[str, ...] = ()
    private_dns: bool = False
    policy: dict[str, Any] | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def live(self) -> bool:
        return self.state.lower() in {s.lower() for s in VPC_ENDPOINT_LIVE_STATES}


class Vpc(Model):
    id: str
    cidr: str
    dns_support: bool
    dns_hostnames: bool


class EndpointService(Model):
    """An AWS service offered through VPC endpoints here (DescribeVpcEndpointServices ServiceDetail)."""

    name: str
    types: tuple[str, ...] = ()
    availability_zones: tuple[str, ...] = ()
    private_dns_name: str | None = None


class VpcZone(Model):
    """A private hosted zone associated with the VPC (ListHostedZonesByVPC), whoever owns it."""

    id: str
    name: str
    owner: str = ""


class DnsForwarder(Model):
    """Something other than the VPC's own resolver that answers the pollers' DNS queries (issue 24, N10): a
    Route 53 Resolver FORWARD rule associated with the VPC (for `domain` and its subdomains), or a DHCP
    options set whose domain-name-servers are not AmazonProvidedDNS (for every name, `domain` None)."""

    kind: Literal["resolver-rule", "dhcp-options"]
    id: str
    domain: str | None = None

    def answers(self, name: str) -> bool:
        """Whether queries for `name` go here (Resolver matches the domain and its subdomains)."""
        if self.domain is None:
            return True
        domain = self.domain.rstrip(".").lower()
        name = name.rstrip(".").lower()
        return not domain or name == domain or name.endswith("." + domain)  # "." forwards every name


class Network(Model):
    """Where the ESM's pollers live: the cluster's VPC (MSK), the VPC_* source access, or the internet."""

    placement: Placement
    vpc: Vpc | None = None
    subnets: tuple[Subnet, ...] = ()
    source_security_group_ids: tuple[str, ...] = ()
    security_groups: tuple[SecurityGroup, ...] = ()
    route_tables: tuple[RouteTable, ...] = ()
    nacls: tuple[Nacl, ...] = ()
    nat_gateways: tuple[NatGateway, ...] = ()
    endpoints: tuple[VpcEndpoint, ...] = ()
    other_subnets: tuple[Subnet, ...] = ()
    """The VPC's subnets the pollers do not use (dedicated endpoint subnets, NAT subnets)."""
    endpoint_services: tuple[EndpointService, ...] | None = None
    """The endpoint services the ESM may need, as offered in the Region; None when not read."""
    zones: tuple[VpcZone, ...] | None = None
    """Private hosted zones associated with the VPC; None when not read."""
    forwarders: tuple[DnsForwarder, ...] | None = None  # issue 24 (N10)
    """Resolver forwarding rules and custom DHCP DNS servers of the VPC; None when not read."""
    sg_rule_quota: int = 60
    """Inbound or outbound rules per security group (Service Quotas vpc/L-0EA8095F); 60 is AWS's
    default (Amazon VPC user guide, "Amazon VPC quotas"), kept when the applied value was not read."""
    interface_endpoint_quota: int = 50
    """Interface and Gateway Load Balancer endpoints per VPC (vpc/L-29B6F2EB); default 50 (same page)."""
    # issue 24 (N15)
    gateway_endpoints_in_region: int | None = None
    """Live gateway endpoints of the account in the Region (read for an S3 destination only); None: unread."""
    gateway_endpoint_quota: int = 20
    """Gateway VPC endpoints per Region: 20 by default (AWS PrivateLink quotas); applied value unread."""

    @property
    def groups_by_id(self) -> dict[str, SecurityGroup]:
        """The VPC's security groups by id (an index: a VPC may hold hundreds)."""
        return self._index("groups", self.security_groups, lambda groups: {g.id: g for g in groups})

    def group(self, group_id: str) -> SecurityGroup | None:
        return self.groups_by_id.get(group_id)

    def subnet(self, subnet_id: str) -> Subnet | None:
        return next((s for s in (*self.subnets, *self.other_subnets) if s.id == subnet_id), None)

    def service(self, name: str) -> EndpointService | None:
        return next((s for s in self.endpoint_services or () if s.name == name), None)


class NamedPolicy(Model):
    name: str
    arn: str | None = None
    document: dict[str, Any]


class Role(Model):
    arn: str
    name: str
    trust_policy: dict[str, Any]
    inline_policies: tuple[NamedPolicy, ...] = ()
    attached_policies: tuple[NamedPolicy, ...] = ()
    permissions_boundary_arn: str | None = None
    """The managed policy set as the role's permissions boundary (GetRole PermissionsBoundary)."""
    permissions_boundary: NamedPolicy | None = None
    """Its document; None with an ARN set means it could not be read (and is recorded as unchecked)."""
    tags: tuple[tuple[str, str], ...] = ()
    """issue 27: GetRole's Tags, (key, value): the runbook may rewrite a role tagged remediate:fixable."""


class CertificateInfo(Model):
    """Public facts of one X.509 certificate of a secret (never the key): for evidence and expiry."""

    subject: str
    issuer: str
    serial: str
    not_before: str
    not_after: str
    sha256: str
    is_ca: bool = False
    dns_names: tuple[str, ...] = ()
    authority_key_id: str | None = None
    """issue 24 (N6): the AuthorityKeyIdentifier (hex), which names the key of the CA that signed it."""
    subject_key_id: str | None = None
    """issue 24 (N6): the SubjectKeyIdentifier (hex) of a CA certificate."""


class MaterialProblem(Model):
    """One thing wrong with a secret's value: the finding code, the JSON field, and what exactly."""

    code: str
    field: str
    kind: str
    """A stable slug ("der-not-pem", "pbes2", "key-mismatch", ...) that the manual steps key on."""
    detail: str


class SecretMaterial(Model):
    """What analysing a secret's value found (`remediate.material`); never the value or any part of it."""

    kind: Literal["client-certificate", "root-ca", "credentials"]
    fields: tuple[str, ...] = ()
    certificates: tuple[CertificateInfo, ...] = ()
    key_algorithm: str | None = None
    key_encryption: str | None = None
    key_public_sha256: str | None = None
    problems: tuple[MaterialProblem, ...] = ()


class Secret(Model):
    """Metadata of a secret an ESM uses, never its value."""

    arn: str
    access_type: str
    name: str | None = None
    kms_key_id: str | None = None
    exists: bool = True
    material: SecretMaterial | None = None
    deleted_date: str | None = None
    """DescribeSecret DeletedDate: when a secret scheduled for deletion goes (issue 25)."""
    # issue 24 (N8)
    resource_policy_read: bool = False
    """GetResourcePolicy answered (with or without a policy); False: not read (denied, or secret unread)."""
    resource_policy: dict[str, Any] | None = None
    """The secret's resource policy (GetResourcePolicy ResourcePolicy), None when it has none."""


class HostResolution(Model):
    host: str
    resolved: bool
    addresses: tuple[str, ...] = ()
    error: str | None = None


class LocalResolution(Model):
    """Broker names resolved from the machine the tool runs on (not the ESM's VPC): a hint, not proof."""

    machine: str
    results: tuple[HostResolution, ...] = ()


class HostedZone(Model):
    """A Route 53 private hosted zone whose name is a suffix of a broker host name."""

    id: str
    name: str
    associated: bool
    vpc_ids: tuple[str, ...] = ()
    hosts_with_records: tuple[str, ...] = ()
    addresses: tuple[tuple[str, str], ...] = ()
    """issue 21 (item 6): (host, IPv4 address) the zone answers with, from its A records and CNAME chains
    within the zone; a host whose answer lies outside the zone has none here."""

    def covers(self, host: str) -> bool:
        """Whether the zone is authoritative for `host` (its own name or a subdomain of it)."""
        return host == self.name or host.endswith("." + self.name)


class BrokerName(Model):
    """issue 21 (item 7): one name an MSK broker is reached by (ListNodes BrokerNodeInfo.Endpoints)."""

    broker_id: str
    host: str


class Dns(Model):
    """How the broker names resolve: locally and in the VPC. A self-managed source's bootstrap names; an
    MSK cluster's every broker name (issue 21, item 7), weighed in the VPC only (AWS publishes them)."""

    hosts: tuple[str, ...] = ()
    local: LocalResolution | None = None
    zones: tuple[HostedZone, ...] = ()
    brokers: tuple[BrokerName, ...] = ()
    """issue 21 (item 7): which MSK broker each name belongs to (empty for self-managed Kafka)."""

    def broker_of(self, host: str) -> str | None:
        return next((b.broker_id for b in self.brokers if b.host == host), None)

    def zone_address(self, host: str) -> str | None:
        """issue 21 (item 6): the IPv4 address the most specific private zone associated with the VPC
        answers for `host` (it shadows public DNS there), or None when no such zone answers with one."""
        name = host.rstrip(".").lower()
        inside = [z for z in self.zones if z.associated and z.covers(name)]
        if not inside:
            return None
        zone = max(inside, key=lambda z: len(z.name))
        return dict(zone.addresses).get(name)


PROBE_FAILED = frozenset(
    {"hostname-mismatch", "unknown-ca", "expired", "not-yet-valid", "untrusted", "not-tls", "tls-error"}
)
"""Probe outcomes that mean the certificate check itself failed (SERVER_AUTH_FAILED)."""
PROBE_NOT_REACHED = frozenset({"refused", "timeout", "unresolvable", "unreachable"})
"""Probe outcomes that mean the probe never got to check the certificate from this machine."""


class TlsProbe(Model):
    """The outcome of the opt-in active probe of one bootstrap broker (`remediate diagnose --probe`)."""

    server: str
    outcome: str
    detail: str
    tls: bool = True
    ca_source: str = ""
    peer_subject: str | None = None
    peer_names: tuple[str, ...] = ()
    peer_not_after: str | None = None


# --- live health, from CloudWatch and the function's own settings ----------------------------------


class BrokerStats(Model):
    """One broker's metrics over the window (`remediate.health`): the worst value of each."""

    broker_id: str
    cpu_percent: float | None = None
    """Max of CpuUser + CpuSystem."""
    disk_used_percent: float | None = None
    """Max KafkaDataLogsDiskUsed."""
    memory_used_bytes: float | None = None
    heap_after_gc_percent: float | None = None
    connections: float | None = None
    """Max ConnectionCount."""
    under_replicated_partitions: float | None = None


class BrokerHealth(Model):
    """An MSK cluster's broker metrics over the last `window_minutes` (one GetMetricData per cluster)."""

    cluster_arn: str
    window_minutes: int
    brokers: tuple[BrokerStats, ...] = ()
    active_controllers: float | None = None
    """Min ActiveControllerCount (one controller should always be active)."""
    offline_partitions: float | None = None
    """Max OfflinePartitionsCount."""
    unread: tuple[str, ...] = ()
    """Reads of this piece that were denied ("AccessDeniedException on GetMetricData"): the checks say
    what they could not check, and nothing else is concluded from the missing numbers."""
    read_at: float | None = None
    """When the window ended (epoch seconds; issue 23: did it start before the last storage growth?)."""


class FunctionHealth(Model):
    """The function's reserved concurrency and its invocation metrics over the window (Sum)."""

    function_arn: str
    window_minutes: int
    reserved_concurrency: int | None = None
    """GetFunctionConcurrency ReservedConcurrentExecutions; None when none is reserved."""
    invocations: float | None = None
    errors: float | None = None
    throttles: float | None = None
    unread: tuple[str, ...] = ()
    # issue 25: gauges over the window (Maximum); None when the metric has no data point
    duration_max_ms: float | None = None
    """The longest invocation in the window (Duration, Maximum), in milliseconds."""
    offset_lag: tuple[float, ...] = ()
    """OffsetLag, the worst value of each minute with data, oldest first: its trend over the window."""
    offset_lag_times: tuple[str, ...] = ()
    """The minute of each `offset_lag` value (ISO 8601)."""
    polled_events: float | None = None
    filtered_out_events: float | None = None
    """The mapping's PolledEventCount and FilteredOutEventCount (Sum); None unless it publishes EventCount."""


# --- issue 15: other consumers, encryption keys, schema registries ------------------------------------


class PeerMapping(Model):
    """Another Kafka mapping of the account on the same source (cluster ARN, or a shared bootstrap
    server): its consumer group and topics, which decide whether it splits this mapping's messages."""

    uuid: str
    function_arn: str
    group_id: str
    topics: tuple[str, ...] = ()


class KmsKey(Model):
    """A KMS key that encrypts a secret or the destination of the mapping (DescribeKey, GetKeyPolicy)."""

    ref: str
    """How the mapping's resource names it (a key id, key ARN, alias or alias ARN)."""
    arn: str
    manager: Literal["AWS", "CUSTOMER"] | str
    state: str = ""
    policy: dict[str, Any] | None = None
    """The `default` key policy; None when it could not be read (recorded as unchecked) or AWS managed."""


class SchemaRegistry(Model):
    """The mapping's schema registry as observation found it."""

    kind: Literal["glue", "confluent"]
    uri: str
    exists: bool | None = None
    """Glue: whether GetRegistry found it (None: not read). Confluent: not readable through AWS."""
    host: str | None = None
    """Confluent: the registry URL's host name."""
    resolution: HostResolution | None = None
    """Confluent: how this machine resolves the host (a hint, like the broker names)."""


class Unchecked(Model):
    """A read the caller was not allowed to make: its checks report "could not check"."""

    what: str
    reason: str


# issue 21: topics, from MSK's topic APIs
class Topic(Model):
    """One topic as MSK's ListTopics reports it (TopicInfo)."""

    name: str
    partition_count: int | None = None
    replication_factor: int | None = None


class Topics(Model):
    """The cluster's topics (ListTopics), or why they were not read: `not_applicable` names the requirement
    of the topic APIs the cluster does not meet; `unread` a denied read."""

    cluster_arn: str
    topics: tuple[Topic, ...] = ()
    not_applicable: str | None = None
    unread: tuple[str, ...] = ()


class BrokerInterface(Model):
    """issue 21 (item 6): the network interface that holds a self-managed broker's private address
    (EC2 DescribeNetworkInterfaces, filter `addresses.private-ip-address`): the security groups there
    are the broker's, and security groups apply at the interface."""

    address: str
    interface_id: str
    subnet_id: str
    group_ids: tuple[str, ...] = ()


# issue 22: what `remediate probe` measured from where the mapping's pollers stand --------------------


class MeasuredStep(Model):
    """One step of one broker's connection, as the probe function measured it (`probe_function.handler`)."""

    server: str
    role: str
    """bootstrap, broker (advertised in Metadata) or coordinator (the consumer group's)."""
    node_id: int | None = None
    step: str
    """dns, tcp, tls, api_versions, sasl, metadata, topic or group."""
    outcome: str
    detail: str = ""
    ms: float = 0.0
    error_code: int | None = None
    """Kafka's error code, when the broker answered with one."""
    error_name: str | None = None
    tls_alert: str | None = None  # issue 22
    """The TLS alert the broker ended the session with (OpenSSL's reason name), for a `tls-alert` step."""


class Measured(Model):
    """The probe's result: every step it measured, and whether it got through all of them in time."""

    run_id: str
    complete: bool
    steps: tuple[MeasuredStep, ...] = ()
    secret_error: str | None = None
    """The function could not read the mapping's secret (the error's class, never a value)."""


# issue 21 (item 3)
class EsmLogRecord(Model):
    """One record of the mapping's system logs (CloudWatch Logs FilterLogEvents event)."""

    log_stream: str
    timestamp: int
    """Milliseconds since the epoch, as CloudWatch Logs gives it."""
    message: str


class EsmLogs(Model):
    """The mapping's own system logs in the error window: where they were read, and what they hold."""

    log_group: str
    log_streams: tuple[str, ...]
    minutes: int
    records: tuple[EsmLogRecord, ...] = ()


# issue 21 (item 4)
class BrokerLogRecord(Model):
    """One line of the brokers' own logs (CloudWatch Logs FilterLogEvents event), trimmed."""

    log_stream: str
    timestamp: int
    message: str


class BrokerLogs(Model):
    """The MSK brokers' own logs in the error window, as far as the filter pattern and the page bound read."""

    log_group: str
    minutes: int
    filter_pattern: str
    records: tuple[BrokerLogRecord, ...] = ()
    truncated: bool = False
    """More matching lines than the pages read (the oldest are kept)."""


# issue 25, item 8: monitoring as a fix (read only when asked)
class Alarm(Model):
    """A CloudWatch alarm on one of the function's metrics (DescribeAlarmsForMetric)."""

    name: str
    metric: str
    threshold: float | None = None


class Monitoring(Model):
    """The alarms on the function's OffsetLag and Errors (AWS/Lambda, dimension FunctionName)."""

    function_name: str
    alarms: tuple[Alarm, ...] = ()

    def on(self, metric: str) -> tuple[Alarm, ...]:
        return tuple(a for a in self.alarms if a.metric == metric)


# issue 25, item 5: consumer groups left behind on the mapping's topics
class FormerGroup(Model):
    """A consumer group on one of the mapping's topics, named like a mapping's UUID (Lambda's default group)
    whose mapping no longer exists (GetEventSourceMapping: ResourceNotFoundException)."""

    group: str
    topic: str


class Facts(Model):
    region: str
    esm: Esm
    function: Function | None = None
    cluster: Cluster | None = None
    vpc_connection: VpcConnection | None = None
    network: Network | None = None
    role: Role | None = None
    secrets: tuple[Secret, ...] = ()
    dns: Dns | None = None
    destination: Destination | None = None
    tls_probes: tuple[TlsProbe, ...] | None = None
    broker_health: BrokerHealth | None = None
    function_health: FunctionHealth | None = None
    peers: tuple[PeerMapping, ...] | None = None
    """Other Kafka mappings on the same source; None when they could not be listed."""
    keys: tuple[KmsKey, ...] = ()
    schema_registry: SchemaRegistry | None = None
    topics: Topics | None = None
    """issue 21: the MSK cluster's topics; None when not read (not MSK, or the cluster not read)."""
    broker_interfaces: tuple[BrokerInterface, ...] | None = None
    """issue 21 (item 6): the interfaces of self-managed brokers in the pollers' VPC, given as IPs or as
    names a private hosted zone of the VPC answers; None when not read (MSK, over the internet, no such
    broker, or the read was denied)."""
    esm_logs: EsmLogs | None = None
    """issue 21: the mapping's system logs; None when it has none (no LoggingConfig) or the read is denied."""
    broker_logs: BrokerLogs | None = None
    """issue 21 (item 4): the MSK brokers' own logs; None when not delivered to CloudWatch Logs or denied."""
    unchecked: tuple[Unchecked, ...] = ()
    measured: Measured | None = None
    """issue 22: what the probe function measured from the pollers' place (`remediate probe`)."""
    # issue 25 (item 7): a mapping disabled for longer than this is a stray
    observed_at: str | None = None
    """When the facts were read (UTC, ISO 8601): how long a disabled mapping has been disabled is
    measured up to it."""
    stray_disabled_days: int = 0
    """The `stray_disabled_days` setting the facts were read with (0: disabled mappings are never strays)."""
    former_groups: tuple[FormerGroup, ...] | None = None
    """issue 25, item 5: groups of deleted mappings on this mapping's topics (MSK consumer-lag metrics);
    None when not read (a configured ConsumerGroupId, not MSK, metrics off, or the read denied)."""
    monitoring: Monitoring | None = None
    """issue 25, item 8: the function's alarms, read only when monitoring is asked for (`--fix-with
    monitoring` or the `monitoring_fix` setting); None otherwise."""

    def fingerprint(self) -> str:
        """sha256 of the stable state: excludes the error text and timestamps AWS changes on its own."""
        data = self.model_dump(mode="json")
        for volatile in ("state_transition_reason", "last_processing_result", "last_modified"):
            data["esm"].pop(volatile, None)
        # What this machine resolves or reaches depends on where the tool runs, not on AWS state.
        data.pop("tls_probes", None)
        data.pop("measured", None)  # issue 22: measured from the pollers' place, like the TLS probes
        data.pop("observed_at", None)  # issue 25: the clock, not AWS state
        # Metrics move by the minute; what a plan changes (storage size, reserved concurrency) is kept.
        data.pop("broker_health", None)
        data.pop("esm_logs", None)  # issue 21: log records arrive by the second
        data.pop("broker_logs", None)  # issue 21 (item 4): likewise
        if data.get("function_health"):
            data["function_health"] = {
                "reserved_concurrency": data["function_health"]["reserved_concurrency"]
            }
        if data.get("dns"):
            data["dns"].pop("local", None)
        if data.get("schema_registry"):
            data["schema_registry"].pop("resolution", None)
        # A subnet's free-address count moves with every interface in it; only whether it has one
        # decides a plan (an interface endpoint takes one address per subnet).
        for subnet in [
            *(data.get("network") or {}).get("subnets", []),
            *(data.get("network") or {}).get("other_subnets", []),
        ]:
            if subnet.get("available_ips") is not None:
                subnet["available_ips"] = min(subnet["available_ips"], 1)
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
