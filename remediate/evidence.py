"""The typed seam between checks and actions: one small model per finding's evidence.

A check finds and describes: it fills the evidence model of its finding code with what it saw (which
paths are blocked and by what, which needs a policy does not allow, what is wrong with a secret). An
action plans the change from that evidence and `Facts`: no check decides a fix. Each action declares
the evidence types it reads (`Action.accepts`), and playbook validation refuses a playbook whose action
cannot read the evidence of a finding it answers.

`EVIDENCE` maps each finding code to its evidence type(s): a code that two checks emit for different
reasons (SASL_AUTH_FAILED from the secret's value, from SCRAM association or from IAM auth) has one
variant per reason, told apart by their fields. In JSON (plans, `--output json`) evidence is a plain
object; `Finding` turns it back into its model when a plan file is read.
"""

from __future__ import annotations

from typing import Any, Literal

from remediate.facts import MeasuredStep, Model


class Evidence(Model):
    """Base of every evidence model. An action that accepts `Evidence` reads none of it (it plans from
    `Facts` alone, like a batch-size change)."""


# --- the network ----------------------------------------------------------------------------------


class NetworkBlock(Model):
    """One element that drops the traffic of a path (`reachability.Block`, as data)."""

    element: Literal["SG", "NACL", "route", "DNS"]
    resource: str
    detail: str
    direction: Literal["ingress", "egress"] | None = None
    rule_number: int | None = None
    ports: tuple[int, int] | None = None
    cidr: str | None = None


class BlockedPath(Model):
    """A path of the pollers that is blocked: from the ENIs in one subnet to a target on one port."""

    source_subnet: str
    target: Literal["brokers", "nat", "endpoint"]
    port: int
    blocks: tuple[NetworkBlock, ...]
    service: str | None = None
    """For `endpoint`: the service (lambda, sts, ...) whose endpoint it is."""
    endpoint_id: str | None = None


class PathCheck(Model):
    """One checked path as data, so a report can group paths by what blocks them (one line per cause,
    the subnets and services it affects listed on it) and draw them, instead of one line per path."""

    source_subnet: str
    to: Literal["brokers", "nat", "service"]
    """What the path reaches: the brokers, AWS services through a NAT, or one service (by endpoint)."""
    target: str
    """The destination as the path's line names it (`brokers (sg-1)`, `lambda endpoint vpce-1`)."""
    port: int
    blocks: tuple[NetworkBlock, ...] = ()
    service: str | None = None
    source_cidr: str | None = None
    """The range the source subnet's ENIs are seen from (block details name it)."""


class BrokerPortsBlocked(Evidence):
    placement: str
    ports: tuple[int, ...]
    paths: tuple[str, ...]
    """Every path checked, one line each (for people), in the order of `checked`, then any notes."""
    blocked: tuple[BlockedPath, ...]
    """The blocked ones, with what blocks them (for the actions)."""
    checked: tuple[PathCheck, ...] = ()
    """Every path checked, as data (for reports); empty in plan files written before it existed."""


class ServiceEndpointsUnreachable(Evidence):
    placement: str
    vpc_id: str
    services: tuple[str, ...]
    """Every service the pollers must reach (lambda, sts, secretsmanager, the destination's)."""
    subnets_without_nat: tuple[str, ...]
    missing: tuple[str, ...]
    """Services with no live endpoint in the VPC while some subnet has no NAT route."""
    paths: tuple[str, ...]
    blocked: tuple[BlockedPath, ...]
    """Blocked paths to endpoints that exist (missing services have no path to describe)."""
    checked: tuple[PathCheck, ...] = ()


class VpcDnsDisabled(Evidence):
    vpc_id: str
    enableDnsSupport: bool  # the VPC attributes' own names
    enableDnsHostnames: bool
    paths: tuple[str, ...]
    checked: tuple[PathCheck, ...] = ()


