"""Realistic AWS setups around a Kafka event source mapping, built through the real API.

A scenario is a :class:`ScenarioOptions` value: a healthy baseline whose fields each let one thing be broken
(auth mode, NAT, endpoints, security group rules, secrets, destination, role trust/permissions, ESM status).
:func:`build_scenario` creates everything through boto3 against the sandbox (so the resources look exactly
like
what the engine reads from AWS) and then sets what only AWS decides (the ESM's status) on the backend.

Adding a preset is one :func:`register` call with ``dataclasses.replace`` of :data:`BASELINE`. Resource names
are
prefixed with the scenario name so several scenarios can live in one sandbox.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import ipaddress
import json
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from remediate.sandbox import flow as sandbox_flow
from remediate.sandbox.server import Sandbox

__all__ = [
    "BASELINE",
    "BROKER_PORTS",
    "CONNECTION_ERROR",
    "AuthMode",
    "Scenario",
    "ScenarioOptions",
    "SourceKind",
    "build",
    "build_scenario",
    "register",
    "scenario_names",
    "scenario_options",
]

AuthMode = Literal["iam", "scram", "tls", "none"]
SourceKind = Literal["msk", "self-managed", "sqs"]

# --- AWS's rules, stated literally from its documentation ------------------------------------------
#
# The sandbox is an independent witness of the engine (docs/sandbox.md): every AWS rule a healthy scenario
# relies on is written out below as AWS documents it, with the page (title and URL) beside it, and nothing
# is derived from remediate's own tables. If the engine disagrees with a scenario built from these literals,
# check the engine against the cited page; never bend the literal to the engine.
#
# Where a page is cited with "source: awsdocs/REPOSITORY doc_source/NAME.md", the text was read from the
# public source of that AWS guide on GitHub (github.com/awsdocs/aws-lambda-developer-guide and
# github.com/awsdocs/amazon-msk-developer-guide, both archived since), because the stored copy of the live
# page showed only its opening paragraphs.

# Broker port per client authentication mode.
# "Using Lambda with Amazon MSK", section "Network configuration",
# https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html (source: awsdocs/aws-lambda-developer-guide
# doc_source/with-msk.md): "the Amazon MSK broker port (9092 for plaintext, 9094 for TLS, 9096 for SASL,
# 9098 for IAM)". "none" is the plaintext listener.
BROKER_PORTS: Final[Mapping[str, int]] = {"none": 9092, "tls": 9094, "scram": 9096, "iam": 9098}

# The text Lambda reports in LastProcessingResult when it cannot reach the brokers. Not confirmed: the search
# found no AWS page quoting this message; it is kept as the project has it.
CONNECTION_ERROR: Final = (
    "PROBLEM: Connection error. Please check your event source connection configuration. "
    "If your event source lives in a VPC, try setting up a new Lambda function or EC2 instance "
    "with the same VPC, Subnet, and Security Group settings. Connect the new device to the Kafka "
    "cluster and consume messages to ensure that the issue is not related to the Kafka cluster."
)

_AZ_SUFFIXES: Final = ("a", "b", "c")
_TOPIC: Final = "orders"

# The actions of the AWS managed policy AWSLambdaMSKExecutionRole (policy version v2, "Resource": "*"), in the
# order AWS lists them.
# "AWSLambdaMSKExecutionRole - AWS Managed Policy",
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaMSKExecutionRole.html
# The same actions are the required execution-role permissions of an MSK event source mapping in
# "Configuring Lambda permissions for Amazon MSK event source mappings",
# https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html ("You only need to add one of either
# kafka:DescribeCluster or kafka:DescribeClusterV2"; the managed policy has both).
_MSK_EXECUTION_ACTIONS: Final = (
    "kafka:DescribeCluster",
    "kafka:DescribeClusterV2",
    "kafka:GetBootstrapBrokers",
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
)

# What the execution role needs when the MSK cluster uses IAM access control: these six actions on the
# cluster, topic and consumer-group ARNs.
# "Using Lambda with Amazon MSK", section "IAM role-based authentication",
# https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html#msk-permissions-iam-policy (source:
# awsdocs/aws-lambda-developer-guide doc_source/with-msk.md); today on "Configuring Amazon MSK cluster
# authentication methods in Lambda", https://docs.aws.amazon.com/lambda/latest/dg/msk-cluster-auth.html
# (section "IAM authentication"; the stored copy of that page was cut before its policy, so the action list
# is confirmed from the with-msk source only).
_KAFKA_CLUSTER_ACTIONS: Final = (
    "kafka-cluster:Connect",
    "kafka-cluster:DescribeGroup",
    "kafka-cluster:AlterGroup",
    "kafka-cluster:DescribeTopic",
    "kafka-cluster:ReadData",
    "kafka-cluster:DescribeClusterDynamicConfiguration",
)

# The trust policy statement that lets Lambda assume an execution role.
# "Lambda execution role" (today "Defining Lambda function permissions with an execution role"),
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html, example trust-policy.json:
# "the role's trust policy must specify the Lambda service principal (lambda.amazonaws.com)".
_LAMBDA_SERVICE_PRINCIPAL: Final = "lambda.amazonaws.com"
_LAMBDA_TRUST_STATEMENT: Final[Mapping[str, Any]] = {
    "Effect": "Allow",
    "Principal": {"Service": _LAMBDA_SERVICE_PRINCIPAL},
    "Action": "sts:AssumeRole",
}

# Reading the SASL/SCRAM or mTLS secret, and decrypting it with its customer managed KMS key.
# "Managing access and permissions for a Self-managed Apache Kafka cluster", section "Secrets Manager and AWS
# KMS permissions", https://docs.aws.amazon.com/lambda/latest/dg/smaa-permissions.html (source:
# awsdocs/aws-lambda-developer-guide doc_source/smaa-permissions.md): secretsmanager:GetSecretValue and
# kms:Decrypt. For MSK, "Configuring Lambda permissions for Amazon MSK event source mappings",
# https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html, lists "Access your SCRAM secret"
# and access to the customer managed KMS key as optional permissions; the stored copy of that page did not
# show the action names themselves, so for MSK they are confirmed only through the self-managed page.
_SECRET_READ_ACTION: Final = "secretsmanager:GetSecretValue"  # noqa: S105 - an IAM action name
_SECRET_DECRYPT_ACTION: Final = "kms:Decrypt"  # noqa: S105 - an IAM action name

# What the execution role needs for an on-failure destination of a Kafka event source mapping.
# "Capturing discarded batches for Amazon MSK and self-managed Apache Kafka event sources",
# https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html: "For an SQS destination:
# sqs:SendMessage", "For an SNS destination: sns:Publish", "For an S3 destination: s3:PutObject and
# s3:ListBucket"; and "if you configured a KMS key on your destination": kms:GenerateDataKey for an S3
# destination encrypted with your own key. Issue 24 (N5): a producer of an SQS queue or SNS topic encrypted
# with a customer managed key uses it with kms:GenerateDataKey and kms:Decrypt (see destination_keys.py for
# the pages); the sandbox refuses SendMessage and Publish without both.
_ON_FAILURE_ACTIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "sqs": ("sqs:SendMessage",),
    "sns": ("sns:Publish",),
    "s3": ("s3:PutObject", "s3:ListBucket"),
}
_ON_FAILURE_KMS_ACTIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "s3": ("kms:GenerateDataKey",),
    "sqs": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sns": ("kms:GenerateDataKey", "kms:Decrypt"),
}

# The CloudWatch Logs actions among the AWSLambdaMSKExecutionRole actions above: "CloudWatch Logs
# permissions" are required ("Configuring Lambda permissions for Amazon MSK event source mappings").
_LOG_ACTIONS: Final = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")

# Same page: "For cross-account event source mappings, you need kafka:DescribeVpcConnection in the execution
# role".
_CROSS_ACCOUNT_ACTION: Final = "kafka:DescribeVpcConnection"

# Placeholders an endpoint policy of a scenario may hold; the builder writes the ARNs it will create.
FUNCTION_ARN: Final = "${FUNCTION_ARN}"
ROLE_ARN: Final = "${ROLE_ARN}"

# What the execution role needs to read an SQS event source.
# "Using AWS Lambda with Amazon SQS", section "Execution Role Permissions",
# https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html (source: awsdocs/aws-lambda-developer-guide
# doc_source/with-sqs.md).
_SQS_SOURCE_ACTIONS: Final = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")


def _kafka_resource_arns(cluster_arn: str, topic: str) -> list[str]:
    """The cluster, topic and group ARNs the kafka-cluster:* statement names.

    "IAM access control" (Amazon MSK Developer Guide), section "Resources",
    https://docs.aws.amazon.com/msk/latest/developerguide/iam-access-control.html (today split out as
    "Semantics of IAM authorization policy actions and resources",
    https://docs.aws.amazon.com/msk/latest/developerguide/kafka-actions.html; source:
    awsdocs/amazon-msk-developer-guide doc_source/iam-access-control.md):

    * cluster ``arn:aws:kafka:region:account-id:cluster/cluster-name/cluster-uuid``
    * topic ``arn:aws:kafka:region:account-id:topic/cluster-name/cluster-uuid/topic-name``
    * group ``arn:aws:kafka:region:account-id:group/cluster-name/cluster-uuid/group-name``

    "You can then use the cluster ARN to construct topic, group, and transaction ID ARNs", and "You can use
    the asterisk (*) wildcard any number of times anywhere in the part of the ARN that comes after ...
    :group/". The Lambda page's policy names the consumer group ("The group name must match the event source
    mapping's UUID", same with-msk page, section "Cluster failed to authorize Lambda"); the role exists before
    the mapping and its UUID, so the group name is the documented wildcard.
    """
    _, _, _, region, account, resource = cluster_arn.split(":", 5)
    _, cluster_name, cluster_uuid = resource.split("/")
    base = f"arn:aws:kafka:{region}:{account}"
    return [
        cluster_arn,
        f"{base}:topic/{cluster_name}/{cluster_uuid}/{topic}",
        f"{base}:group/{cluster_name}/{cluster_uuid}/*",
    ]


@dataclass(frozen=True)
class ScenarioOptions:
    """Everything a scenario can vary. The defaults are a healthy MSK setup with IAM auth."""

    name: str
    description: str
    expected_findings: tuple[str, ...] = ()
    source: SourceKind = "msk"
    auth: AuthMode = "iam"
    # network (MSK, or self-managed with self_managed_vpc)
    dns_support: bool = True
    dns_hostnames: bool = True
    nat: bool = True
    endpoints: tuple[str, ...] = ()
    """Interface endpoints to create, by short service name ("lambda", "sts", "secretsmanager", "sqs")."""
    endpoint_policies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    endpoint_private_dns: bool = True
    sg_self_ingress: bool = True
    """Self-referencing ingress on the auth mode's broker port in the cluster (or ESM) security group."""
    sg_egress_all: bool = True
    sg_egress_ports: tuple[int, ...] = ()
    """With ``sg_egress_all`` off: ports still allowed out to 0.0.0.0/0 (e.g. 443 through a NAT gateway)."""
    endpoint_sg_ingress: bool = True
    """The existing endpoints' security group admits 443 from the event source's group."""
    endpoint_subnets: bool = False
    """Put the existing endpoints' network interfaces in subnets of their own, not the cluster's."""
    egress: Literal[
        "nat-gateway",
        "private-nat-gateway",
        "nat-without-igw-route",
        "transit-gateway",
        "regional-nat-gateway",
        # issue 24 (item 6)
        "nat-subnet-nacl-denies",
        "split-default-nat",
        "prefix-list-to-nat",
    ] = "nat-gateway"
    """With ``nat``: what the private subnets' default route leads to. Issue 24 (item 6): a NAT gateway whose
    own subnet's NACL denies tcp/443 in from the VPC; 0.0.0.0/1 and 128.0.0.0/1 to the NAT gateway instead
    of 0.0.0.0/0; only a customer managed prefix list (no default route) to the NAT gateway."""
    service_zone: Mapping[str, str] = field(default_factory=dict)
    """Short service name -> the only Availability Zone suffix ("a", "b", "c") it is offered in."""
    central_endpoint_zones: tuple[str, ...] = ()
    """Short service names whose private hosted zone (a centralised endpoint's) is associated with the VPC."""
    resolver_forward_domain: str | None = None  # issue 24 (N10)
    """A Route 53 Resolver FORWARD rule for this domain, associated with the VPC (centralised DNS)."""
    full_subnet: str | None = None
    """The AZ suffix of a private subnet left without a free address."""
    other_interface_endpoints: int = 0
    """Unrelated interface endpoints already in the VPC (counted against the per-VPC quota)."""
    sg_filler_rules: int = 0
    """Extra IPv4 ingress rules in the cluster (or ESM) security group, towards the rule quota."""
    ipv6: bool = False
    """Dual-stack VPC and private subnets (an Amazon-provided IPv6 block, a /64 per subnet)."""
    # identity
    role_trusts_lambda: bool = True
    role_grants_msk_access: bool = True
    role_grants_kafka_cluster: bool = True
    role_grants_secret: bool = True
    role_trust_requires_source_identity: bool = False
    """The trust statement for Lambda only applies when a source identity is set (Lambda never sets one)."""
    role_grants_logs: bool = True
    """Keep the CloudWatch Logs actions in the AWSLambdaMSKExecutionRole statement."""
    role_msk_actions: tuple[str, ...] | None = None
    """Instead of the AWSLambdaMSKExecutionRole actions (e.g. kafka:DescribeCluster alone)."""
    role_destination_actions: tuple[str, ...] | None = None
    """Instead of the documented actions for the destination (e.g. s3:PutObject alone)."""
    role_grants_destination_kms: bool = True
    role_grants_vpc_connection: bool = True
    """Cross-account: kafka:DescribeVpcConnection on the VPC connection."""
    permissions_boundary: Mapping[str, Any] | None = None
    """A managed policy document set as the role's permissions boundary."""
    # secrets (scram/tls)
    scram_secret_associated: bool = True
    scram_type: str = "SASL_SCRAM_512_AUTH"
    """The SourceAccessConfigurations type of a scram secret (issue 24, N18: SASL_SCRAM_256_AUTH is
    documented for self-managed Apache Kafka only)."""
    secret_value: str | None = None
    """SecretString of the scram/tls secret instead of the generated healthy one (tests supply bad ones)."""
    root_ca_certificate: str | None = None
    """A PEM CA bundle: adds a SERVER_ROOT_CA_CERTIFICATE secret holding it to the ESM."""
    # DNS (self-managed with self_managed_vpc)
    private_zone: str | None = None
    """A Route 53 private hosted zone with an A record for each self-managed broker name under it."""
    private_zone_associated: bool = True
    """Associate the zone with the ESM's VPC; else with a separate VPC only."""
    # ESM
    destination: Literal["sqs", "sns", "s3"] | None = None
    destination_kms: bool = False
    """Encrypt the destination with a customer managed KMS key of its own."""
    provisioned_pollers: bool = False
    cluster_type: Literal["PROVISIONED", "SERVERLESS"] = "PROVISIONED"
    cluster_state: str = "ACTIVE"
    """What MSK reports (ACTIVE, MAINTENANCE, REBOOTING_BROKER, UPDATING, ...), set once it is built."""
    cross_account_owner: str | None = None
    """The account that owns the cluster: the mapping reads it through a managed VPC connection."""
    self_managed_servers: tuple[str, ...] = (
        "broker-1.kafka.internal.example:9092",
        "broker-2.kafka.internal.example:9092",
    )
    self_managed_vpc: bool = False
    batch_size: int = 100
    state: str = "Enabled"
    state_transition_reason: str = "USER_INITIATED"
    last_processing_result: str = "OK"
    # Live health: what the services alone publish or decide, seeded once the scenario is built.
    broker_volume_gib: int | None = None
    """EBS storage per broker (BrokerNodeGroupInfo.StorageInfo); None leaves it out of CreateClusterV2."""
    broker_metrics: Mapping[str, Mapping[str, tuple[float, ...]]] = field(default_factory=dict)
    """AWS/Kafka metric -> "Broker ID" ("" for a cluster-level metric) -> one value a minute, newest last."""
    function_metrics: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    """AWS/Lambda metric (Invocations, Errors, Throttles) -> one value a minute, newest last."""
    function_status: Mapping[str, str] = field(default_factory=dict)
    """What Lambda reports about the function: state, state_reason, last_update_status(_reason)."""
    reserved_concurrency: int | None = None
    # issue 15: consumer groups, key policies, schema registries, Kafka destinations
    consumer_group_id: str | None = None
    """The mapping's ConsumerGroupId (Amazon MSK or self-managed Kafka event source config)."""
    peer_mappings: int = 0
    """Other mappings, of functions of their own, on the same source and topic in the same group."""
    secret_key_policy: Mapping[str, Any] | None = None
    """The key policy of the secret's KMS key; "{account}" and "{role}" stand for the ARNs."""
    destination_key_policy: Mapping[str, Any] | None = None
    """The key policy of the destination's KMS key (with ``destination_kms``), same placeholders."""
    schema_registry: Literal["glue", "confluent"] | None = None
    glue_registry_exists: bool = True
    role_grants_glue: bool = True
    confluent_registry_url: str = "https://registry.schemas.invalid:8081"
    """A Confluent registry URL; ".invalid" never resolves (RFC 6761)."""
    kafka_destination: str | None = None
    """A `kafka://TOPIC` on-failure destination (instead of ``destination``)."""
    role_grants_kafka_destination: bool = True
    # issue 25: connected, but the data does not flow
    esm_settings: Mapping[str, Any] = field(default_factory=dict)
    """More CreateEventSourceMapping parameters (retry settings, FilterCriteria, ...), as IaC sets them."""
    function_timeout: int = 60
    """The function's Timeout in seconds."""
    secret_scheduled_for_deletion: bool = False
    """Schedule the mapping's secret for deletion (DeleteSecret with a 7-day recovery window), as a person
    cleaning up secrets would."""
    esm_age_minutes: int = 0
    """How long ago the mapping was last changed (its LastModified)."""
    esm_metrics: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    """AWS/Lambda event source mapping metric (PolledEventCount, ...) -> one value a minute, newest last,
    published under the mapping's EventSourceMappingUUID."""
    # issue 21
    cluster_topics: Mapping[str, tuple[int, int]] | None = None
    """Topics on a provisioned MSK cluster: name -> (partitions, replication factor); None: the mapping's
    topic with 3 partitions and replication factor 3 (a healthy trigger's topic exists)."""
    esm_names_secret: bool = True
    """Name the scram/tls secret in the mapping's SourceAccessConfigurations; off: the secret exists (and is
    associated) but the mapping names none."""
    # issue 21 (item 6)
    self_managed_broker_interface: bool = False
    """With ``self_managed_vpc``: the first self-managed broker (an IP) is an EC2 network interface in the
    pollers' VPC whose own group admits the broker port only from another tier's group."""
    # issue 22
    self_managed_topic: str = _TOPIC
    """The self-managed mapping's topic (a missing or an ACL-denied topic on the tests' real broker)."""
    # issue 21 (items 4 and 8)
    broker_log_group: str | None = None
    """A CloudWatch log group the MSK brokers deliver their logs to (Provisioned.LoggingInfo.BrokerLogs)."""
    broker_log_lines: tuple[str, ...] = ()
    """Lines the brokers wrote to ``broker_log_group`` in the last minutes, oldest first; "{CLIENT}" stands
    for an address in the cluster's first subnet, where the pollers run."""
    broker_instance_type: str = "kafka.m5.large"
    """The brokers' instance type: "express.m7g.large" makes an Express cluster."""
    # issue 21 (item 7)
    msk_zone_brokers: tuple[int, ...] | None = None
    """A private hosted zone for the MSK cluster's broker domain, associated with the ESM's VPC, holding an
    A record for these broker numbers only: it shadows MSK's names there, and the others do not resolve."""
    # issue 21 (item 6, names)
    private_zone_cname: bool = False
    """With ``private_zone``: each broker name is a CNAME to ``node-N.<zone>``, whose A record holds its
    address (a CNAME chain within the zone)."""
    # issue 24 (N6)
    client_certificate_ca: Literal["cluster", "other"] = "cluster"
    """With auth "tls": issue the mapping's client certificate from the cluster's private CA, or from another
    private CA the cluster does not list (the brokers refuse it)."""
    # issue 24 (N14): `broker_instance_type` (above, issue 21) sets BrokerNodeGroupInfo.InstanceType
    # issue 24 (S6)
    central_zones_owner: str | None = None
    """The account that owns the ``central_endpoint_zones`` (a hub sharing them with this VPC); None: this."""
    # issue 24 (N17)
    serverless_extra_config: bool = False
    """With a SERVERLESS cluster: a second VpcConfigs entry, a subnet whose route table has no way out."""
    serverless_extra_vpc: bool = False
    """With ``serverless_extra_config``: that subnet is in a VPC of its own."""
    # issue 24 (N8)
    owner_holds_secret: bool = False
    """With ``cross_account_owner`` and auth "scram"/"tls": the secret is the owner's (made with that
    account's credentials), as msk-cross-account's "Use the secret associated with the MSK cluster"."""
    sm_default_key: bool = False
    """Encrypt the scram/tls secret with the AWS managed key aws/secretsmanager (no KmsKeyId)."""
    sm_resource_policy: Literal[
        "none", "allow-role", "allow-role-and-consumer", "deny-role", "allow-other-role"
    ] = "none"
    """The secret's resource policy: none; an Allow of GetSecretValue to the execution role (and, with
    "-and-consumer", DescribeSecret/GetResourcePolicy/GetSecretValue to the consumer account, so remediate may
    read it); or a Deny of GetSecretValue to the role."""


