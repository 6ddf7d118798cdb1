"""`Facts`: the immutable snapshot of everything one ESM depends on.

Observation (`observe.py`) is the only code that reads AWS; it fills these models. Checks are pure
functions of a `Facts`, which makes them testable with fixtures and lets a plan be fingerprinted:
the fingerprint is a hash of the facts that do not change on their own (not the ESM's error text or
timestamps), so a saved plan is refused when what it was computed from has changed.

Secret *values* never enter `Facts`: observation derives what the checks need (e.g. "the key is
PBES2") in memory and stores only that.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SourceKind = Literal["msk", "self-managed"]
Placement = Literal["cluster", "source-access", "internet"]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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
    bootstrap_brokers: dict[str, str] = Field(default_factory=dict)
    scram_secret_arns: tuple[str, ...] | None = None
    """Secrets associated for SASL/SCRAM (kafka:ListScramSecrets); None when SCRAM is off or unread."""


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


class Route(Model):
    destination: str
    target: str  # the id of the target: nat-..., igw-..., vpce-..., local, tgw-...
    state: str = "active"


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


class NatGateway(Model):
    id: str
    subnet_id: str
    state: str


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

    def group(self, group_id: str) -> SecurityGroup | None:
        return next((g for g in self.security_groups if g.id == group_id), None)


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

    def covers(self, host: str) -> bool:
        """Whether the zone is authoritative for `host` (its own name or a subdomain of it)."""
        return host == self.name or host.endswith("." + self.name)


class Dns(Model):
    """How the bootstrap broker names of a self-managed source resolve: locally and in the VPC."""

    hosts: tuple[str, ...] = ()
    local: LocalResolution | None = None
    zones: tuple[HostedZone, ...] = ()


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


class Unchecked(Model):
    """A read the caller was not allowed to make: its checks report "could not check"."""

    what: str
    reason: str


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
    unchecked: tuple[Unchecked, ...] = ()

    def fingerprint(self) -> str:
        """sha256 of the stable state: excludes the error text and timestamps AWS changes on its own."""
        data = self.model_dump(mode="json")
        for volatile in ("state_transition_reason", "last_processing_result", "last_modified"):
            data["esm"].pop(volatile, None)
        # What this machine resolves or reaches depends on where the tool runs, not on AWS state.
        data.pop("tls_probes", None)
        if data.get("dns"):
            data["dns"].pop("local", None)
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