class BrokerDnsUnresolvable(Evidence):
    cause: Literal[
        "vpc-dns-support-off",
        "zone-without-record",
        "zone-not-associated",
        "not-resolvable",
        "vpc-dns-hostnames-off",  # issue 24 (audit #10)
    ]
    hosts: tuple[str, ...]
    vpc_id: str | None
    placement: str | None
    zone_id: str | None = None
    zone_name: str | None = None
    resolved_from: str | None = None
    broker_ids: tuple[str, ...] = ()
    """issue 21 (item 7): the MSK brokers those names belong to (ListNodes), in order; empty for
    self-managed Kafka."""


# --- the ESM itself -------------------------------------------------------------------------------


class ConnectionErrorSeen(Evidence):
    """What the mapping reports (a connection error) beside what the brokers' metrics measured: the
    common part of BROKER_TIMEOUT (the brokers show trouble) and CONNECTION_UNEXPLAINED (they do not)."""

    error_text: str
    source: str
    batch_size: int | None
    state: str
    metrics: str = ""
    """What the brokers' CloudWatch metrics show over the window, in one line (or why there are none)."""
    express: str | None = None
    """issue 21 (item 8): on Express brokers, why storage is not judged (`remediate.express.note`)."""
    max_cpu_percent: float | None = None
    max_disk_used_percent: float | None = None
    max_heap_after_gc_percent: float | None = None
    max_memory_used_bytes: float | None = None
    max_connections: float | None = None
    offline_partitions: float | None = None
    under_replicated_partitions: float | None = None
    active_controllers: float | None = None


class BrokerTimeout(ConnectionErrorSeen):
    trouble: tuple[str, ...] = ()
    """Each measured sign of broker trouble in the window (issue 21): the finding is drawn only with one."""


# issue 21
class ConnectionUnexplained(ConnectionErrorSeen):
    """A connection error that nothing read explains: the brokers' metrics show no trouble (or there are
    none), and the checks that would name a configuration cause found nothing."""

    ruled_out: tuple[str, ...]
    """What was read and found not to cause it."""
    not_measured: tuple[str, ...]
    """What could explain it and was not measured."""
    next_steps: tuple[str, ...]
    metadata_timeouts: tuple[str, ...] = ()
    """issue 21 (item 3): records of the mapping's system logs that are the Kafka client's metadata timeout,
    quoted: measured, yet they name no cause."""


# issue 21
class SecretMissing(Evidence):
    """An MSK cluster whose every listener needs a secret (SASL/SCRAM, mTLS) and a mapping that names none."""

    cluster: str
    offered: tuple[str, ...]
    """The cluster's client authentication methods: "sasl-scram", "mtls"."""
    secret_types: tuple[str, ...]
    """The SourceAccessConfigurations types that would select each of them."""
    ports: tuple[int, ...]
    """The broker port of each, in the same order."""
    client_broker: str | None = None


# issue 21
class TopicNotFound(Evidence):
    """The mapping's topic is not among the cluster's topics (MSK ListTopics)."""

    cluster: str
    missing: tuple[str, ...]
    near_misses: tuple[str, ...] = ()
    """Existing topics whose name differs only by case, a suffix after '-', '_' or '.', or a typo."""
    topic_count: int
    sibling_partitions: int | None = None
    sibling_replication_factor: int | None = None
    """The most common partition count and replication factor of the cluster's other topics."""


class TopicReplicationFactorOne(Evidence):
    cluster: str
    topic: str
    replication_factor: int
    partition_count: int | None = None


# issue 24 (N6)
class ClientCertificateUntrusted(Evidence):
    """The mapping's mTLS client certificate does not chain to any private CA the cluster trusts. Only public
    names of the certificates (subject, issuer, key identifiers): never the key or the certificate itself."""

    secret: str
    cluster: str
    subject: str
    issuer: str
    authority_key_id: str | None = None
    ca_arns: tuple[str, ...]
    ca_subjects: tuple[str, ...] = ()
    """The subjects of the CAs whose certificates could be read, in the order of `ca_arns` (readable ones)."""
    ca_refused: tuple[str, ...] = ()
    """CAs GetCertificateAuthorityCertificate refused ("ARN: code"): gone, or not ACTIVE."""