@dataclass(frozen=True)
class Scenario:
    """The resources a built scenario consists of (ids and ARNs as AWS reports them)."""

    name: str
    description: str
    esm_uuid: str
    esm_arn: str
    function_arn: str
    role_arn: str
    cluster_arn: str | None
    vpc_id: str | None
    expected_findings: tuple[str, ...]
    function_name: str = ""
    role_name: str = ""
    topic: str = _TOPIC
    source: SourceKind = "msk"
    auth: AuthMode = "iam"
    broker_port: int | None = None
    bootstrap_servers: tuple[str, ...] = ()
    subnet_ids: tuple[str, ...] = ()
    public_subnet_id: str | None = None
    security_group_ids: tuple[str, ...] = ()
    route_table_ids: tuple[str, ...] = ()
    nat_gateway_id: str | None = None
    endpoint_ids: Mapping[str, str] = field(default_factory=dict)
    endpoint_security_group_id: str | None = None
    secret_arns: tuple[str, ...] = ()
    kms_key_arn: str | None = None
    destination_arn: str | None = None
    destination_kms_key_arn: str | None = None
    vpc_connection_arn: str | None = None
    permissions_boundary_arn: str | None = None
    queue_arn: str | None = None
    hosted_zone_id: str | None = None
    peer_uuids: tuple[str, ...] = ()
    schema_registry_arn: str | None = None


BASELINE: Final = ScenarioOptions(name="healthy-msk", description="A healthy MSK trigger with IAM auth.")

_PRESETS: dict[str, ScenarioOptions] = {}


def register(options: ScenarioOptions) -> ScenarioOptions:
    """Add (or replace) a named preset."""
    _PRESETS[options.name] = options
    return options


def scenario_names() -> list[str]:
    return sorted(_PRESETS)


def scenario_options(name: str) -> ScenarioOptions:
    try:
        return _PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(scenario_names())}") from None


def build_scenario(sb: Sandbox, name: str, /, **overrides: Any) -> Scenario:
    """Build the named preset in ``sb``; keyword overrides replace fields of its :class:`ScenarioOptions`."""
    options = scenario_options(name)
    if overrides:
        options = dataclasses.replace(options, **overrides)
    return build(sb, options)


def build(sb: Sandbox, options: ScenarioOptions) -> Scenario:
    """Create the resources of ``options`` in the sandbox and return what was made."""
    return _Builder(sb, options).build()


# --- presets --------------------------------------------------------------------------------------

register(BASELINE)
register(
    dataclasses.replace(
        BASELINE,
        name="broker-timeout",
        description="Brokers reachable but timing out under a large batch size, while a broker falls "
        "behind (under-replicated partitions).",
        batch_size=500,
        last_processing_result=CONNECTION_ERROR,
        # issue 21: BROKER_TIMEOUT is drawn from measured trouble only; here broker 2's followers fall behind.
        broker_metrics={"UnderReplicatedPartitions": {"1": (0.0,), "2": (0.0, 12.0, 31.0)}},
        expected_findings=("BROKER_TIMEOUT",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="disabled",
        description="A healthy mapping that was disabled by its owner.",
        state="Disabled",
        expected_findings=("ESM_DISABLED",),
    )
)
register(
    ScenarioOptions(
        name="sqs-esm",
        description="A plain SQS trigger, which remediate must refuse to handle.",
        source="sqs",
        batch_size=10,
        last_processing_result="",
    )
)
register(
    ScenarioOptions(
        name="self-managed-healthy",
        description="A self-managed Kafka trigger over the internet, without authentication.",
        source="self-managed",
        auth="none",
        # Names that resolve on any machine: the DNS check resolves bootstrap hosts for real.
        self_managed_servers=("localhost:9092", "127.0.0.1:9093"),
    )
)

# Network playbooks (broker ports, service endpoints, VPC DNS): each breaks one thing of the baseline.
register(
    dataclasses.replace(
        BASELINE,
        name="msk-iam-no-self-ingress",
        description="MSK IAM cluster whose security group does not admit itself on 9098.",
        sg_self_ingress=False,
        expected_findings=("BROKER_PORTS_BLOCKED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="scram-no-nat",
        description="SASL/SCRAM cluster with a secret, no NAT gateway and no VPC endpoints.",
        auth="scram",
        nat=False,
        expected_findings=("SERVICE_ENDPOINTS_UNREACHABLE",),
    )
)
# issue 24 (N10): no NAT and no endpoints, but a Resolver rule forwards amazonaws.com to a hub's DNS (a
# centralised endpoint reached some other way): no endpoint is created here.
register(
    dataclasses.replace(
        BASELINE,
        name="resolver-forwarding-no-nat",
        description="No NAT and no endpoints; a Resolver rule forwards amazonaws.com to a hub's DNS servers.",
        nat=False,
        resolver_forward_domain="amazonaws.com",
        expected_findings=("COULD_NOT_CHECK",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="scram-nat",
        description="SASL/SCRAM cluster with a secret whose subnets route through a NAT gateway.",
        auth="scram",
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="endpoint-sg-blocks",
        description="No NAT; Lambda and STS endpoints exist but their security group does not admit 443.",
        nat=False,
        endpoints=("lambda", "sts"),
        endpoint_sg_ingress=False,
        expected_findings=("SERVICE_ENDPOINTS_UNREACHABLE",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="self-managed-vpc-no-broker-egress",
        description="Self-managed Kafka in a VPC whose group allows 443 out but not the broker port.",
        source="self-managed",
        auth="none",
        self_managed_vpc=True,
        sg_egress_all=False,
        sg_egress_ports=(443,),
        self_managed_servers=("10.0.1.10:9092", "10.0.2.10:9092"),
        expected_findings=("BROKER_PORTS_BLOCKED",),
    )
)
register(  # issue 21 (item 6)
    dataclasses.replace(
        BASELINE,
        name="self-managed-broker-group-other-tier",
        description="Self-managed Kafka on EC2 in the VPC: the broker's own group admits only the app tier.",
        source="self-managed",
        auth="none",
        self_managed_vpc=True,
        self_managed_servers=("10.0.2.10:9092",),
        self_managed_broker_interface=True,
        expected_findings=("BROKER_PORTS_BLOCKED",),
    )
)
register(  # issue 21 (item 7)
    dataclasses.replace(
        BASELINE,
        name="msk-broker-name-shadowed",
        description="A private hosted zone associated with the cluster's VPC answers for the MSK brokers' "
        "domain with records for brokers 1 and 2 only: broker 3's name does not resolve there.",
        msk_zone_brokers=(1, 2),
        last_processing_result=CONNECTION_ERROR,
        expected_findings=("BROKER_DNS_UNRESOLVABLE",),
    )
)
register(  # issue 21 (item 6): the broker given by a name of a private hosted zone of the VPC
    dataclasses.replace(
        scenario_options("self-managed-broker-group-other-tier"),
        name="self-managed-broker-name-in-zone",
        description="Self-managed Kafka on EC2 in the VPC, given by a name a private hosted zone associated "
        "with the VPC answers (a CNAME to the node's A record); the broker's own group admits only the "
        "app tier.",
        self_managed_servers=("kafka-1.brokers.internal.example:9092",),
        private_zone="internal.example",
        private_zone_cname=True,
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="destination-sqs-no-endpoint",
        description="No NAT; Lambda and STS endpoints exist, but none for the on-failure SQS queue.",
        nat=False,
        endpoints=("lambda", "sts"),
        destination="sqs",
        expected_findings=("SERVICE_ENDPOINTS_UNREACHABLE",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="vpc-dns-hostnames-off",
        description="No NAT; private-DNS Lambda and STS endpoints in a VPC with DNS hostnames off.",
        nat=False,
        endpoints=("lambda", "sts"),
        dns_hostnames=False,
        expected_findings=("VPC_DNS_DISABLED",),
    )
)


# Issue 13, the network: one preset per rule of AWS's that the tool used to misread. Each states the
# situation; the tests (tests/test_network_rules_e2e.py) check the plan and, after apply, the rule.
register(
    dataclasses.replace(
        BASELINE,
        name="endpoints-in-own-subnets-sg-blocks",
        description="No NAT; Lambda and STS endpoints in subnets of their own, behind a closed group.",
        nat=False,
        endpoints=("lambda", "sts"),
        endpoint_subnets=True,
        endpoint_sg_ingress=False,
        expected_findings=("SERVICE_ENDPOINTS_UNREACHABLE",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="provisioned-no-nat",
        description="Provisioned-mode ESM in a VPC with no NAT, no endpoints and DNS hostnames off.",
        nat=False,
        dns_hostnames=False,
        provisioned_pollers=True,
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="private-nat-gateway",
        description="The subnets' default route goes to a private NAT gateway, which has no internet path.",
        egress="private-nat-gateway",
        expected_findings=("SERVICE_ENDPOINTS_UNREACHABLE",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="nat-subnet-without-igw-route",
        description="A public NAT gateway whose own subnet has no route to the internet gateway.",
        egress="nat-without-igw-route",
        expected_findings=("SERVICE_ENDPOINTS_UNREACHABLE",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="egress-via-transit-gateway",
        description="The subnets' default route goes to a transit gateway (egress through a hub).",
        egress="transit-gateway",
        expected_findings=("COULD_NOT_CHECK",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="central-lambda-endpoint",
        description="No NAT; a hub's private hosted zone for lambda.REGION.amazonaws.com is associated.",
        nat=False,
        central_endpoint_zones=("lambda",),
        expected_findings=("COULD_NOT_CHECK", "SERVICE_ENDPOINTS_UNREACHABLE"),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="sns-offered-in-one-az",
        description="No NAT; an SNS on-failure destination whose endpoints are offered in one zone of three.",
        nat=False,
        destination="sns",
        # Where a service is offered holds for the whole Region: no other preset uses an SNS endpoint.
        service_zone={"sns": "b"},
        expected_findings=("SERVICE_ENDPOINTS_UNREACHABLE",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="full-subnet-no-nat",
        description="No NAT; one of the cluster's subnets has no free address left.",
        nat=False,
        full_subnet="c",
        expected_findings=("SERVICE_ENDPOINTS_UNREACHABLE",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="endpoint-quota-nearly-reached",
        description="No NAT; the VPC has 49 interface endpoints, one short of the quota of 50.",
        nat=False,
        other_interface_endpoints=49,
        expected_findings=("SERVICE_ENDPOINTS_UNREACHABLE",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="cluster-group-at-rule-quota",
        description="The cluster's group lacks its self-ingress on 9098 and already has 60 inbound rules.",
        sg_self_ingress=False,
        sg_filler_rules=60,
        expected_findings=("BROKER_PORTS_BLOCKED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="private-dns-endpoints-behind-nat-hostnames-off",
        description="A NAT route, and private-DNS Lambda and STS endpoints, in a VPC with DNS hostnames off.",
        endpoints=("lambda", "sts"),
        dns_hostnames=False,
        expected_findings=("VPC_DNS_DISABLED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="dual-stack-subnets",
        description="A healthy MSK trigger whose VPC and subnets are dual-stack (IPv4 and IPv6).",
        ipv6=True,
    )
)


# --- the builder ----------------------------------------------------------------------------------


def _policy(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _ipv6_subnet(vpc_block: str, index: int) -> str:
    """The index-th /64 of the VPC's Amazon-provided /56."""
    return str(list(ipaddress.ip_network(vpc_block).subnets(new_prefix=64))[index])


def _function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {'records': len(event)}\n")
    return buffer.getvalue()


# Live health (issue 15): broker and function metrics, the function's state and concurrency.
register(
    dataclasses.replace(
        BASELINE,
        name="broker-storage-full",
        description="An MSK cluster whose fullest broker's data-log disk reached 91% (1000 GiB per broker).",
        broker_volume_gib=1000,
        broker_metrics={"KafkaDataLogsDiskUsed": {"1": (80.0, 88.0, 91.0), "2": (52.0,), "3": (60.5,)}},
        expected_findings=("BROKER_STORAGE_FULL",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="broker-cpu-saturated",
        description="An MSK cluster whose broker 2 spends 72% of its CPU in user and kernel space.",
        broker_metrics={"CpuUser": {"2": (40.0, 57.0)}, "CpuSystem": {"2": (10.0, 15.0)}},
        expected_findings=("BROKER_CPU_SATURATED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="broker-connections-exhausted",
        description="An MSK IAM cluster whose broker 3 holds 2,950 connections (quota 3,000).",
        broker_metrics={"ConnectionCount": {"1": (400.0,), "3": (2100.0, 2950.0)}},
        expected_findings=("BROKER_CONNECTIONS_EXHAUSTED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="broker-timeout-measured",
        description="Connection errors while the brokers' metrics show moderate CPU and disk: no broker "
        "trouble, so the error is reported as not explained (issue 21).",
        batch_size=500,
        last_processing_result=CONNECTION_ERROR,
        broker_metrics={
            "CpuUser": {"1": (20.0, 31.0)},
            "CpuSystem": {"1": (4.0, 5.0)},
            "KafkaDataLogsDiskUsed": {"1": (40.0,), "2": (42.5,)},
            "HeapMemoryAfterGC": {"2": (18.0, 21.5)},
            "ActiveControllerCount": {"": (1.0, 1.0)},
            "OfflinePartitionsCount": {"": (0.0,)},
        },
        expected_findings=("CONNECTION_UNEXPLAINED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="function-failed",
        description="The trigger's function is in the Failed state.",
        function_status={"state": "Failed", "state_reason": "The subnet has no free IP addresses."},
        expected_findings=("FUNCTION_CANNOT_RUN",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="function-concurrency-zero",
        description="The trigger's function has a reserved concurrency of 0: every invocation is throttled.",
        reserved_concurrency=0,
        expected_findings=("FUNCTION_CANNOT_RUN",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="function-throttled",
        description="The trigger's function was throttled 12 times against 30 invocations.",
        reserved_concurrency=2,
        function_metrics={"Invocations": (10.0, 20.0), "Throttles": (5.0, 7.0)},
        expected_findings=("FUNCTION_THROTTLED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="function-failing",
        description="18 of the function's 20 invocations returned an error.",
        function_metrics={"Invocations": (10.0, 10.0), "Errors": (10.0, 8.0)},
        expected_findings=("FUNCTION_FAILING",),
    )
)

# --- issue 25: connected, but the data does not flow -------------------------------------------------------
# AWS/Lambda publishes Duration and OffsetLag (the function's Kafka mappings) beside the counts.
_POISON = {
    "Invocations": (20.0, 20.0, 20.0),
    "Errors": (2.0, 2.0, 2.0),
    "OffsetLag": (120.0, 480.0, 900.0),
}
register(
    dataclasses.replace(
        BASELINE,
        name="poison-record",
        description="A provisioned-mode mapping with Kafka's default retries; the function fails on one "
        "record in every batch and the lag grows.",
        provisioned_pollers=True,
        function_metrics=_POISON,
        expected_findings=("RETRIES_UNBOUNDED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="poison-record-on-demand",
        description="As poison-record, on an on-demand mapping (its retry settings need provisioned mode).",
        function_metrics=_POISON,
        expected_findings=("RETRIES_UNBOUNDED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="filter-on-key",
        description="A filter on the record's key, which Kafka mappings never offer to a pattern.",
        esm_settings={"FilterCriteria": {"Filters": [{"Pattern": '{"key": ["b3JkZXJz"]}'}]}},
        expected_findings=("FILTERS_DROP_RECORDS",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="filters-drop-all",
        description="A well-formed filter that dropped every record polled in the window (EventCount on).",
        esm_settings={
            "FilterCriteria": {"Filters": [{"Pattern": '{"value": {"device_ID": [{"prefix": "AB"}]}}'}]},
            "MetricsConfig": {"Metrics": ["EventCount"]},
        },
        esm_metrics={"PolledEventCount": (40.0, 60.0), "FilteredOutEventCount": (40.0, 60.0)},
        expected_findings=("FILTERS_DROP_RECORDS",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="lag-growing-provisioned",
        description="A provisioned-mode mapping (at most 3 pollers), changed 2 hours ago, whose lag grew for "
        "the last 5 minutes while its function succeeded.",
        provisioned_pollers=True,
        esm_age_minutes=120,
        function_metrics={"Invocations": (30.0,) * 5, "OffsetLag": (100.0, 300.0, 600.0, 900.0, 1200.0)},
        expected_findings=("OFFSET_LAG_GROWING",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="scram-secret-deleted",
        description="The mapping's SASL/SCRAM secret is scheduled for deletion.",
        auth="scram",
        secret_scheduled_for_deletion=True,
        expected_findings=("SECRET_SCHEDULED_FOR_DELETION",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="function-timeout-near",
        description="The function's longest run in the window took 57 s of its 60 s timeout.",
        function_metrics={"Invocations": (5.0, 5.0), "Duration": (31_000.0, 57_000.0)},
        expected_findings=("FUNCTION_TIMEOUT_RISK",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="function-timeout-over-limit",
        description="The function's 15-minute timeout is over the 14 minutes Kafka mappings support.",
        function_timeout=900,
        expected_findings=("FUNCTION_TIMEOUT_RISK",),
    )
)

# --- issue 21 (items 4 and 8): the brokers' own logs; Express brokers ---------------------------------------
# Apache Kafka's broker lines as its network Selector and log manager write them (the client address is
# InetAddress.toString(), "/10.0.1.10"); MSK delivers them INFO-level to the customer's log group ("Amazon MSK
# logging").
_HEALTHY_BROKERS: Final[Mapping[str, Mapping[str, tuple[float, ...]]]] = {
    "CpuUser": {"1": (12.0, 14.0)},
    "CpuSystem": {"1": (2.0, 2.0)},
    "ActiveControllerCount": {"": (1.0,)},
    "OfflinePartitionsCount": {"": (0.0,)},
}
register(
    dataclasses.replace(
        BASELINE,
        name="broker-logs-sasl",
        description="A SASL/SCRAM mapping with connection errors; the brokers' logs (delivered to CloudWatch "
        "Logs) show its pollers' SCRAM authentications failing.",
        auth="scram",
        last_processing_result=CONNECTION_ERROR,
        broker_metrics={**_HEALTHY_BROKERS, "KafkaDataLogsDiskUsed": {"1": (30.0,)}},
        broker_log_group="/msk/broker-logs",
        broker_log_lines=(
            "[2026-12-06 23:01:07,114] INFO [SocketServer listenerType=ZK_BROKER, nodeId=1] "
            "Failed authentication with /{CLIENT} (channelId=10.0.1.5:9096-{CLIENT}:51234-7) "
            "(Authentication failed during authentication due to invalid credentials with SASL mechanism "
            "SCRAM-SHA-512) "
            "(org.apache.kafka.common.network.Selector)",
            "[2026-12-06 23:01:09,002] INFO [GroupCoordinator 1]: Preparing to rebalance group other-app",
            "[2026-12-06 23:01:12,530] INFO [SocketServer listenerType=ZK_BROKER, nodeId=1] "
            "Failed authentication with /{CLIENT} (channelId=10.0.1.5:9096-{CLIENT}:51240-9) "
            "(Authentication failed during authentication due to invalid credentials with SASL mechanism "
            "SCRAM-SHA-512) "
            "(org.apache.kafka.common.network.Selector)",
        ),
        expected_findings=("SASL_AUTH_FAILED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="broker-logs-disk-full",
        description="Connection errors while a broker logs a full data-log disk (its metrics not yet showing "
        "it): broker trouble, measured from the brokers' logs.",
        last_processing_result=CONNECTION_ERROR,
        broker_metrics={**_HEALTHY_BROKERS, "KafkaDataLogsDiskUsed": {"1": (62.0,)}},
        broker_log_group="/msk/broker-logs",
        broker_log_lines=(
            "[2026-12-06 23:02:41,880] ERROR Error while appending records to orders-0 in dir "
            "/kafka/datalogs (kafka.server.LogDirFailureChannel) "
            "java.io.IOException: No space left on device",
        ),
        expected_findings=("BROKER_TIMEOUT",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="express-connection-error",
        description="An Express cluster (storage managed by MSK) whose metrics show a data-log disk at 91%, "
        "and a mapping with connection errors.",
        broker_instance_type="express.m7g.large",
        last_processing_result=CONNECTION_ERROR,
        broker_metrics={**_HEALTHY_BROKERS, "KafkaDataLogsDiskUsed": {"1": (80.0, 91.0)}},
        expected_findings=("CONNECTION_UNEXPLAINED",),
    )
)


class _Builder:
    """Builds one scenario; a class only so the many intermediate ids don't travel as parameters."""

    def __init__(self, sb: Sandbox, options: ScenarioOptions) -> None:
        self.sb = sb
        self.o = options
        self.prefix = options.name
        self.region = sb.region
        self.ec2 = sb.client("ec2")
        self.made: dict[str, Any] = {"endpoint_ids": {}}

    # --- network ---

    def network(self) -> None:
        ec2, o = self.ec2, self.o
        vpc = ec2.create_vpc(
            CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=o.ipv6, TagSpecifications=self._tags("vpc")
        )["Vpc"]
        vpc_id = vpc["VpcId"]
        v6_block = (
            ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
            if o.ipv6
            else None
        )
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": o.dns_support})
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": o.dns_hostnames})
        subnets = [
            ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=f"10.0.{index + 1}.0/24",
                AvailabilityZone=f"{self.region}{suffix}",
                TagSpecifications=self._tags("subnet", f"private-{suffix}"),
                **({"Ipv6CidrBlock": _ipv6_subnet(v6_block, index + 1)} if v6_block else {}),
            )["Subnet"]["SubnetId"]
            for index, suffix in enumerate(_AZ_SUFFIXES)
        ]
        if o.full_subnet is not None:
            # A /24 has 251 usable addresses (AWS reserves 5): one interface with 250 secondary ones
            # leaves none, so AWS answers InsufficientFreeAddressesInSubnet to a new endpoint there.
            full = subnets[_AZ_SUFFIXES.index(o.full_subnet)]
            ec2.create_network_interface(SubnetId=full, SecondaryPrivateIpAddressCount=250)
        public = ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock="10.0.100.0/24",
            AvailabilityZone=f"{self.region}a",
            TagSpecifications=self._tags("subnet", "public-a"),
        )["Subnet"]["SubnetId"]
        igw = ec2.create_internet_gateway(TagSpecifications=self._tags("internet-gateway"))["InternetGateway"]
        ec2.attach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc_id)
        public_rt = ec2.create_route_table(
            VpcId=vpc_id, TagSpecifications=self._tags("route-table", "public")
        )
        public_rt_id = public_rt["RouteTable"]["RouteTableId"]
        if o.egress != "nat-without-igw-route":
            ec2.create_route(
                RouteTableId=public_rt_id,
                DestinationCidrBlock="0.0.0.0/0",
                GatewayId=igw["InternetGatewayId"],
            )
        ec2.associate_route_table(RouteTableId=public_rt_id, SubnetId=public)
        private_rt = ec2.create_route_table(
            VpcId=vpc_id, TagSpecifications=self._tags("route-table", "private")
        )
        private_rt_id = private_rt["RouteTable"]["RouteTableId"]
        nat_id = None
        if o.nat and o.egress == "transit-gateway":
            tgw = ec2.create_transit_gateway(Description=f"{self.prefix} hub")["TransitGateway"][
                "TransitGatewayId"
            ]
            ec2.create_transit_gateway_vpc_attachment(
                TransitGatewayId=tgw, VpcId=vpc_id, SubnetIds=[subnets[0]]
            )
            ec2.create_route(
                RouteTableId=private_rt_id, DestinationCidrBlock="0.0.0.0/0", TransitGatewayId=tgw
            )
        elif o.nat and o.egress == "regional-nat-gateway":
            # issue 24 (N4): a regional NAT gateway, made without a subnet (regional_nat.py for the pages).
            nat_id = ec2.create_nat_gateway(
                AvailabilityMode="regional", VpcId=vpc_id, TagSpecifications=self._tags("natgateway")
            )["NatGateway"]["NatGatewayId"]
            ec2.create_route(
                RouteTableId=private_rt_id, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id
            )
        elif o.nat and o.egress == "private-nat-gateway":
            # "Private - ... You cannot associate an elastic IP address with a private NAT gateway"
            # (Amazon VPC user guide, "NAT gateways", Connectivity type).
            nat_id = ec2.create_nat_gateway(
                SubnetId=public, ConnectivityType="private", TagSpecifications=self._tags("natgateway")
            )["NatGateway"]["NatGatewayId"]
            ec2.create_route(
                RouteTableId=private_rt_id, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id
            )
        elif o.nat:
            allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
            nat_id = ec2.create_nat_gateway(
                SubnetId=public, AllocationId=allocation, TagSpecifications=self._tags("natgateway")
            )["NatGateway"]["NatGatewayId"]
            self.nat_routes(private_rt_id, nat_id, vpc_id, public)
        for subnet in subnets:
            ec2.associate_route_table(RouteTableId=private_rt_id, SubnetId=subnet)
        for short, suffix in o.service_zone.items():
            self.sb.set_endpoint_service_zones(
                f"com.amazonaws.{self.region}.{short}", [f"{self.region}{suffix}"]
            )
        for index in range(o.other_interface_endpoints):
            ec2.create_vpc_endpoint(
                VpcId=vpc_id,
                ServiceName=f"com.amazonaws.{self.region}.ec2",
                VpcEndpointType="Interface",
                SubnetIds=[public],
                PrivateDnsEnabled=False,
                TagSpecifications=self._tags("vpc-endpoint", f"other-{index}"),
            )
        for short in o.central_endpoint_zones:
            # A centralised endpoint: a hub account's private hosted zone for the service's name,
            # associated with this VPC (the zone holds the service's default DNS name: EC2 API reference,
            # CreateVpcEndpoint, PrivateDnsEnabled).
            self._account_client(o.central_zones_owner, "route53").create_hosted_zone(
                Name=f"{short}.{self.region}.amazonaws.com",
                CallerReference=f"{self.prefix}-central-{short}",
                VPC={"VPCRegion": self.region, "VPCId": vpc_id},
                HostedZoneConfig={"Comment": f"{self.prefix} central {short} endpoint", "PrivateZone": True},
            )
        if o.resolver_forward_domain is not None:
            # issue 24 (N10): hub-and-spoke DNS: an outbound Resolver endpoint and a FORWARD rule for the
            # domain, associated with this VPC (Route 53 Resolver API: CreateResolverEndpoint,
            # CreateResolverRule, AssociateResolverRule).
            resolver = self.sb.client("route53resolver")
            dns_group = ec2.create_security_group(
                GroupName=f"{self.prefix}-resolver", Description="resolver endpoint", VpcId=vpc_id
            )["GroupId"]
            endpoint = resolver.create_resolver_endpoint(
                CreatorRequestId=f"{self.prefix}-resolver",
                SecurityGroupIds=[dns_group],
                Direction="OUTBOUND",
                IpAddresses=[{"SubnetId": s} for s in subnets[:2]],
            )["ResolverEndpoint"]["Id"]
            rule = resolver.create_resolver_rule(
                CreatorRequestId=f"{self.prefix}-forward",
                RuleType="FORWARD",
                DomainName=o.resolver_forward_domain,
                TargetIps=[{"Ip": "10.200.0.2", "Port": 53}],
                ResolverEndpointId=endpoint,
            )["ResolverRule"]["Id"]
            resolver.associate_resolver_rule(ResolverRuleId=rule, VPCId=vpc_id)
        self.made.update(
            vpc_id=vpc_id,
            subnet_ids=tuple(subnets),
            public_subnet_id=public,
            route_table_ids=(private_rt_id, public_rt_id),
            nat_gateway_id=nat_id,
        )

    def extra_vpc_config(self, group_id: str) -> list[dict[str, Any]]:
        """issue 24 (N17): a second VpcConfigs entry, a subnet of the same VPC whose route table has no way
        out (only `local`)."""
        if not self.o.serverless_extra_config:
            return []
        vpc_id = self.made["vpc_id"]
        if self.o.serverless_extra_vpc:
            vpc_id = self.ec2.create_vpc(
                CidrBlock="10.0.0.0/16", TagSpecifications=self._tags("vpc", "second")
            )["Vpc"]["VpcId"]
        subnet = self.ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock="10.0.50.0/24",
            AvailabilityZone=f"{self.region}b",
            TagSpecifications=self._tags("subnet", "second-config"),
        )["Subnet"]["SubnetId"]
        table = self.ec2.create_route_table(
            VpcId=vpc_id, TagSpecifications=self._tags("route-table", "isolated")
        )
        self.ec2.associate_route_table(RouteTableId=table["RouteTable"]["RouteTableId"], SubnetId=subnet)
        self.made["extra_subnet_id"] = subnet
        return [{"SubnetIds": [subnet], "SecurityGroupIds": [group_id]}]

    def nat_routes(self, table: str, nat_id: str, vpc_id: str, public: str) -> None:
        """The private subnets' routes to a zonal NAT gateway, and (issue 24, item 6) its subnet's NACL."""
        ec2, egress = self.ec2, self.o.egress
        if egress == "split-default-nat":
            for half in ("0.0.0.0/1", "128.0.0.0/1"):
                ec2.create_route(RouteTableId=table, DestinationCidrBlock=half, NatGatewayId=nat_id)
            return
        if egress == "prefix-list-to-nat":
            listed = ec2.create_managed_prefix_list(
                PrefixListName=f"{self.prefix}-aws-ranges",
                MaxEntries=5,
                AddressFamily="IPv4",
                Entries=[{"Cidr": "52.94.0.0/16", "Description": "some AWS ranges"}],
            )["PrefixList"]["PrefixListId"]
            ec2.create_route(RouteTableId=table, DestinationPrefixListId=listed, NatGatewayId=nat_id)
            return
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id)
        if egress == "nat-subnet-nacl-denies":
            nacl = ec2.create_network_acl(VpcId=vpc_id, TagSpecifications=self._tags("network-acl", "nat"))[
                "NetworkAcl"
            ]["NetworkAclId"]
            entries = (
                (90, False, "deny", (443, 443), "10.0.0.0/16"),
                (100, False, "allow", (0, 65535), "0.0.0.0/0"),
                (100, True, "allow", (0, 65535), "0.0.0.0/0"),
            )
            for number, egress_rule, action, (lo, hi), cidr in entries:
                ec2.create_network_acl_entry(
                    NetworkAclId=nacl,
                    RuleNumber=number,
                    Protocol="6",
                    RuleAction=action,
                    Egress=egress_rule,
                    CidrBlock=cidr,
                    PortRange={"From": lo, "To": hi},
                )
            current = ec2.describe_network_acls(
                Filters=[{"Name": "association.subnet-id", "Values": [public]}]
            )
            association = next(
                a["NetworkAclAssociationId"]
                for n in current["NetworkAcls"]
                for a in n["Associations"]
                if a["SubnetId"] == public
            )
            ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=nacl)

    def security_group(self, role: str, port: int) -> str:
        ec2, o = self.ec2, self.o
        group_id: str = ec2.create_security_group(
            GroupName=f"{self.prefix}-{role}",
            Description=f"{self.prefix} {role}",
            VpcId=self.made["vpc_id"],
            TagSpecifications=self._tags("security-group", role),
        )["GroupId"]
        # "Using Lambda with Amazon MSK", section "Network configuration",
        # https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html
        # (source: awsdocs/aws-lambda-developer-guide doc_source/with-msk.md):
        # "Inbound rules - Allow all traffic on the Amazon MSK broker port ... for the security groups
        # specified for your event source"; "Outbound rules - Allow all traffic on port 443 for all
        # destinations" and on the broker port. A new group's default egress (all traffic to 0.0.0.0/0)
        # covers both; the healthy scenarios keep it.
        if o.sg_self_ingress:
            ec2.authorize_security_group_ingress(
                GroupId=group_id,
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": port,
                        "ToPort": port,
                        "UserIdGroupPairs": [{"GroupId": group_id, "Description": "brokers and pollers"}],
                    }
                ],
            )
        for index in range(o.sg_filler_rules):
            ec2.authorize_security_group_ingress(
                GroupId=group_id,
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 20000 + index,
                        "ToPort": 20000 + index,
                        "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "filler"}],
                    }
                ],
            )
        if not o.sg_egress_all:
            ec2.revoke_security_group_egress(
                GroupId=group_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
            )
            for kept in o.sg_egress_ports:
                ec2.authorize_security_group_egress(
                    GroupId=group_id,
                    IpPermissions=[
                        {
                            "IpProtocol": "tcp",
                            "FromPort": kept,
                            "ToPort": kept,
                            "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                        }
                    ],
                )
        return group_id

    def endpoints(self, source_group: str) -> None:
        if not self.o.endpoints:
            return
        ec2 = self.ec2
        group_id: str = ec2.create_security_group(
            GroupName=f"{self.prefix}-endpoints",
            Description=f"{self.prefix} interface endpoints",
            VpcId=self.made["vpc_id"],
        )["GroupId"]
        # Same page and section: "If you are using VPC endpoints instead of a NAT gateway, the security groups
        # associated with the VPC endpoints must allow all inbound traffic on port 443 from the event source's
        # security groups."
        if self.o.endpoint_sg_ingress:
            ec2.authorize_security_group_ingress(
                GroupId=group_id,
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 443,
                        "ToPort": 443,
                        "UserIdGroupPairs": [{"GroupId": source_group}],
                    }
                ],
            )
        # Without a PolicyDocument AWS attaches the default endpoint policy, which grants full access:
        # {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}.
        # "Control access to VPC endpoints using endpoint policies" (AWS PrivateLink), section "Default
        # endpoint policy", https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
        # ("If you don't attach an endpoint policy, we attach the default endpoint policy"). The healthy
        # scenarios attach none; the sandbox leaves the default to moto, which stores a full-access policy.
        endpoint_subnets = list(self.made["subnet_ids"])
        if self.o.endpoint_subnets:
            endpoint_subnets = [
                ec2.create_subnet(
                    VpcId=self.made["vpc_id"],
                    CidrBlock=f"10.0.{50 + index}.0/24",
                    AvailabilityZone=f"{self.region}{suffix}",
                    TagSpecifications=self._tags("subnet", f"endpoints-{suffix}"),
                )["Subnet"]["SubnetId"]
                for index, suffix in enumerate(_AZ_SUFFIXES)
            ]
        vpc_dns = (self.o.dns_support, self.o.dns_hostnames)
        if self.o.endpoints and self.o.endpoint_private_dns and not all(vpc_dns):
            # issue 24 (S1): AWS creates a private-DNS endpoint only while both VPC DNS attributes are on;
            # a VPC with one off and such endpoints is one whose attribute was turned off afterwards.
            self._vpc_dns(True, True)
        for service in self.o.endpoints:
            kwargs: dict[str, Any] = {}
            if service in self.o.endpoint_policies:
                text = json.dumps(self.o.endpoint_policies[service], separators=(",", ":"))
                kwargs["PolicyDocument"] = text.replace(FUNCTION_ARN, self._function_arn()).replace(
                    ROLE_ARN, self._role_arn()
                )
            endpoint = ec2.create_vpc_endpoint(
                VpcId=self.made["vpc_id"],
                ServiceName=f"com.amazonaws.{self.region}.{service}",
                VpcEndpointType="Interface",
                SubnetIds=endpoint_subnets,
                SecurityGroupIds=[group_id],
                PrivateDnsEnabled=self.o.endpoint_private_dns,
                TagSpecifications=self._tags("vpc-endpoint", service),
                **kwargs,
            )["VpcEndpoint"]
            self.made["endpoint_ids"][service] = endpoint["VpcEndpointId"]
        self.made["endpoint_security_group_id"] = group_id
        if self.o.endpoints and self.o.endpoint_private_dns and not all(vpc_dns):
            self._vpc_dns(*vpc_dns)

    def _vpc_dns(self, support: bool, hostnames: bool) -> None:
        ec2 = self.sb.client("ec2")
        ec2.modify_vpc_attribute(VpcId=self.made["vpc_id"], EnableDnsSupport={"Value": support})
        ec2.modify_vpc_attribute(VpcId=self.made["vpc_id"], EnableDnsHostnames={"Value": hostnames})

    # --- secrets ---

    def secret(self) -> str | None:
        auth = self.o.auth
        if auth not in ("scram", "tls"):
            return None
        kms_key_arn: str = self._owner_client("kms").create_key(Description=f"{self.prefix} secrets")[
            "KeyMetadata"
        ]["Arn"]
        # An MSK SCRAM secret: its name "must begin with the prefix AmazonMSK_", it must use a custom KMS key
        # ("A secret created with the default AWS KMS key cannot be used with an Amazon MSK cluster"), and
        # it holds {"username": ..., "password": ...}. "Sign-in credentials authentication with AWS Secrets
        # Manager" (Amazon MSK Developer Guide),
        # https://docs.aws.amazon.com/msk/latest/developerguide/msk-password.html
        if auth == "scram":
            name = f"AmazonMSK_{self.prefix}"
            value = json.dumps({"username": "lambda", "password": "s3cr3t-Passw0rd"})
        else:
            name = f"{self.prefix}-client-cert"
            # issue 24 (N6): a real private CA for the cluster's trust store, and the client certificate
            # issued by it (or by another CA); remediate reads the CA's certificate through ACM PCA.
            self.made["client_ca_arn"] = _private_ca(self.sb, f"{self.prefix} cluster CA")
            issuer = self.made["client_ca_arn"]
            if self.o.client_certificate_ca == "other":
                issuer = _private_ca(self.sb, f"{self.prefix} other CA")
            value = json.dumps(_client_certificate(self.prefix, self.sb, issuer))
        if self.o.secret_value is not None:
            value = self.o.secret_value
        key = {} if self.o.sm_default_key else {"KmsKeyId": kms_key_arn}
        arn: str = self._owner_client("secretsmanager").create_secret(Name=name, SecretString=value, **key)[
            "ARN"
        ]
        self.made["kms_key_arn"] = kms_key_arn
        self.made["secret_arns"] = (arn,)
        return arn

    def _owner_client(self, service: str) -> Any:
        """A client of the secret's owner (issue 24, N8): the sandbox's own, or one signed with credentials of
        a role in the owner's account (moto's AssumeRole switches accounts by the role ARN)."""
        owner = self.o.cross_account_owner if self.o.owner_holds_secret else None
        return self._account_client(owner, service)

    def _account_client(self, account: str | None, service: str) -> Any:
        """A client of `account` (None: the sandbox's own), signed with a role of it (issue 24)."""
        owner = account
        if owner is None or owner == self.sb.account_id:
            return self.sb.client(service)
        import boto3

        creds = self.sb.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{owner}:role/{self.prefix}-owner", RoleSessionName="owner"
        )["Credentials"]
        make: Any = boto3.client  # the service name is a variable, which boto3's stubs do not overload
        return make(
            service,
            region_name=self.region,
            endpoint_url=self.sb.endpoint_url,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )

    def secret_policy(self, role_arn: str) -> None:
        """The secret's resource policy, once the execution role exists (issue 24, N8)."""
        kind = self.o.sm_resource_policy
        arns = self.made.get("secret_arns") or ()
        if kind == "none" or not arns:
            return
        read = "secretsmanager:GetSecretValue"
        statements: list[dict[str, Any]] = [
            {
                "Sid": "ExecutionRole",
                "Effect": "Deny" if kind == "deny-role" else "Allow",
                "Principal": {"AWS": role_arn},
                "Action": read,
                "Resource": "*",
            }
        ]
        if kind == "allow-role-and-consumer":
            statements.append(
                {
                    "Sid": "ConsumerReads",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{self.sb.account_id}:root"},
                    "Action": [
                        "secretsmanager:DescribeSecret",
                        "secretsmanager:GetResourcePolicy",
                        read,
                    ],
                    "Resource": "*",
                }
            )
        if kind == "allow-other-role":
            # Another role of the consumer account may read it; the consumer account may only describe it.
            consumer = f"arn:aws:iam::{self.sb.account_id}"
            statements = [
                {**statements[0], "Sid": "OtherRole", "Principal": {"AWS": f"{consumer}:role/someone-else"}},
                {
                    "Sid": "ConsumerDescribes",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"{consumer}:root"},
                    "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"],
                    "Resource": "*",
                },
            ]
        self._owner_client("secretsmanager").put_resource_policy(
            SecretId=arns[0], ResourcePolicy=_policy(*statements)
        )

    def root_ca_secret(self) -> str | None:
        if self.o.root_ca_certificate is None:
            return None
        # A SERVER_ROOT_CA_CERTIFICATE secret lives in Secrets Manager ("Configuring cluster authentication
        # methods in Lambda", https://docs.aws.amazon.com/lambda/latest/dg/kafka-cluster-auth.html: "you can
        # configure the server root CA certificate (as a secret in Secrets Manager)"). Not confirmed: the
        # {"certificate": PEM} layout of the secret, which the stored copy of that page cut off before.
        arn: str = self.sb.client("secretsmanager").create_secret(
            Name=f"{self.prefix}-root-ca",
            SecretString=json.dumps({"certificate": self.o.root_ca_certificate}),
        )["ARN"]
        self.made["secret_arns"] = (*self.made.get("secret_arns", ()), arn)
        return arn

    def hosted_zone(self) -> None:
        """A private zone holding the broker names, associated with the ESM's VPC or another one."""
        zone = self.o.private_zone
        if zone is None:
            return
        vpc_id = self.made["vpc_id"]
        if not self.o.private_zone_associated:
            vpc_id = self.ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=self._tags("vpc", "dns"))[
                "Vpc"
            ]["VpcId"]
        route53 = self.sb.client("route53")
        zone_id: str = route53.create_hosted_zone(
            Name=zone,
            CallerReference=f"{self.prefix}-{zone}",
            VPC={"VPCRegion": self.region, "VPCId": vpc_id},
            HostedZoneConfig={"Comment": self.prefix, "PrivateZone": True},
        )["HostedZone"]["Id"].rsplit("/", 1)[-1]
        hosts = [server.rsplit(":", 1)[0] for server in self.o.self_managed_servers]
        changes = []
        for index, host in enumerate(hosts):
            if not (host == zone or host.endswith("." + zone)):
                continue
            records = [(host, "A", _zone_address(index))]
            if self.o.private_zone_cname:  # issue 21 (item 6)
                records = [
                    (host, "CNAME", f"node-{index}.{zone}"),
                    (f"node-{index}.{zone}", "A", records[0][2]),
                ]
            changes += [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": kind,
                        "TTL": 60,
                        "ResourceRecords": [{"Value": value}],
                    },
                }
                for name, kind, value in records
            ]
        route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
        self.made["hosted_zone_id"] = zone_id

    def msk_zone(self, bootstrap: tuple[str, ...]) -> None:
        """issue 21 (item 7): a private zone named after the brokers' domain, with records for some only."""
        hosts = [server.rsplit(":", 1)[0] for server in bootstrap]
        zone = hosts[0].split(".", 1)[1]
        route53 = self.sb.client("route53")
        zone_id: str = route53.create_hosted_zone(
            Name=zone,
            CallerReference=f"{self.prefix}-msk-{zone}",
            VPC={"VPCRegion": self.region, "VPCId": self.made["vpc_id"]},
            HostedZoneConfig={"Comment": self.prefix, "PrivateZone": True},
        )["HostedZone"]["Id"].rsplit("/", 1)[-1]
        changes = [
            {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": host,
                    "Type": "A",
                    "TTL": 60,
                    "ResourceRecords": [{"Value": _zone_address(index)}],
                },
            }
            for index, host in enumerate(hosts)
            if int(host.split(".", 1)[0].removeprefix("b-")) in (self.o.msk_zone_brokers or ())
        ]
        route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
        self.made["hosted_zone_id"] = zone_id

    # --- identity ---

    def _role_arn(self) -> str:
        return f"arn:aws:iam::{self.sb.account_id}:role/service-role/{self.prefix}-function-role"

    def _function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.sb.account_id}:function:{self.prefix}-consumer"

    def boundary(self) -> str | None:
        """A managed policy to set as the role's permissions boundary ("Permissions boundaries for IAM
        entities": an entity may do only what both its identity policies and its boundary allow)."""
        if self.o.permissions_boundary is None:
            return None
        arn: str = self.sb.client("iam").create_policy(
            PolicyName=f"{self.prefix}-boundary", PolicyDocument=json.dumps(self.o.permissions_boundary)
        )["Policy"]["Arn"]
        self.made["permissions_boundary_arn"] = arn
        return arn

    def role(self, statements: list[dict[str, Any]]) -> tuple[str, str]:
        iam, o = self.sb.client("iam"), self.o
        name = f"{self.prefix}-function-role"
        trust_statement: dict[str, Any] = dict(_LAMBDA_TRUST_STATEMENT)
        if not o.role_trusts_lambda:
            # Broken on purpose: a role for EC2, which Lambda cannot assume.
            trust_statement["Principal"] = {"Service": "ec2.amazonaws.com"}
        if o.role_trust_requires_source_identity:
            trust_statement["Sid"] = "TrustWithSourceIdentity"
            trust_statement["Condition"] = {"StringLike": {"sts:SourceIdentity": "*"}}
        trust = _policy(trust_statement)
        boundary = self.boundary()
        arn: str = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=trust,
            Path="/service-role/",
            **({"PermissionsBoundary": boundary} if boundary else {}),
        )["Role"]["Arn"]
        if statements:
            iam.put_role_policy(
                RoleName=name, PolicyName=f"{self.prefix}-access", PolicyDocument=_policy(*statements)
            )
        return name, arn

    def function(self, role_arn: str) -> tuple[str, str]:
        name = f"{self.prefix}-consumer"
        arn: str = self.sb.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler="index.handler",
            Code={"ZipFile": _function_zip()},
            Timeout=self.o.function_timeout,
        )["FunctionArn"]
        return name, arn

    def destination(self) -> str | None:
        key: str | None = None
        if self.o.destination is not None and self.o.destination_kms:
            key = self.sb.client("kms").create_key(Description=f"{self.prefix} destination")["KeyMetadata"][
                "Arn"
            ]
            self.made["destination_kms_key_arn"] = key
        if self.o.destination == "sqs":
            sqs = self.sb.client("sqs")
            attributes = {"KmsMasterKeyId": key} if key else {}
            url = sqs.create_queue(QueueName=f"{self.prefix}-failures", Attributes=attributes)["QueueUrl"]
            arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
        elif self.o.destination == "sns":
            topic_attributes = {"KmsMasterKeyId": key} if key else {}
            arn = self.sb.client("sns").create_topic(
                Name=f"{self.prefix}-failures", Attributes=topic_attributes
            )["TopicArn"]
        elif self.o.destination == "s3":
            s3 = self.sb.client("s3")
            bucket = f"{self.prefix}-failures"
            s3.create_bucket(Bucket=bucket)
            if key:
                s3.put_bucket_encryption(
                    Bucket=bucket,
                    ServerSideEncryptionConfiguration={
                        "Rules": [
                            {
                                "ApplyServerSideEncryptionByDefault": {
                                    "SSEAlgorithm": "aws:kms",
                                    "KMSMasterKeyID": key,
                                }
                            }
                        ]
                    },
                )
            arn = f"arn:aws:s3:::{bucket}"
        else:
            return None
        self.made["destination_arn"] = arn
        return arn

    def _access_statements(self, cluster_arn: str | None, secret_arn: str | None) -> list[dict[str, Any]]:
        o = self.o
        statements: list[dict[str, Any]] = []
        if o.role_grants_msk_access:
            actions = list(o.role_msk_actions or _MSK_EXECUTION_ACTIONS)
            if not o.role_grants_logs:
                actions = [a for a in actions if a not in _LOG_ACTIONS]
            statements.append({"Sid": "MskExecution", "Effect": "Allow", "Action": actions, "Resource": "*"})
        connection = self.made.get("vpc_connection_arn")
        if connection and o.role_grants_vpc_connection:
            statements.append(
                {
                    "Sid": "CrossAccount",
                    "Effect": "Allow",
                    "Action": _CROSS_ACCOUNT_ACTION,
                    "Resource": connection,
                }
            )
        if cluster_arn and o.auth == "iam" and o.role_grants_kafka_cluster:
            statements.append(
                {
                    "Sid": "KafkaClusterData",
                    "Effect": "Allow",
                    "Action": list(_KAFKA_CLUSTER_ACTIONS),
                    "Resource": _kafka_resource_arns(cluster_arn, _TOPIC),
                }
            )
        if secret_arn and o.role_grants_secret:
            statements.append(
                {
                    "Sid": "ReadSecret",
                    "Effect": "Allow",
                    "Action": _SECRET_READ_ACTION,
                    "Resource": secret_arn,
                }
            )
            statements.append(
                {
                    "Sid": "DecryptSecret",
                    "Effect": "Allow",
                    "Action": _SECRET_DECRYPT_ACTION,
                    "Resource": self.made["kms_key_arn"],
                }
            )
        destination = self.made.get("destination_arn")
        if destination and o.destination is not None:
            resources = [destination, f"{destination}/*"] if o.destination == "s3" else destination
            statements.append(
                {
                    "Sid": "OnFailure",
                    "Effect": "Allow",
                    "Action": list(o.role_destination_actions or _ON_FAILURE_ACTIONS[o.destination]),
                    "Resource": resources,
                }
            )
            key = self.made.get("destination_kms_key_arn")
            if key and o.role_grants_destination_kms:
                statements.append(
                    {
                        "Sid": "OnFailureKey",
                        "Effect": "Allow",
                        "Action": list(_ON_FAILURE_KMS_ACTIONS[o.destination]),
                        "Resource": key,
                    }
                )
        return statements

    # --- sources ---

    def vpc_connection(self, group_id: str) -> tuple[str, str]:
        """(owner's cluster ARN, consumer's VPC connection ARN) of a cross-account source: "use the managed
        VPC connection ARN instead of the cluster ARN" ("Creating cross-account event source mappings in
        Lambda", https://docs.aws.amazon.com/lambda/latest/dg/msk-cross-account.html). The owner's cluster is
        not built: the consumer's account cannot see it, and the sandbox models one account."""
        owner = self.o.cross_account_owner
        # The cluster part of the ARN as the Lambda guide's example has it.
        uuid = "51jn98b4-0a61-46cc-b0a6-61g9a3d797d5-7"
        cluster_arn = f"arn:aws:kafka:{self.region}:{owner}:cluster/{self.prefix}-cluster/{uuid}"
        authentication = {"iam": "SASL_IAM", "scram": "SASL_SCRAM", "tls": "TLS"}[self.o.auth]
        arn: str = self.sb.client("kafka").create_vpc_connection(
            TargetClusterArn=cluster_arn,
            Authentication=authentication,
            VpcId=self.made["vpc_id"],
            ClientSubnets=list(self.made["subnet_ids"]),
            SecurityGroups=[group_id],
        )["VpcConnectionArn"]
        self.made["vpc_connection_arn"] = arn
        return cluster_arn, arn

    def cluster(self, group_id: str) -> str:
        o = self.o
        auth_modes: dict[str, dict[str, Any]] = {
            "iam": {"Sasl": {"Iam": {"Enabled": True}}, "Unauthenticated": {"Enabled": False}},
            "scram": {"Sasl": {"Scram": {"Enabled": True}}, "Unauthenticated": {"Enabled": False}},
            "tls": {
                "Tls": {
                    "Enabled": True,
                    "CertificateAuthorityArnList": [
                        self.made.get(
                            "client_ca_arn",
                            f"arn:aws:acm-pca:{self.region}:{self.sb.account_id}:certificate-authority/"
                            f"{self.prefix}",
                        )
                    ],
                },
                "Unauthenticated": {"Enabled": False},
            },
            "none": {"Unauthenticated": {"Enabled": True}},
        }
        client_auth = auth_modes[o.auth]
        # "none" is the plaintext listener (BROKER_PORTS): ClientBroker PLAINTEXT, which opens only that
        # one (MSK API reference, EncryptionInTransit, ClientBroker: "TLS", "TLS_PLAINTEXT" or
        # "PLAINTEXT"). TLS_PLAINTEXT would also open the TLS listener, and with no secret and no IAM
        # Lambda takes unauthenticated TLS before plaintext ("How Lambda chooses a bootstrap broker",
        # Lambda developer guide, MSK event sources), so the scenario's 9092 would not be Lambda's port.
        client_broker = "PLAINTEXT" if o.auth == "none" else "TLS"
        if o.cluster_type == "SERVERLESS":
            # Serverless clusters take SASL/IAM only ("MSK Serverless": IAM access control).
            serverless: str = self.sb.client("kafka").create_cluster_v2(
                ClusterName=f"{self.prefix}-cluster",
                Serverless={
                    "VpcConfigs": [
                        {"SubnetIds": list(self.made["subnet_ids"]), "SecurityGroupIds": [group_id]},
                        *self.extra_vpc_config(group_id),
                    ],
                    "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
                },
                Tags={"scenario": self.prefix},
            )["ClusterArn"]
            return serverless
        logging: dict[str, Any] = {}
        if o.broker_log_group:
            # "You must create a destination resource before you configure your cluster to deliver broker
            # logs to it" (MSK developer guide, "Amazon MSK logging").
            logs = self.sb.client("logs")
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):  # shared by scenarios
                logs.create_log_group(logGroupName=o.broker_log_group)
            logging = {
                "LoggingInfo": {
                    "BrokerLogs": {"CloudWatchLogs": {"Enabled": True, "LogGroup": o.broker_log_group}}
                }
            }
        arn: str = self.sb.client("kafka").create_cluster_v2(
            ClusterName=f"{self.prefix}-cluster",
            Provisioned={
                **logging,
                "BrokerNodeGroupInfo": {
                    "InstanceType": o.broker_instance_type,
                    "ClientSubnets": list(self.made["subnet_ids"]),
                    "SecurityGroups": [group_id],
                    **(
                        {"StorageInfo": {"EbsStorageInfo": {"VolumeSize": o.broker_volume_gib}}}
                        if o.broker_volume_gib is not None
                        else {}
                    ),
                },
                "KafkaVersion": "3.6.0",
                "NumberOfBrokerNodes": 3,
                "ClientAuthentication": client_auth,
                "EncryptionInfo": {"EncryptionInTransit": {"ClientBroker": client_broker, "InCluster": True}},
            },
            Tags={"scenario": self.prefix},
        )["ClusterArn"]
        return arn

    def broker_log_lines(self) -> None:
        """Write what the brokers logged into their log group, one stream for the scenario's brokers (the MSK
        developer guide does not name the streams MSK writes)."""
        o = self.o
        if not o.broker_log_group or not o.broker_log_lines:
            return
        first = self.sb.client("ec2").describe_subnets(SubnetIds=[self.made["subnet_ids"][0]])["Subnets"][0]
        client = str(ipaddress.ip_network(first["CidrBlock"])[10])
        logs = self.sb.client("logs")
        stream = f"{self.prefix}-broker-1"
        logs.create_log_stream(logGroupName=o.broker_log_group, logStreamName=stream)
        now = int(time.time() * 1000)
        count = len(o.broker_log_lines)
        events = [
            {"timestamp": now - 1000 * (count - i), "message": line.replace("{CLIENT}", client)}
            for i, line in enumerate(o.broker_log_lines)
        ]
        logs.put_log_events(logGroupName=o.broker_log_group, logStreamName=stream, logEvents=events)

    def health(self, function_name: str) -> None:
        """Seed what CloudWatch and Lambda alone report: broker and function metrics (published under the
        services' own namespaces, AWS/Kafka with "Cluster Name" and "Broker ID", AWS/Lambda with
        FunctionName: MSK developer guide, "Amazon MSK metrics for monitoring Standard brokers with
        CloudWatch"; Lambda developer guide, "Types of metrics for Lambda functions"), the function's state
        and its reserved concurrency (set through the API, as its owner would)."""
        o = self.o
        for metric, brokers in o.broker_metrics.items():
            for broker, values in brokers.items():
                dims = {"Cluster Name": f"{self.prefix}-cluster", **({"Broker ID": broker} if broker else {})}
                self.sb.put_metrics("AWS/Kafka", metric, dims, list(values))
        for metric, values in o.function_metrics.items():
            self.sb.put_metrics("AWS/Lambda", metric, {"FunctionName": function_name}, list(values))
        if o.function_status:
            self.sb.set_function_status(function_name, **o.function_status)
        if o.reserved_concurrency is not None:
            self.sb.client("lambda").put_function_concurrency(
                FunctionName=function_name, ReservedConcurrentExecutions=o.reserved_concurrency
            )

    def build(self) -> Scenario:
        o = self.o
        source = o.source
        cluster_arn: str | None = None
        bootstrap: tuple[str, ...] = ()
        port: int | None = BROKER_PORTS[o.auth] if source != "sqs" else None
        groups: tuple[str, ...] = ()
        esm_args: dict[str, Any] = {}
        access: list[dict[str, Any]] = []

        needs_vpc = source == "msk" or (source == "self-managed" and o.self_managed_vpc)
        if needs_vpc:
            assert port is not None
            self.network()
            group = self.security_group("msk" if source == "msk" else "esm", port)
            groups = (group,)
            self.endpoints(group)
            self.hosted_zone()
            if source == "self-managed" and o.self_managed_broker_interface:
                self.broker_interface(port)
        secret_arn = self.secret() if source != "sqs" else None
        root_ca_arn = self.root_ca_secret() if source != "sqs" else None
        destination = self.destination()

        if source == "msk" and o.cross_account_owner:
            cluster_arn, source_arn = self.vpc_connection(groups[0])
            esm_args.update(EventSourceArn=source_arn, Topics=[_TOPIC], StartingPosition="LATEST")
        elif source == "msk":
            cluster_arn = self.cluster(groups[0])
            brokers = self.sb.client("kafka").get_bootstrap_brokers(ClusterArn=cluster_arn)
            key = {"iam": "SaslIam", "scram": "SaslScram", "tls": "Tls", "none": ""}[o.auth]
            bootstrap = tuple(brokers.get(f"BootstrapBrokerString{key}", "").split(","))
            if o.msk_zone_brokers is not None:
                self.msk_zone(bootstrap)
            if o.auth == "scram" and secret_arn and o.scram_secret_associated:
                self.sb.client("kafka").batch_associate_scram_secret(
                    ClusterArn=cluster_arn, SecretArnList=[secret_arn]
                )
            esm_args.update(EventSourceArn=cluster_arn, Topics=[_TOPIC], StartingPosition="LATEST")
        elif source == "self-managed":
            bootstrap = o.self_managed_servers
            esm_args.update(
                SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": list(bootstrap)}},
                Topics=[o.self_managed_topic],
                StartingPosition="LATEST",
            )
        else:
            sqs = self.sb.client("sqs")
            url = sqs.create_queue(QueueName=f"{self.prefix}-queue")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            self.made["queue_arn"] = queue_arn
            esm_args["EventSourceArn"] = queue_arn
            access.append(
                {
                    "Sid": "ReadQueue",
                    "Effect": "Allow",
                    "Action": list(_SQS_SOURCE_ACTIONS),
                    "Resource": queue_arn,
                }
            )

        source_access: list[dict[str, str]] = []
        if source != "sqs" and secret_arn and o.esm_names_secret:
            kind = {"scram": o.scram_type, "tls": "CLIENT_CERTIFICATE_TLS_AUTH"}[o.auth]
            source_access.append({"Type": kind, "URI": secret_arn})
        if root_ca_arn:
            source_access.append({"Type": "SERVER_ROOT_CA_CERTIFICATE", "URI": root_ca_arn})
            access.append(
                {
                    "Sid": "ReadRootCa",
                    "Effect": "Allow",
                    "Action": _SECRET_READ_ACTION,
                    "Resource": root_ca_arn,
                }
            )
        if source == "self-managed" and o.self_managed_vpc:
            source_access += [
                {"Type": "VPC_SUBNET", "URI": f"subnet:{subnet}"} for subnet in self.made["subnet_ids"]
            ]
            source_access.append({"Type": "VPC_SECURITY_GROUP", "URI": f"security_group:{groups[0]}"})
        if source_access:
            esm_args["SourceAccessConfigurations"] = source_access
        if destination and source != "sqs":
            esm_args["DestinationConfig"] = {"OnFailure": {"Destination": destination}}
        access += self.issue15_esm_args(esm_args, cluster_arn, source)
        if o.provisioned_pollers and source != "sqs":
            esm_args["ProvisionedPollerConfig"] = {"MinimumPollers": 1, "MaximumPollers": 3}
        esm_args.update(o.esm_settings)

        role_name, role_arn = self.role(access + self._access_statements(cluster_arn, secret_arn))
        self.secret_policy(role_arn)  # issue 24 (N8)
        function_name, function_arn = self.function(role_arn)
        esm = self.sb.client("lambda").create_event_source_mapping(
            FunctionName=function_name, BatchSize=o.batch_size, Enabled=o.state != "Disabled", **esm_args
        )
        self.issue15_after(role_arn, esm_args)
        self.sb.set_esm_status(
            esm["UUID"],
            state=o.state,
            state_transition_reason=o.state_transition_reason,
            last_processing_result=o.last_processing_result or None,
        )
        if cluster_arn and not o.cross_account_owner and o.cluster_type == "PROVISIONED":
            seeded = o.cluster_topics if o.cluster_topics is not None else {_TOPIC: (3, 3)}
            for topic, (partitions, replication) in seeded.items():
                self.sb.put_topic(cluster_arn, topic, partitions, replication)
        if cluster_arn and not o.cross_account_owner and o.cluster_state != "ACTIVE":
            self.sb.set_cluster_state(cluster_arn, o.cluster_state)
        self.health(function_name)
        self.broker_log_lines()  # issue 21 (item 4)
        if o.esm_age_minutes:
            sandbox_flow.age_esm(self.sb.account_id, self.region, esm["UUID"], o.esm_age_minutes)
        if o.secret_scheduled_for_deletion:
            for arn in self.made.get("secret_arns", ()):
                self.sb.client("secretsmanager").delete_secret(SecretId=arn, RecoveryWindowInDays=7)
        for metric, values in o.esm_metrics.items():
            self.sb.put_metrics("AWS/Lambda", metric, {"EventSourceMappingUUID": esm["UUID"]}, list(values))
        return Scenario(
            name=o.name,
            description=o.description,
            esm_uuid=esm["UUID"],
            esm_arn=esm["EventSourceMappingArn"],
            function_arn=function_arn,
            role_arn=role_arn,
            cluster_arn=cluster_arn,
            vpc_id=self.made.get("vpc_id"),
            expected_findings=o.expected_findings,
            function_name=function_name,
            role_name=role_name,
            source=source,
            auth=o.auth,
            broker_port=port,
            bootstrap_servers=bootstrap,
            subnet_ids=self.made.get("subnet_ids", ()),
            public_subnet_id=self.made.get("public_subnet_id"),
            security_group_ids=groups,
            route_table_ids=self.made.get("route_table_ids", ()),
            nat_gateway_id=self.made.get("nat_gateway_id"),
            endpoint_ids=dict(self.made["endpoint_ids"]),
            endpoint_security_group_id=self.made.get("endpoint_security_group_id"),
            secret_arns=self.made.get("secret_arns", ()),
            kms_key_arn=self.made.get("kms_key_arn"),
            destination_arn=self.made.get("destination_arn"),
            destination_kms_key_arn=self.made.get("destination_kms_key_arn"),
            vpc_connection_arn=self.made.get("vpc_connection_arn"),
            permissions_boundary_arn=self.made.get("permissions_boundary_arn"),
            queue_arn=self.made.get("queue_arn"),
            hosted_zone_id=self.made.get("hosted_zone_id"),
            peer_uuids=self.made.get("peer_uuids", ()),
            schema_registry_arn=self.made.get("schema_registry_arn"),
        )

    # --- issue 15 ---

    def issue15_esm_args(
        self, esm_args: dict[str, Any], cluster_arn: str | None, source: str
    ) -> list[dict[str, Any]]:
        """The mapping's consumer group, schema registry and Kafka destination; the role statements they
        need (returned, so the role is made with them)."""
        o = self.o
        statements: list[dict[str, Any]] = []
        config: dict[str, Any] = {}
        if o.consumer_group_id:
            config["ConsumerGroupId"] = o.consumer_group_id
        if o.schema_registry == "glue":
            name = f"{self.prefix}-registry"
            arn = f"arn:aws:glue:{self.region}:{self.sb.account_id}:registry/{name}"
            if o.glue_registry_exists:
                self.sb.client("glue").create_registry(RegistryName=name)
            config["SchemaRegistryConfig"] = {"SchemaRegistryURI": arn, "EventRecordFormat": "JSON"}
            self.made["schema_registry_arn"] = arn
            if o.role_grants_glue:
                statements += [
                    {"Sid": "GlueRegistry", "Effect": "Allow", "Action": "glue:GetRegistry", "Resource": arn},
                    {
                        "Sid": "GlueSchemas",
                        "Effect": "Allow",
                        "Action": "glue:GetSchemaVersion",
                        "Resource": arn.replace(":registry/", ":schema/") + "/*",
                    },
                ]
        elif o.schema_registry == "confluent":
            secret = self.sb.client("secretsmanager").create_secret(
                Name=f"{self.prefix}-registry-auth",
                SecretString=json.dumps({"username": "registry", "password": "r3g1stry-Passw0rd"}),
            )["ARN"]
            config["SchemaRegistryConfig"] = {
                "SchemaRegistryURI": o.confluent_registry_url,
                "EventRecordFormat": "JSON",
                "AccessConfigs": [{"Type": "BASIC_AUTH", "URI": secret}],
            }
            statements.append(
                {
                    "Sid": "RegistrySecret",
                    "Effect": "Allow",
                    "Action": _SECRET_READ_ACTION,
                    "Resource": secret,
                }
            )
        if config:
            key = (
                "AmazonManagedKafkaEventSourceConfig"
                if source == "msk"
                else "SelfManagedKafkaEventSourceConfig"
            )
            esm_args[key] = config
        topic = (o.kafka_destination or "").removeprefix("kafka://")
        if o.kafka_destination:
            esm_args["DestinationConfig"] = {"OnFailure": {"Destination": o.kafka_destination}}
            if cluster_arn and o.auth == "iam" and o.role_grants_kafka_destination:
                topic_arn = _kafka_resource_arns(cluster_arn, topic)[1]
                statements.append(
                    {
                        "Sid": "KafkaDestination",
                        "Effect": "Allow",
                        "Action": "kafka-cluster:WriteData",
                        "Resource": topic_arn,
                    }
                )
        return statements

    def issue15_after(self, role_arn: str, esm_args: dict[str, Any]) -> None:
        """Key policies that name the role (it must exist first), and the peer mappings."""
        o = self.o
        kms = self.sb.client("kms")
        for policy, key in (
            (o.secret_key_policy, self.made.get("kms_key_arn")),
            (o.destination_key_policy, self.made.get("destination_kms_key_arn")),
        ):
            if policy is not None and key is not None:
                text = json.dumps(policy).replace("{account}", self.sb.account_id).replace("{role}", role_arn)
                kms.put_key_policy(KeyId=key, PolicyName="default", Policy=text)
        peers = []
        for index in range(o.peer_mappings):
            name = f"{self.prefix}-peer{index}"
            self.sb.client("lambda").create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role_arn,
                Handler="index.handler",
                Code={"ZipFile": _function_zip()},
            )
            peer = self.sb.client("lambda").create_event_source_mapping(FunctionName=name, **esm_args)
            peers.append(peer["UUID"])
        self.made["peer_uuids"] = tuple(peers)

    def broker_interface(self, port: int) -> None:
        """issue 21 (item 6): a Kafka broker on EC2: a network interface at the first broker's IP whose
        group admits tcp/`port` only from an application tier's group, not from the pollers'."""
        ec2 = self.ec2
        host = self.o.self_managed_servers[0].rsplit(":", 1)[0]
        if not _is_ip(host):
            host = _zone_address(0)  # issue 21 (item 6): a name, answered by the private zone
        subnets = ec2.describe_subnets(SubnetIds=list(self.made["subnet_ids"]))["Subnets"]
        address = ipaddress.ip_address(host)
        subnet = next(s for s in subnets if address in ipaddress.ip_network(s["CidrBlock"]))
        groups = {}
        for role in ("app", "broker"):
            groups[role] = ec2.create_security_group(
                GroupName=f"{self.prefix}-{role}",
                Description=f"{self.prefix} {role} tier",
                VpcId=self.made["vpc_id"],
                TagSpecifications=self._tags("security-group", role),
            )["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=groups["broker"],
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": port,
                    "ToPort": port,
                    "UserIdGroupPairs": [{"GroupId": groups["app"], "Description": "app tier"}],
                }
            ],
        )
        ec2.create_network_interface(
            SubnetId=subnet["SubnetId"],
            PrivateIpAddress=host,
            Groups=[groups["broker"]],
            TagSpecifications=self._tags("network-interface", "broker"),
        )

    def _tags(self, resource_type: str, suffix: str = "") -> list[dict[str, Any]]:
        name = f"{self.prefix}-{suffix}" if suffix else self.prefix
        return [
            {
                "ResourceType": resource_type,
                "Tags": [{"Key": "Name", "Value": name}, {"Key": "scenario", "Value": self.prefix}],
            }
        ]


def _zone_address(index: int) -> str:
    """The private address the scenario's hosted zone gives the `index`th broker name."""
    return f"10.0.1.{10 + index}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _private_ca(sb: Sandbox, common_name: str) -> str:
    """An ACTIVE root private CA, made the way AWS Private CA's user guide installs a root CA certificate:
    CreateCertificateAuthority, GetCertificateAuthorityCsr, IssueCertificate with the RootCACertificate/V1
    template, ImportCertificateAuthorityCertificate (issue 24, N6)."""
    pca = sb.client("acm-pca")
    arn: str = pca.create_certificate_authority(
        CertificateAuthorityConfiguration={
            "KeyAlgorithm": "RSA_2048",
            "SigningAlgorithm": "SHA256WITHRSA",
            "Subject": {"CommonName": common_name},
        },
        CertificateAuthorityType="ROOT",
    )["CertificateAuthorityArn"]
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    issued = pca.issue_certificate(
        CertificateAuthorityArn=arn,
        Csr=csr.encode(),
        SigningAlgorithm="SHA256WITHRSA",
        TemplateArn="arn:aws:acm-pca:::template/RootCACertificate/V1",
        Validity={"Value": 10, "Type": "YEARS"},
    )["CertificateArn"]
    root = pca.get_certificate(CertificateAuthorityArn=arn, CertificateArn=issued)["Certificate"]
    pca.import_certificate_authority_certificate(CertificateAuthorityArn=arn, Certificate=root.encode())
    return arn


def _client_certificate(common_name: str, sb: Sandbox, ca_arn: str) -> dict[str, str]:
    """A client certificate issued by private CA `ca_arn` (IssueCertificate with the EndEntityCertificate/V1
    template) and its unencrypted PKCS#8 key, as Lambda expects them in the secret.

    "Using Lambda with Amazon MSK", section "Configuring the mTLS secret",
    https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html
    (source: awsdocs/aws-lambda-developer-guide doc_source/with-msk.md): "The CLIENT_CERTIFICATE_TLS_AUTH
    secret requires a certificate field and a private key field ... Both the certificate and private key must
    be in PEM format"; "The private key must be in PKCS #8 format".
    """

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    pca = sb.client("acm-pca")
    issued = pca.issue_certificate(
        CertificateAuthorityArn=ca_arn,
        Csr=csr.public_bytes(serialization.Encoding.PEM),
        SigningAlgorithm="SHA256WITHRSA",
        TemplateArn="arn:aws:acm-pca:::template/EndEntityCertificate/V1",
        Validity={"Value": 365, "Type": "DAYS"},
    )["CertificateArn"]
    certificate = pca.get_certificate(CertificateAuthorityArn=ca_arn, CertificateArn=issued)["Certificate"]
    return {
        "certificate": certificate,
        "privateKey": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    }


# --- IAM and policy presets (execution role, endpoint policies, SCRAM) -----------------------------

# LastProcessingResult texts of the broken presets below. "Cluster failed to authorize Lambda" and "SASL
# authentication failed" are the errors "Using Lambda with Amazon MSK", section "Authentication and
# authorization errors", https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html#msk-permissions-errors
# (source: awsdocs/aws-lambda-developer-guide doc_source/with-msk.md) says Lambda shows under
# LastProcessingResult. Not confirmed: the "PROBLEM: " prefix, and the exact wording of the other messages
# (assume role, endpoint policy, secret access, unresolvable brokers), which no page found quotes.
ASSUME_ROLE_ERROR: Final = (
    "PROBLEM: Lambda failed to assume your function execution role. Please check if the role trust Lambda "
    "service principal, and make sure it does not require setting source identity to be assumed."
)
_ALL_ENDPOINTS: Final = ("lambda", "sts")


def _only_allows(action: str) -> dict[str, Any]:
    """An endpoint policy that lets everyone make one unrelated call, and nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "OnlyThis", "Effect": "Allow", "Principal": "*", "Action": action, "Resource": "*"}
        ],
    }


register(
    dataclasses.replace(
        BASELINE,
        name="role-not-trusted",
        description="The execution role trusts ec2.amazonaws.com instead of Lambda.",
        role_trusts_lambda=False,
        last_processing_result=ASSUME_ROLE_ERROR,
        expected_findings=("EXECUTION_ROLE_NOT_ASSUMABLE",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="role-requires-source-identity",
        description="The role trusts Lambda only when a source identity is set, which Lambda never does.",
        role_trust_requires_source_identity=True,
        last_processing_result=ASSUME_ROLE_ERROR,
        expected_findings=("EXECUTION_ROLE_NOT_ASSUMABLE",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="sts-endpoint-blocks-assume",
        description="The STS endpoint policy does not let the Lambda service principal call sts:AssumeRole.",
        endpoints=_ALL_ENDPOINTS,
        endpoint_policies={"sts": _only_allows("sts:GetCallerIdentity")},
        last_processing_result=ASSUME_ROLE_ERROR,
        expected_findings=("EXECUTION_ROLE_NOT_ASSUMABLE",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="lambda-endpoint-denies-invoke",
        description="The Lambda endpoint policy allows only lambda:GetFunction.",
        endpoints=_ALL_ENDPOINTS,
        endpoint_policies={"lambda": _only_allows("lambda:GetFunction")},
        last_processing_result="PROBLEM: No VPC endpoint policy allows the action lambda:InvokeFunction.",
        expected_findings=("ENDPOINT_POLICY_DENIES_INVOKE",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="secret-endpoint-explicit-deny",
        description="The seed's case: the Secrets Manager endpoint policy explicitly denies GetSecretValue.",
        auth="scram",
        endpoints=(*_ALL_ENDPOINTS, "secretsmanager"),
        endpoint_policies={
            "secretsmanager": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "AllowAll", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                    {
                        "Sid": "DenySecretValues",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
                        "Resource": "*",
                    },
                ],
            }
        },
        last_processing_result=(
            "PROBLEM: Lambda is unable to call secretsmanager:GetSecretValue. Reason: User: the Lambda "
            "execution role is not authorized to perform: secretsmanager:GetSecretValue on resource: Secrets "
            "Manager secret with an explicit deny in a VPC endpoint policy"
        ),
        expected_findings=("ENDPOINT_POLICY_DENIES_SECRET",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="destination-endpoint-blocks-send",
        description="The SQS endpoint policy does not let the execution role send to the on-failure queue.",
        destination="sqs",
        endpoints=(*_ALL_ENDPOINTS, "sqs"),
        endpoint_policies={"sqs": _only_allows("sqs:ReceiveMessage")},
        expected_findings=("ENDPOINT_POLICY_DENIES_DESTINATION",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="role-missing-msk-access",
        description="The execution role lacks the AWSLambdaMSKExecutionRole actions.",
        role_grants_msk_access=False,
        expected_findings=("EXECUTION_ROLE_MISSING_PERMISSIONS",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="role-missing-kafka-cluster",
        description="IAM auth, but the execution role lacks every kafka-cluster:* data-plane action.",
        role_grants_kafka_cluster=False,
        last_processing_result="PROBLEM: Cluster failed to authorize Lambda.",
        expected_findings=("CLUSTER_AUTHZ_FAILED", "EXECUTION_ROLE_MISSING_PERMISSIONS", "SASL_AUTH_FAILED"),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="role-missing-secret",
        description="SCRAM auth, but the execution role may neither read the secret nor decrypt it.",
        auth="scram",
        role_grants_secret=False,
        expected_findings=("EXECUTION_ROLE_MISSING_PERMISSIONS",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="scram-secret-not-associated",
        description="SCRAM auth with a valid secret that was never associated with the cluster.",
        auth="scram",
        scram_secret_associated=False,
        last_processing_result="PROBLEM: SASL authentication failed.",
        expected_findings=("SASL_AUTH_FAILED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="scram-acls-deny",
        description="SCRAM auth works but the Kafka ACLs do not authorize the consumer.",
        auth="scram",
        last_processing_result="PROBLEM: Cluster failed to authorize Lambda.",
        expected_findings=("CLUSTER_AUTHZ_FAILED",),
    )
)
register(
    ScenarioOptions(
        name="broker-dns-zone-not-associated",
        description="Self-managed Kafka in a VPC whose broker names live in a private hosted zone that is "
        "associated with another VPC, not the ESM's.",
        source="self-managed",
        auth="none",
        self_managed_vpc=True,
        private_zone="kafka.internal.example",
        private_zone_associated=False,
        last_processing_result="PROBLEM: The provided Kafka broker endpoints cannot be resolved.",
        expected_findings=("BROKER_DNS_UNRESOLVABLE",),
    )
)


# --- AWS's documented rules the engine once got wrong (issue 13: IAM, policies, secrets, the mapping) ---


def _service_only(action: str, resource: str) -> dict[str, Any]:
    """An endpoint policy that lets Lambda's service principal make one call on one resource only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ScopedToOneResource",
                "Effect": "Allow",
                "Principal": {"Service": _LAMBDA_SERVICE_PRINCIPAL},
                "Action": action,
                "Resource": resource,
            }
        ],
    }


# An endpoint policy limited to the organization: every principal of organization o-exampleorgid, nothing
# else. "Restricting your VPC endpoint policies to allow only API calls originating within your organization
# prevents the event source mapping from functioning properly" (Lambda developer guide, network configuration
# of the Kafka event sources); aws:PrincipalOrgID is "included in the request context only if the principal
# is a member of an organization" (IAM User Guide, "AWS global condition context keys"), which a service
# principal is not.
_ORGANIZATION_ONLY: Final[Mapping[str, Any]] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OrganizationOnly",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorgid"}},
        }
    ],
}