# issue 24 (N8)
class SecretAccessBlocked(Evidence):
    """The secret's resource policy or key keeps the execution role from GetSecretValue."""

    secret: str
    role: str
    owner: str
    """The account that owns the secret."""
    cross_account: bool
    cause: Literal[
        "resource-policy-denies", "no-resource-policy", "resource-policy-does-not-allow", "aws-managed-key"
    ]
    statements: tuple[str, ...] = ()
    """The Sids (or #N) of the resource policy's denying statements."""


class EsmDisabled(Evidence):
    state: str
    state_transition_reason: str
    disabled_by: Literal["user", "lambda", "unknown"] = "unknown"
    """Who disabled it, read from StateTransitionReason (`Esm.changed_by`): a person's mapping stays off
    unless the operator asks to enable it."""


class ClusterNotActive(Evidence):
    """The event source is not in its working state: an MSK cluster not ACTIVE, or a cross-account VPC
    connection not AVAILABLE. Nothing on the trigger is changed until it is."""

    kind: Literal["cluster", "vpc-connection"]
    resource: str
    state: str
    expected: str


# --- live health: broker metrics, the function ------------------------------------------------------


class BrokerReading(Model):
    """One broker's worst value of one metric over the window."""

    broker_id: str
    value: float


class BrokerMetric(Evidence):
    """A broker metric over its documented limit: the cluster, the window, every broker's worst value."""

    cluster: str
    window_minutes: int
    metric: str
    """The CloudWatch metric (AWS/Kafka), or "CpuUser + CpuSystem"."""
    limit: float
    worst: float
    brokers: tuple[BrokerReading, ...]
    """Every broker read, worst first."""


class BrokerStorageFull(BrokerMetric):
    volume_gib: int | None
    """EBS storage per broker now; None when MSK manages it (nothing to grow)."""
    target_gib: int | None
    """The size the fix sets, computed from the worst broker (`health.storage_target_gib`); None when
    storage cannot grow (already at the maximum, or its size is unknown)."""
    max_gib: int
    current_version: str | None


class BrokerCpuSaturated(BrokerMetric):
    instance_type: str | None


class BrokerConnectionsExhausted(BrokerMetric):
    auth: Literal["iam"]
    """Only IAM access control has a per-broker connection quota ("Amazon MSK quota")."""


class FunctionCannotRun(Evidence):
    function: str
    cause: Literal["state", "last-update-failed", "reserved-concurrency-zero"]
    state: str | None
    state_reason: str | None
    last_update_status: str | None
    last_update_status_reason: str | None
    reserved_concurrency: int | None


class FunctionThrottled(Evidence):
    function: str
    window_minutes: int
    throttles: float
    invocations: float
    reserved_concurrency: int | None


class FunctionFailing(Evidence):
    function: str
    window_minutes: int
    errors: float
    invocations: float
    log_group: str


# --- IAM and resource policies --------------------------------------------------------------------

RequestJson = dict[str, Any]
"""A `policy.Request.to_json()` (action, resource, principal), with `why` and `decision` where given."""


class RoleNotAssumable(Evidence):
    role: str
    trust_policy: str
    """The trust policy's decision for lambda.amazonaws.com: allow, deny, implicit or unknown."""
    endpoints: tuple[str, ...]
    """STS endpoints whose policy blocks sts:AssumeRole."""


class EndpointPolicyDenies(Evidence):
    endpoints: tuple[str, ...]
    service: str
    blocked: tuple[RequestJson, ...]


class RoleMissingPermissions(Evidence):
    role: str
    missing: tuple[RequestJson, ...]
    explicitly_denied: tuple[RequestJson, ...]
    blocked_by_boundary: tuple[RequestJson, ...] = ()
    """Needs the identity policies allow but the permissions boundary does not (never edited by remediate)."""
    boundary: str | None = None


class ClusterAuthzIam(Evidence):
    auth: Literal["iam"]
    missing: tuple[RequestJson, ...]
    group: str


class ClusterAuthzAcl(Evidence):
    auth: Literal["scram", "mtls"]
    secret: str
    group: str
    topics: tuple[str, ...]


class ClusterAuthzCrossAccount(Evidence):
    """A cross-account cluster reports an authorization failure and the consumer's own policies allow
    everything it can read: what is left is on the owner's side (cluster policy, Kafka ACLs)."""

    auth: Literal["cross-account"]
    connection: str
    owner_account: str | None
    cluster: str | None
    mode: str | None
    group: str
    topics: tuple[str, ...]


class SaslIam(Evidence):
    auth: Literal["iam"]
    missing: tuple[str, ...]


class SaslScram(Evidence):
    auth: Literal["scram"]
    secret: str
    problems: tuple[str, ...]
    """Problem keys: missing, name, kms, not-associated, scram-256 (issue 24, N18)."""
    cluster: str | None


# --- secrets and TLS --------------------------------------------------------------------------------


class MaterialProblemJson(Model):
    field: str
    detail: str


class CertificateJson(Model):
    subject: str
    issuer: str
    not_after: str
    sha256: str


class SecretMaterialProblems(Evidence):
    """What is wrong with a secret's value (never the value)."""

    secret: str
    access_type: str
    fields: tuple[str, ...]
    problems: tuple[MaterialProblemJson, ...]
    certificates: tuple[CertificateJson, ...]
    key_algorithm: str | None
    key_encryption: str | None


class ProbeResult(Model):
    server: str
    outcome: str
    detail: str
    ca_source: str
    peer_subject: str | None
    peer_names: tuple[str, ...]
    peer_not_after: str | None
    probed_from: str


class ServerAuthFailed(Evidence, ProbeResult):
    pass


class CouldNotCheck(Evidence):
    what: str
    reason: str = ""
    request: RequestJson | None = None
    """The request a policy's condition left undecided, when that is why."""


class ProbeNotReached(Evidence, ProbeResult):
    """The TLS probe could not reach a broker from this machine, so its certificate was not checked."""


# --- issue 15: consumer groups, encryption keys, schema registries ------------------------------------


class ConsumerGroupShared(Evidence):
    """Other mappings on the same source join this mapping's consumer group and read a topic it reads:
    Kafka splits the topic's partitions between them."""

    group_id: str
    configured: bool
    """Whether the group is a ConsumerGroupId the mapping sets (else its UUID, Lambda's default)."""
    source: str
    topics: tuple[str, ...]
    """The topics both read."""
    peers: tuple[str, ...]
    """UUIDs of the other mappings."""
    peer_functions: tuple[str, ...]


class KmsKeyDenies(Evidence):
    """A customer managed key's policy does not let the execution role use it for a secret or the
    on-failure destination."""

    key: str
    used_for: str
    """The secret ARN, or the destination ARN, the key encrypts."""
    action: str
    principal: str
    decision: Literal["deny", "implicit"]
    statements: tuple[str, ...] = ()
    """Sids (or #N) of the statements that deny it."""
    policy: Literal["key", "role"] = "key"
    """Whose policy keeps the role out: the key's, or one of the role's own (an explicit Deny)."""


class SchemaRegistryDenied(Evidence):
    registry: str
    role: str
    missing: tuple[RequestJson, ...]
    explicitly_denied: tuple[RequestJson, ...] = ()


class SchemaRegistryUnreachable(Evidence):
    kind: Literal["glue", "confluent"]
    registry: str
    cause: Literal["not-found", "secret-missing", "unresolvable", "no-egress"]
    detail: str


# --- issue 25: connected, but the data does not flow ---------------------------------------------------