register(
    dataclasses.replace(
        BASELINE,
        name="endpoint-policies-scoped",
        description='Lambda and STS endpoint policies name the function and the role, not "Resource": "*".',
        endpoints=_ALL_ENDPOINTS,
        endpoint_policies={
            "lambda": _service_only("lambda:InvokeFunction", FUNCTION_ARN),
            "sts": _service_only("sts:AssumeRole", ROLE_ARN),
        },
        expected_findings=("ENDPOINT_POLICY_DENIES_INVOKE", "EXECUTION_ROLE_NOT_ASSUMABLE"),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="endpoint-policies-organization-only",
        description="Lambda and STS endpoint policies allow only principals of the organization.",
        endpoints=_ALL_ENDPOINTS,
        endpoint_policies={"lambda": _ORGANIZATION_ONLY, "sts": _ORGANIZATION_ONLY},
        expected_findings=("ENDPOINT_POLICY_DENIES_INVOKE", "EXECUTION_ROLE_NOT_ASSUMABLE"),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="provisioned-mode-endpoint-policies",
        description="Provisioned pollers, whose path has no VPC endpoint, beside denying endpoint policies.",
        provisioned_pollers=True,
        endpoints=_ALL_ENDPOINTS,
        endpoint_policies={
            "lambda": _only_allows("lambda:GetFunction"),
            "sts": _only_allows("sts:GetCallerIdentity"),
        },
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="destination-s3-own-key",
        description="An S3 on-failure destination with its own KMS key; the role may only s3:PutObject.",
        destination="s3",
        destination_kms=True,
        role_destination_actions=("s3:PutObject",),
        role_grants_destination_kms=False,
        expected_findings=("EXECUTION_ROLE_MISSING_PERMISSIONS",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="destination-sqs-own-key",
        description="An SQS on-failure destination encrypted with its own KMS key the role may not use.",
        destination="sqs",
        destination_kms=True,
        role_grants_destination_kms=False,
        expected_findings=("EXECUTION_ROLE_MISSING_PERMISSIONS",),
    )
)
# issue 24 (N5): an SNS destination under its own key, as the SQS one above.
register(
    dataclasses.replace(
        BASELINE,
        name="destination-sns-own-key",
        description="An SNS on-failure destination encrypted with its own KMS key the role may not use.",
        destination="sns",
        destination_kms=True,
        role_grants_destination_kms=False,
        expected_findings=("EXECUTION_ROLE_MISSING_PERMISSIONS",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="role-missing-logs",
        description="The execution role lacks the CloudWatch Logs actions.",
        role_grants_logs=False,
        expected_findings=("EXECUTION_ROLE_MISSING_PERMISSIONS",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="serverless-describe-cluster-v1",
        description="A serverless cluster whose role may kafka:DescribeCluster but not DescribeClusterV2.",
        cluster_type="SERVERLESS",
        role_msk_actions=tuple(a for a in _MSK_EXECUTION_ACTIONS if a != "kafka:DescribeClusterV2"),
        expected_findings=("EXECUTION_ROLE_MISSING_PERMISSIONS",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="cluster-maintenance",
        description="Connection errors while the cluster is in MAINTENANCE, with a large batch size.",
        batch_size=500,
        cluster_state="MAINTENANCE",
        last_processing_result=CONNECTION_ERROR,
        # issue 24 (N7): MAINTENANCE still serves clients ("You can still use the cluster to produce and
        # consume data", MSK DG "Understand MSK Provisioned cluster states"): the state does not hide the
        # rest; only CREATING, DELETING and FAILED keep clients out.
        expected_findings=("BROKER_TIMEOUT",),
    )
)
# issue 24 (N7): a mapping Lambda disabled while the cluster is in MAINTENANCE (the audit's P6-F); and a
# FAILED cluster, in which clients cannot produce or consume (same page), where nothing changes.
register(
    dataclasses.replace(
        BASELINE,
        name="cluster-maintenance-disabled",
        description="A mapping Lambda disabled while its cluster is in MAINTENANCE (still serving clients).",
        cluster_state="MAINTENANCE",
        state="Disabled",
        state_transition_reason="Lambda initiated",
        expected_findings=("ESM_DISABLED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="cluster-failed",
        description="Connection errors while the cluster is FAILED, with a large batch size.",
        batch_size=500,
        cluster_state="FAILED",
        last_processing_result=CONNECTION_ERROR,
        expected_findings=("CLUSTER_NOT_ACTIVE",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="disabled-by-lambda",
        description="A healthy mapping that Lambda disabled (StateTransitionReason from the API reference).",
        state="Disabled",
        state_transition_reason="Lambda initiated",
        expected_findings=("ESM_DISABLED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="cross-account-msk",
        description="IAM auth to another account's cluster through a managed VPC connection.",
        cross_account_owner="444455556666",
    )
)
# issue 24 (N3): a cross-account SCRAM mapping whose connection's security group admits nothing, with
# connection errors. Its brokers are reached through the VPC connection, on the ports of the owner's
# GetBootstrapBrokers BootstrapBrokerStringVpcConnectivity* strings, not the cluster's own 9096.
register(
    dataclasses.replace(
        BASELINE,
        name="cross-account-scram-closed",
        description="A cross-account SCRAM mapping whose VPC connection's group admits nothing.",
        cross_account_owner="444455556666",
        auth="scram",
        sg_self_ingress=False,
        last_processing_result=CONNECTION_ERROR,
        expected_findings=("COULD_NOT_CHECK",),
    )
)
# issue 24 (N4): a healthy trigger whose subnets go out through a regional NAT gateway (no public subnet
# needed, "Regional NAT gateways for automatic multi-AZ expansion").
register(
    dataclasses.replace(
        BASELINE,
        name="regional-nat-gateway",
        description="A healthy trigger whose subnets reach AWS through a regional NAT gateway.",
        egress="regional-nat-gateway",
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="cross-account-no-describe-vpc-connection",
        description="A cross-account mapping whose role may not kafka:DescribeVpcConnection.",
        cross_account_owner="444455556666",
        role_grants_vpc_connection=False,
        expected_findings=("EXECUTION_ROLE_MISSING_PERMISSIONS",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="cross-account-owner-denies",
        description="A cross-account mapping the owner's cluster does not authorize.",
        cross_account_owner="444455556666",
        last_processing_result="PROBLEM: Cluster failed to authorize Lambda.",
        expected_findings=("CLUSTER_AUTHZ_FAILED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="role-boundary-denies",
        description="The role's policies allow everything; its permissions boundary omits the kafka-cluster "
        "actions.",
        permissions_boundary={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Execution",
                    "Effect": "Allow",
                    "Action": list(_MSK_EXECUTION_ACTIONS),
                    "Resource": "*",
                }
            ],
        },
        expected_findings=("CLUSTER_AUTHZ_FAILED", "EXECUTION_ROLE_MISSING_PERMISSIONS", "SASL_AUTH_FAILED"),
    )
)

# --- issue 15: consumer groups, key policies, schema registries, Kafka destinations ----------------------

_KEY_ADMIN = {
    # The default key policy's key-administrator actions, for the account: it may manage the key (and put
    # its policy), not use it ("Default key policy", KMS developer guide, "Allows key administrators").
    "Sid": "KeyAdministration",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::{account}:root"},
    "Action": [
        "kms:Create*",
        "kms:Describe*",
        "kms:Enable*",
        "kms:List*",
        "kms:Put*",
        "kms:Update*",
        "kms:Revoke*",
        "kms:Disable*",
        "kms:Get*",
        "kms:Delete*",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion",
    ],
    "Resource": "*",
}
register(
    dataclasses.replace(
        BASELINE,
        name="consumer-group-shared",
        description="Two mappings of two functions join consumer group orders-consumers on the same cluster "
        "and topic.",
        consumer_group_id="orders-consumers",
        peer_mappings=1,
        expected_findings=("CONSUMER_GROUP_SHARED",),
    )
)
register(
    ScenarioOptions(
        name="consumer-group-shared-self-managed",
        description="Two self-managed Kafka mappings on the same brokers and topic share a consumer group.",
        source="self-managed",
        auth="none",
        self_managed_servers=("localhost:9092", "127.0.0.1:9093"),
        consumer_group_id="orders-consumers",
        peer_mappings=1,
        expected_findings=("CONSUMER_GROUP_SHARED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="kms-secret-key-policy-no-grant",
        description="The SCRAM secret's customer managed key lets the account administer it, not use it: "
        "neither the role nor IAM policies may decrypt.",
        auth="scram",
        secret_key_policy={"Version": "2012-10-17", "Statement": [_KEY_ADMIN]},
        expected_findings=("KMS_KEY_DENIES",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="kms-destination-key-policy-denies",
        description="The SQS destination's key policy denies kms:Decrypt to all but another role.",
        destination="sqs",
        destination_kms=True,
        destination_key_policy={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "EnableIamPolicies",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "DecryptOnlyForTheApp",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::{account}:role/app"}},
                },
            ],
        },
        expected_findings=("KMS_KEY_DENIES",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="schema-registry-glue-denied",
        description="A provisioned-mode mapping with a Glue schema registry its role may not read.",
        provisioned_pollers=True,
        schema_registry="glue",
        role_grants_glue=False,
        expected_findings=("EXECUTION_ROLE_MISSING_PERMISSIONS", "SCHEMA_REGISTRY_DENIED"),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="schema-registry-glue-missing",
        description="The mapping's Glue schema registry does not exist.",
        provisioned_pollers=True,
        schema_registry="glue",
        glue_registry_exists=False,
        expected_findings=("SCHEMA_REGISTRY_UNREACHABLE",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="schema-registry-confluent-unresolvable",
        description="A Confluent schema registry whose host name resolves nowhere.",
        provisioned_pollers=True,
        schema_registry="confluent",
        expected_findings=("SCHEMA_REGISTRY_UNREACHABLE",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="kafka-destination-no-write",
        description="A Kafka topic as on-failure destination the role may not WriteData to.",
        provisioned_pollers=True,
        kafka_destination="kafka://orders-failures",
        role_grants_kafka_destination=False,
        expected_findings=("EXECUTION_ROLE_MISSING_PERMISSIONS",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="kafka-destination-healthy",
        description="A Kafka topic as on-failure destination, writable by the role.",
        provisioned_pollers=True,
        kafka_destination="kafka://orders-failures",
    )
)


# issue 21: listeners as the cluster offers them. A cluster that accepts only SASL/SCRAM (or only mTLS), with
# ClientBroker TLS, and a mapping that names no secret: there is no plaintext listener, so the missing secret
# is the finding, never a 9092 rule (Lambda DG, "Configuring Amazon MSK cluster authentication methods in
# Lambda": "reference this secret when configuring your event source mapping").
register(
    dataclasses.replace(
        BASELINE,
        name="scram-only-no-secret",
        description="A SASL/SCRAM-only MSK cluster (ClientBroker TLS) and a mapping that names no secret.",
        auth="scram",
        esm_names_secret=False,
        last_processing_result=CONNECTION_ERROR,
        expected_findings=("ESM_SECRET_MISSING",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="mtls-only-no-secret",
        description="An mTLS-only MSK cluster (ClientBroker TLS) and a mapping that names no secret.",
        auth="tls",
        esm_names_secret=False,
        last_processing_result=CONNECTION_ERROR,
        expected_findings=("ESM_SECRET_MISSING",),
    )
)

# issue 21: topics, from MSK's topic APIs (Kafka 3.6.0, ACTIVE, provisioned: the APIs apply).
register(
    dataclasses.replace(
        BASELINE,
        name="topic-missing",
        description="The mapping reads topic 'orders', which the cluster does not have ('Orders' and "
        "'orders-v2' exist), and reports a connection error.",
        cluster_topics={"Orders": (6, 3), "orders-v2": (6, 3), "payments": (12, 3)},
        batch_size=500,
        last_processing_result=CONNECTION_ERROR,
        expected_findings=("TOPIC_NOT_FOUND",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="topic-replication-one",
        description="The mapping's topic has a single replica (replication factor 1).",
        cluster_topics={"orders": (3, 1)},
        expected_findings=("TOPIC_REPLICATION_FACTOR_ONE",),
    )
)

# issue 24 (N6): an mTLS mapping whose client certificate another private CA issued: the cluster trusts only
# its own (ClientAuthentication.Tls.CertificateAuthorityArnList), so the brokers refuse Lambda.
SERVER_FAILED_TO_AUTHENTICATE: Final = "PROBLEM: Server failed to authenticate Lambda."
register(
    dataclasses.replace(
        BASELINE,
        name="mtls-untrusted-client-certificate",
        description="An mTLS mapping whose client certificate a private CA the cluster does not list issued.",
        auth="tls",
        client_certificate_ca="other",
        last_processing_result=SERVER_FAILED_TO_AUTHENTICATE,
        expected_findings=("CLIENT_CERTIFICATE_UNTRUSTED",),
    )
)

# issue 24 (N8): SASL/SCRAM secrets the execution role cannot read because of the secret itself. A secret of
# the owner's account (a cross-account mapping) with no resource policy and the AWS managed key (the audit's
# P10), which the consumer cannot even describe; the same secret readable by the consumer account but still
# under the AWS managed key; and a secret of the mapping's own account whose resource policy denies the role.
SASL_FAILED: Final = "PROBLEM: SASL authentication failed."
register(
    dataclasses.replace(
        BASELINE,
        name="cross-account-secret-unreadable",
        description="A cross-account SCRAM mapping whose secret, in the owner's account, has no resource "
        "policy.",
        cross_account_owner="444455556666",
        auth="scram",
        owner_holds_secret=True,
        sm_default_key=True,
        last_processing_result=SASL_FAILED,
        expected_findings=("COULD_NOT_CHECK",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="cross-account-secret-default-key",
        description="A cross-account SCRAM mapping whose secret, in the owner's account, allows the role but "
        "is encrypted with the AWS managed key.",
        cross_account_owner="444455556666",
        auth="scram",
        owner_holds_secret=True,
        sm_default_key=True,
        sm_resource_policy="allow-role-and-consumer",
        last_processing_result=SASL_FAILED,
        expected_findings=("COULD_NOT_CHECK", "SECRET_ACCESS_BLOCKED"),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="secret-policy-denies-role",
        description="A SCRAM mapping whose secret's resource policy denies the execution role "
        "GetSecretValue.",
        auth="scram",
        sm_resource_policy="deny-role",
        last_processing_result=SASL_FAILED,
        expected_findings=("SECRET_ACCESS_BLOCKED",),
    )
)

# issue 24 (item 6): the NAT gateway's own subnet's NACL denies tcp/443 in from the VPC (the pollers' calls to
# AWS never reach the NAT gateway); routes other than the literal 0.0.0.0/0 to the NAT gateway.
register(
    dataclasses.replace(
        BASELINE,
        name="nat-subnet-nacl-denies",
        description="The NAT gateway's subnet's NACL denies tcp/443 in from the VPC.",
        egress="nat-subnet-nacl-denies",
        expected_findings=("BROKER_PORTS_BLOCKED",),
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="split-default-nat",
        description="A healthy trigger whose subnets route 0.0.0.0/1 and 128.0.0.0/1 to the NAT gateway.",
        egress="split-default-nat",
    )
)
register(
    dataclasses.replace(
        BASELINE,
        name="prefix-list-to-nat",
        description="No default route; a customer managed prefix list of AWS ranges goes to the NAT gateway.",
        egress="prefix-list-to-nat",
        expected_findings=("COULD_NOT_CHECK",),
    )
)

# issue 24 (N17): an MSK Serverless cluster with two VpcConfigs entries; the second one's subnet has no way
# out, which reading VpcConfigs[0] alone never saw.
register(
    dataclasses.replace(
        BASELINE,
        name="serverless-second-vpc-config",
        description="An MSK Serverless cluster whose second VpcConfigs entry is a subnet with no way out.",
        cluster_type="SERVERLESS",
        serverless_extra_config=True,
        expected_findings=("SERVICE_ENDPOINTS_UNREACHABLE",),
    )
)

# issue 24 (N14): Express brokers have a quota section of their own on the MSK quota page; the Standard
# broker's 3,000 IAM connections is not theirs.
register(
    dataclasses.replace(
        BASELINE,
        name="express-broker-connections",
        description="An MSK IAM cluster of Express brokers whose broker 3 holds 2,950 connections.",
        broker_instance_type="express.m7g.large",
        broker_metrics={"ConnectionCount": {"1": (400.0,), "3": (2100.0, 2950.0)}},
    )
)