class RetriesUnbounded(Evidence):
    """The function fails on records the mapping retries forever (Kafka's defaults, no destination)."""

    function: str
    window_minutes: int
    errors: float
    invocations: float
    offset_lag: tuple[float, ...]
    """OffsetLag over the window, oldest first (empty: no data point)."""
    maximum_retry_attempts: int
    maximum_record_age: int
    bisect_on_error: bool
    report_batch_item_failures: bool
    on_failure_destination: str | None
    provisioned_mode: bool
    """Whether the mapping has a ProvisionedPollerConfig: the error handling controls need it."""


class FunctionTimeoutRisk(Evidence):
    """The function's timeout is over Kafka's 14-minute cap, or close to its longest observed run."""

    function: str
    cause: Literal["over-kafka-limit", "near-observed-duration"]
    timeout_seconds: int
    limit_seconds: int
    duration_max_ms: float | None
    window_minutes: int | None
    batch_size: int | None


class FiltersDropRecords(Evidence):
    """The mapping's filters drop records: patterns no Kafka record can match, or every record polled."""

    cause: Literal["invalid-pattern", "off-value-key", "all-filtered-out"]
    patterns: tuple[str, ...]
    """The offending patterns as written (all of them for all-filtered-out)."""
    problems: tuple[str, ...] = ()
    polled_events: float | None = None
    filtered_out_events: float | None = None
    window_minutes: int | None = None


class SecretScheduledForDeletion(Evidence):
    """A secret the mapping authenticates with is scheduled for deletion (DescribeSecret DeletedDate)."""

    secret: str
    name: str | None
    access_type: str
    deleted_date: str


class OffsetLagGrowing(Evidence):
    """OffsetLag kept growing since the mapping's last change, longer than scaling takes to react."""

    cause: Literal["provisioned-maximum", "on-demand"]
    offset_lag: tuple[float, ...]
    minutes: int
    minimum_pollers: int | None
    maximum_pollers: int | None
    batch_size: int | None


class StrayMapping(Evidence):
    """A mapping whose source no longer exists: it can never deliver again."""

    cause: Literal["cluster-deleted", "function-deleted"]  # issue 25, item 7: function-deleted
    source: str
    state: str


# issue 25, item 7
class StrayDisabled(Evidence):
    """A mapping disabled for longer than the `stray_disabled_days` setting: nobody uses it."""

    cause: Literal["disabled-long"]
    state: str
    disabled_by: Literal["user", "lambda", "unknown"]
    disabled_since: str
    """LastModified: "the date that the event source mapping was last updated or that its state changed"."""
    days: float
    threshold_days: int


# issue 25, item 5
class ConsumerGroupReset(Evidence):
    """The mapping reads under a new consumer group (its UUID) while a deleted mapping's group, with its
    committed offsets, is still on the same topic: where the new one started depends on StartingPosition."""

    group_id: str
    former_groups: tuple[str, ...]
    topics: tuple[str, ...]
    starting_position: str | None
    consequence: Literal["skipped", "re-read", "from-timestamp", "unknown"]


# issue 25, item 8
class MonitoringMissing(Evidence):
    """What is not watched: no alarm on the function's OffsetLag or Errors, the mapping's metrics off."""

    function_name: str
    missing: tuple[Literal["offset-lag-alarm", "errors-alarm", "esm-metrics"], ...]
    metrics_config: tuple[str, ...]
    offset_lag_max: float | None = None
    """The worst OffsetLag in the window (None: no data point)."""
    errors: float | None = None
    window_minutes: int | None = None


# issue 22
class MeasuredFailure(Evidence):
    """A step `remediate probe` measured from the pollers' own place failed (`remediate.measured`): the
    "measured" source, beside the findings inferred from configuration."""

    source: Literal["measured"]
    run_id: str
    """The probe's run (its journal)."""
    measured: MeasuredStep


# issue 21 (item 3)
class EsmLogError(Evidence):
    """Records of the mapping's own system logs that name a Kafka error: measured, not inferred."""

    source: Literal["esm-system-logs"]
    error: str
    """What the records prove, in words (topic authorization, SASL authentication, ...)."""
    log_group: str
    log_stream: str
    record: str
    """The first such record, quoted as CloudWatch Logs returned it."""
    timestamp: int
    count: int
    """How many records in the window name this error."""


# issue 21 (item 4)
class BrokerLogLines(Evidence):
    """Lines of the MSK brokers' own logs showing the pollers' connections failing: measured, not inferred."""

    source: Literal["broker-logs"]
    error: str
    """What the lines prove, in words (authentication failed, the TLS handshake failed)."""
    log_group: str
    log_stream: str
    line: str
    """The first such line, trimmed (`broker_logs.trim`)."""
    timestamp: int
    count: int
    """How many lines in the window show it from the pollers' subnets."""
    client_address: str
    subnet_id: str
    """The pollers' subnet the failing client's address lies in."""


EVIDENCE: dict[str, tuple[type[Evidence], ...]] = {
    "BROKER_TIMEOUT": (BrokerTimeout,),
    "BROKER_PORTS_BLOCKED": (BrokerPortsBlocked, MeasuredFailure),  # issue 22: measured
    "SERVICE_ENDPOINTS_UNREACHABLE": (ServiceEndpointsUnreachable,),
    "VPC_DNS_DISABLED": (VpcDnsDisabled,),
    "EXECUTION_ROLE_NOT_ASSUMABLE": (RoleNotAssumable,),
    "ENDPOINT_POLICY_DENIES_INVOKE": (EndpointPolicyDenies,),
    "ENDPOINT_POLICY_DENIES_SECRET": (EndpointPolicyDenies,),
    "ENDPOINT_POLICY_DENIES_DESTINATION": (EndpointPolicyDenies,),
    "EXECUTION_ROLE_MISSING_PERMISSIONS": (RoleMissingPermissions,),
    "SECRET_NOT_PEM": (SecretMaterialProblems,),
    "PRIVATE_KEY_PBES2": (SecretMaterialProblems,),
    "SASL_AUTH_FAILED": (
        SaslScram,
        SaslIam,
        SecretMaterialProblems,
        MeasuredFailure,
        EsmLogError,
        BrokerLogLines,  # issue 21 (item 4): the brokers' own logs
    ),
    "BROKER_DNS_UNRESOLVABLE": (BrokerDnsUnresolvable, MeasuredFailure),
    "SERVER_AUTH_FAILED": (ServerAuthFailed, MeasuredFailure, EsmLogError, BrokerLogLines),  # issue 21
    "CLUSTER_AUTHZ_FAILED": (
        ClusterAuthzIam,
        ClusterAuthzAcl,
        ClusterAuthzCrossAccount,
        MeasuredFailure,  # issue 22: measured by the probe
        EsmLogError,  # issue 21: the mapping's own system logs
    ),
    "ESM_DISABLED": (EsmDisabled,),
    "CLUSTER_NOT_ACTIVE": (ClusterNotActive,),
    "COULD_NOT_CHECK": (CouldNotCheck, ProbeNotReached),
    "BROKER_STORAGE_FULL": (BrokerStorageFull,),
    "BROKER_CPU_SATURATED": (BrokerCpuSaturated,),
    "BROKER_CONNECTIONS_EXHAUSTED": (BrokerConnectionsExhausted,),
    "FUNCTION_CANNOT_RUN": (FunctionCannotRun,),
    "FUNCTION_THROTTLED": (FunctionThrottled,),
    "FUNCTION_FAILING": (FunctionFailing,),
    # issue 15
    "CONSUMER_GROUP_SHARED": (ConsumerGroupShared,),
    "KMS_KEY_DENIES": (KmsKeyDenies,),
    "SCHEMA_REGISTRY_DENIED": (SchemaRegistryDenied,),
    "SCHEMA_REGISTRY_UNREACHABLE": (SchemaRegistryUnreachable,),
    # issue 25
    "RETRIES_UNBOUNDED": (RetriesUnbounded,),
    "FUNCTION_TIMEOUT_RISK": (FunctionTimeoutRisk,),
    "FILTERS_DROP_RECORDS": (FiltersDropRecords,),
    "SECRET_SCHEDULED_FOR_DELETION": (SecretScheduledForDeletion,),
    "OFFSET_LAG_GROWING": (OffsetLagGrowing,),
    # issue 21
    "CONNECTION_UNEXPLAINED": (ConnectionUnexplained,),
    "ESM_SECRET_MISSING": (SecretMissing,),
    "STRAY_MAPPING": (StrayMapping, StrayDisabled),  # issue 25: StrayDisabled
    "MONITORING_MISSING": (MonitoringMissing,),  # issue 25, item 8
    "CONSUMER_GROUP_RESET": (ConsumerGroupReset,),  # issue 25, item 5
    "CLIENT_CERT_REJECTED": (MeasuredFailure,),  # issue 22: only the probe measures it
    "TOPIC_NOT_FOUND": (TopicNotFound, MeasuredFailure, EsmLogError),
    "TOPIC_REPLICATION_FACTOR_ONE": (TopicReplicationFactorOne,),
    # issue 24
    "CLIENT_CERTIFICATE_UNTRUSTED": (ClientCertificateUntrusted,),
    "SECRET_ACCESS_BLOCKED": (SecretAccessBlocked,),
}


def parse(code: str, data: Any) -> Evidence:
    """The evidence model of `code` for `data` (a model already, or its JSON): the first variant that fits."""
    variants = EVIDENCE[code]
    if isinstance(data, variants):
        return data
    errors = []
    for variant in variants:
        try:
            return variant.model_validate(data)
        except ValueError as exc:
            errors.append(exc)
    raise errors[0]


def accepts(reader: tuple[type[Evidence], ...], code: str) -> bool:
    """Whether an action reading `reader` can read some variant of `code`'s evidence."""
    return any(issubclass(v, r) for v in EVIDENCE[code] for r in reader)


__all__ = [
    "EVIDENCE",
    "BlockedPath",
    "BrokerConnectionsExhausted",
    "BrokerCpuSaturated",
    "BrokerDnsUnresolvable",
    "BrokerLogLines",
    "BrokerMetric",
    "BrokerPortsBlocked",
    "BrokerReading",
    "BrokerStorageFull",
    "BrokerTimeout",
    "ClientCertificateUntrusted",
    "ClusterAuthzAcl",
    "ClusterAuthzCrossAccount",
    "ClusterAuthzIam",
    "ClusterNotActive",
    "ConnectionErrorSeen",
    "ConnectionUnexplained",
    "ConsumerGroupShared",
    "CouldNotCheck",
    "EndpointPolicyDenies",
    "EsmDisabled",
    "EsmLogError",
    "Evidence",
    "FiltersDropRecords",
    "FunctionCannotRun",
    "FunctionFailing",
    "FunctionThrottled",
    "FunctionTimeoutRisk",
    "KmsKeyDenies",
    "MeasuredFailure",
    "NetworkBlock",
    "OffsetLagGrowing",
    "PathCheck",
    "ProbeNotReached",
    "RetriesUnbounded",
    "RoleMissingPermissions",
    "RoleNotAssumable",
    "SaslIam",
    "SaslScram",
    "SchemaRegistryDenied",
    "SchemaRegistryUnreachable",
    "SecretAccessBlocked",
    "SecretMaterialProblems",
    "SecretMissing",
    "SecretScheduledForDeletion",
    "ServerAuthFailed",
    "ServiceEndpointsUnreachable",
    "StrayMapping",
    "TopicNotFound",
    "TopicReplicationFactorOne",
    "VpcDnsDisabled",
    "accepts",
    "parse",
]
