"""What one ESM needs IAM to allow, as `policy.Request`s derived from its `Facts`.

Checks ask "is each need allowed?"; actions ask "what is the smallest patch that allows them all?".
Both take the needs from here, so a finding and the change that answers it cannot disagree, and two
findings about the same document (say, a missing kafka:DescribeClusterV2 and a missing
kafka-cluster:Connect) produce the very same change, which the engine then merges into one.

The needs follow the AWS documentation of Lambda's Kafka event sources, each cited where it is encoded:
the CloudWatch Logs actions, the AWSLambdaMSKExecutionRole actions (DescribeCluster or DescribeClusterV2
on a provisioned cluster, DescribeClusterV2 on a serverless one, DescribeVpcConnection for a cross-account
one), the network-interface actions where the pollers run in a VPC, the secret and its customer-managed
key, the on-failure destination and its customer-managed key, the MSK IAM data-plane actions on the
cluster, topic and consumer group ARNs; and in resource policies: the role's trust of
lambda.amazonaws.com, and what each VPC endpoint policy must let through.

An execution role's permissions boundary limits it: a need is met only when the identity policies and the
boundary both allow it ("Permissions boundaries for IAM entities", IAM User Guide: "an entity's
permissions boundary allows it to perform only the actions that are allowed by both its identity-based
policies and its permissions boundaries", https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from remediate import kafka
from remediate.facts import Facts, KmsKey, VpcEndpoint
from remediate.policy import (
    FULL_ACCESS,
    ORGANIZATION_KEYS,
    Decision,
    Document,
    Principal,
    Request,
    evaluate,
    statement_matches,
    statements,
)
from remediate.poller_paths import reaches_services_from_vpc

LAMBDA_SERVICE = "lambda.amazonaws.com"
LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
"""Required of every Kafka mapping's execution role: "CloudWatch Logs permissions" (Lambda developer guide,
"Configuring Lambda permissions for Amazon MSK event source mappings",
https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html; the same three on the self-managed
Kafka permissions page, https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-permissions.html)."""
NETWORK_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
)
CONNECT = "kafka-cluster:Connect"
DESCRIBE_VPC_CONNECTION = "kafka:DescribeVpcConnection"
_DESTINATION_ACTIONS: dict[str, tuple[str, ...]] = {
    "sns": ("sns:Publish",),
    "sqs": ("sqs:SendMessage",),
    "s3": ("s3:PutObject", "s3:ListBucket"),
}
""""For an SQS destination: sqs:SendMessage; For an SNS destination: sns:Publish; For an S3 destination:
s3:PutObject and s3:ListBucket" (Lambda developer guide, "Capturing discarded batches for Amazon MSK and
self-managed Apache Kafka event sources", https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html)."""
DESTINATION_KMS: dict[str, tuple[str, ...]] = {
    "s3": ("kms:GenerateDataKey",),
    "sqs": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sns": ("kms:GenerateDataKey", "kms:Decrypt"),
}
"""Same page: "if you configured a KMS key on your destination": kms:GenerateDataKey for an S3 destination
encrypted with your own key. For SQS and SNS (issue 24, N5) the producer's needs are the queue's and the
topic's: a producer of an SSE-KMS queue or topic calls both kms:GenerateDataKey and kms:Decrypt (Amazon SQS
DG, "Amazon SQS key management", Configuring AWS KMS permissions: the customer managed key's policy or an
IAM policy must allow "each queue producer", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/
SQSDeveloperGuide/sqs-key-management.html; AWS End User Messaging SMS guide, "Amazon SNS access policy",
encrypted topics: "kms:GenerateDataKey", "kms:Decrypt" for the publisher). The stored copies cut the SQS
producer example and the SNS key-management page; asking for both is the choice that cannot break a
delivery, and both are on the one key."""
ENDPOINT_SERVICES = ("lambda", "sts", "secretsmanager", "sns", "sqs", "s3")


@dataclass(frozen=True)
class Need:
    """Requests any one of which suffices; the first is the one to grant when none is allowed."""

    alternatives: tuple[Request, ...]
    why: str

    @property
    def primary(self) -> Request:
        return self.alternatives[0]


def account_of(facts: Facts) -> str:
    for arn in (facts.esm.arn, facts.esm.function_arn, facts.role.arn if facts.role else ""):
        parts = arn.split(":")
        if len(parts) > 4 and parts[4]:
            return parts[4]
    return ""


def role_principal(facts: Facts) -> Principal | None:
    arn = facts.role.arn if facts.role else facts.function.role_arn if facts.function else ""
    return Principal.role(arn) if arn else None


def lambda_service() -> Principal:
    return Principal.service(LAMBDA_SERVICE)


def is_aws_managed_key(key_id: str | None) -> bool:
    """No KmsKeyId, or the Secrets Manager default key: MSK SCRAM and cross-service reads refuse it."""
    return not key_id or key_id.endswith("alias/aws/secretsmanager")


def auth_mode(facts: Facts) -> kafka.AuthMode | None:
    """How Lambda authenticates to the MSK source, same-account or cross-account (None: not decidable)."""
    if facts.esm.source_kind != "msk":
        return None
    if kafka.is_vpc_connection(facts.esm.event_source_arn):
        return kafka.cross_account_auth_mode(facts.esm, facts.vpc_connection)
    return kafka.msk_auth_mode(facts.esm, facts.cluster)


def uses_iam_auth(facts: Facts) -> bool:
    """Whether Lambda authenticates to the MSK cluster with SASL/IAM (its documented choice of listener)."""
    return auth_mode(facts) == "iam"


def is_aws_managed_alias(key_id: str | None) -> bool:
    """An AWS managed key named by its alias (alias/aws/sqs, alias/aws/sns, ...): not "your own KMS key"."""
    return bool(key_id) and (key_id or "").split(":", 5)[-1].startswith("alias/aws/")


def _kms_need(facts: Facts, key: str | None, action: str = "kms:Decrypt") -> Request | None:
    """`action` on a customer managed key given as an ARN, a key id or an alias; None for AWS managed keys."""
    if is_aws_managed_key(key) or is_aws_managed_alias(key):
        return None
    assert key is not None
    if key.startswith("arn:") and ":key/" in key:
        return Request.make(action, key)
    key_prefix = f"arn:aws:kms:{facts.region}:{account_of(facts)}:key/"
    if key.startswith("arn:") or key.startswith("alias/"):
        # Grants name keys, not aliases: allow any key of the account while it carries this alias.
        alias = key.split(":", 5)[-1] if key.startswith("arn:") else key
        return Request.make(
            action,
            key_prefix + "*",
            context={"kms:ResourceAliases": (alias,)},
            grant_condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}},
        )
    return Request.make(action, key_prefix + key)


def destination(facts: Facts) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """(service, ((action, resource), ...)) of the on-failure destination, or None.

    S3 writes objects into the bucket (`BUCKET/*`) and lists the bucket itself."""
    arn = facts.esm.on_failure_destination
    if not arn:
        return None
    service = arn.split(":")[2] if arn.count(":") >= 2 else ""
    actions = _DESTINATION_ACTIONS.get(service)
    if actions is None:
        return None
    if service == "s3":
        return service, (("s3:PutObject", f"{arn}/*"), ("s3:ListBucket", arn))
    return service, tuple((a, arn) for a in actions)


def log_group_arn(facts: Facts) -> str:
    """The function's log group and its streams, as the CloudWatch Logs actions are authorized on them.

    The group is the function's LoggingConfig.LogGroup, by default `/aws/lambda/FUNCTION_NAME` (Lambda
    developer guide, "Sending Lambda function logs to CloudWatch Logs")."""
    function = facts.function
    name = facts.esm.function_arn.split(":")[6] if facts.esm.function_arn.count(":") >= 6 else ""
    group = (function.log_group if function else None) or f"/aws/lambda/{function.name if function else name}"
    return f"arn:aws:logs:{facts.region}:{account_of(facts)}:log-group:{group}:*"


def cluster_read_need(facts: Facts) -> Need | None:
    """What lets the pollers read the event source: DescribeCluster(V2) on the cluster, or, for a
    cross-account source, DescribeVpcConnection on the managed VPC connection.

    "You only need to add one of either kafka:DescribeCluster or kafka:DescribeClusterV2. For Amazon MSK
    provisioned clusters, either permission works. For Amazon MSK serverless clusters, you must use
    kafka:DescribeClusterV2"; "For cross-account event source mappings, you need
    kafka:DescribeVpcConnection in the execution role" (with-msk-permissions)."""
    esm = facts.esm
    arn = esm.event_source_arn
    if esm.source_kind != "msk" or not arn:
        return None
    if kafka.is_vpc_connection(arn):
        return Need((Request.make(DESCRIBE_VPC_CONNECTION, arn),), "read the cross-account VPC connection")
    if facts.cluster is not None and facts.cluster.kind == "SERVERLESS":
        return Need((Request.make("kafka:DescribeClusterV2", arn),), "read the serverless cluster")
    reqs = (Request.make("kafka:DescribeClusterV2", arn), Request.make("kafka:DescribeCluster", arn))
    return Need(reqs, "read the cluster")


def role_needs(facts: Facts) -> list[Need]:
    """What the execution role's identity policies must allow for this ESM."""
    needs: list[Need] = []

    def need(*actions: str, resource: str, why: str, request: Request | None = None) -> None:
        reqs = (request,) if request else tuple(Request.make(a, resource) for a in actions)
        needs.append(Need(reqs, why))

    esm = facts.esm
    if facts.function is not None or esm.function_arn:
        for action in LOG_ACTIONS:
            need(action, resource=log_group_arn(facts), why="write the function's logs")
    read = cluster_read_need(facts)
    if read is not None:
        needs.append(read)
        if not kafka.is_vpc_connection(esm.event_source_arn) and esm.event_source_arn:
            need("kafka:GetBootstrapBrokers", resource=esm.event_source_arn, why="find the brokers")
    if facts.network is not None and facts.network.placement != "internet":
        for action in NETWORK_ACTIONS:
            need(action, resource="*", why="place the pollers' network interfaces in the VPC")
    for secret in facts.secrets:
        if not secret.exists:
            continue
        need("secretsmanager:GetSecretValue", resource=secret.arn, why="read the authentication secret")
        kms = _kms_need(facts, secret.kms_key_id)
        if kms is not None and not key_policy_grants_role(facts, secret.kms_key_id, kms.action):
            need(request=kms, resource=kms.resource, why="decrypt the secret with its customer-managed key")
    dest = destination(facts)
    if dest is not None:
        for action, resource in dest[1]:
            need(action, resource=resource, why="deliver failed batches to the on-failure destination")
        key = facts.destination.kms_key_id if facts.destination else None
        for kms_action in DESTINATION_KMS[dest[0]]:
            kms = _kms_need(facts, key, kms_action)
            if kms is not None and not key_policy_grants_role(facts, key, kms.action):
                need(request=kms, resource=kms.resource, why="use the destination's customer-managed key")
    needs.extend(kafka_cluster_needs(facts))
    needs.extend(schema_registry_needs(facts))
    needs.extend(kafka_destination_needs(facts))
    return needs


# --- issue 15: a Glue schema registry, a Kafka topic as the on-failure destination ---------------------

GLUE_REGISTRY_READ = "glue:GetRegistry"
GLUE_SCHEMA_READ = "glue:GetSchemaVersion"
"""What the execution role needs for an AWS Glue schema registry: "If you're working with an AWS Glue schema
registry, don't provide authentication details in this object. Instead, ensure that your execution role has
the required permissions" (Lambda API reference, KafkaSchemaRegistryAccessConfig). The two reads are the
registry and the schema versions a deserializer resolves records against (AWS Glue developer guide,
"Getting started with schema registry", IAM examples for deserializers). The stored copy of the Lambda page
("Using schema registries with Kafka event sources in Lambda") was cut before its permission list, so
further actions it may name are not checked; schema versions are granted on the registry's schemas
(`schema/REGISTRY/*`), since the record, not the mapping, names the schema."""
KAFKA_WRITE = "kafka-cluster:WriteData"
"""For a Kafka topic as the on-failure destination the role needs kafka-cluster:WriteData (Lambda developer
guide, "Capturing discarded batches for Amazon MSK and self-managed Apache Kafka event sources": "For a Kafka
destination: kafka-cluster:WriteData"); as an MSK IAM action it is authorized on the topic's ARN in the
source cluster (the destination must be on the same cluster: kafka.KAFKA_DESTINATION_PREFIX)."""


def schema_registry_needs(facts: Facts) -> list[Need]:
    """The Glue registry's reads, when the mapping's schema registry is a Glue registry."""
    uri = facts.esm.schema_registry_uri
    if uri is None or not kafka.is_glue_registry(uri):
        return []
    prefix, _, name = uri.partition(":registry/")
    return [
        Need((Request.make(GLUE_REGISTRY_READ, uri),), "read the Glue schema registry"),
        Need((Request.make(GLUE_SCHEMA_READ, f"{prefix}:schema/{name}/*"),), "read the registry's schemas"),
    ]


def kafka_destination_needs(facts: Facts) -> list[Need]:
    """kafka-cluster:WriteData on a `kafka://TOPIC` destination, where the role authenticates with IAM
    (under SCRAM or mTLS the Kafka ACLs decide, which are not readable)."""
    topic = kafka.kafka_destination_topic(facts.esm.on_failure_destination)
    source = kafka.source_cluster_arn(facts.esm, facts.vpc_connection)
    if topic is None or source is None or not uses_iam_auth(facts):
        return []
    _, topic_prefix, _ = kafka.msk_resource_arns(source)
    return [Need((Request.make(KAFKA_WRITE, f"{topic_prefix}/{topic}"),), f"write failed records to {topic}")]


def kafka_cluster_needs(facts: Facts) -> list[Need]:
    """MSK IAM data-plane actions: Connect and cluster config on the cluster, topic and group actions."""
    source = kafka.source_cluster_arn(facts.esm, facts.vpc_connection)
    if not uses_iam_auth(facts) or source is None:
        return []  # a cross-account target not read yet: its unchecked read says so
    cluster, topic_prefix, group_prefix = kafka.msk_resource_arns(source)
    out = [
        Need((Request.make(CONNECT, cluster),), "connect to the cluster (IAM auth)"),
        Need(
            (Request.make("kafka-cluster:DescribeClusterDynamicConfiguration", cluster),),
            "read the cluster's dynamic configuration",
        ),
    ]
    for topic in facts.esm.topics:
        for action in ("kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"):
            out.append(Need((Request.make(action, f"{topic_prefix}/{topic}"),), f"read topic {topic}"))
    group = f"{group_prefix}/{facts.esm.group_id}"
    for action in ("kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"):
        out.append(Need((Request.make(action, group),), f"join consumer group {facts.esm.group_id}"))
    return out


def trust_need(facts: Facts) -> Need | None:
    """Lambda assumes the execution role as lambda.amazonaws.com, without setting a source identity."""
    if facts.role is None:
        return None
    req = Request.make("sts:AssumeRole", facts.role.arn, lambda_service(), absent=("sts:SourceIdentity",))
    return Need((req,), "Lambda assumes the execution role")


def endpoint_service(endpoint: VpcEndpoint) -> str:
    return endpoint.service_name.rsplit(".", 1)[-1]


def routed_endpoints(facts: Facts) -> list[VpcEndpoint]:
    """Endpoints the pollers' traffic goes through: private-DNS interface endpoints and gateways.

    None unless the pollers call those services from the VPC (`poller_paths.reaches_services_from_vpc`,
    the one rule for on-demand and provisioned mode): otherwise the endpoints' policies are not on their
    path.
    """
    network = facts.network
    if network is None or not reaches_services_from_vpc(facts):
        return []
    return [
        e
        for e in network.endpoints
        if endpoint_service(e) in ENDPOINT_SERVICES
        and e.state.lower() not in ("deleted", "deleting", "failed", "rejected")
        and (e.private_dns or e.type.lower() == "gateway")
    ]


def endpoint_needs(facts: Facts, endpoint: VpcEndpoint) -> list[Need]:
    """What the endpoint's policy must allow, and for whom: Lambda for STS and Lambda, the *execution
    role* for Secrets Manager and the destination.

    "the VPC endpoint policy must allow the Lambda service principal to call sts:AssumeRole and
    lambda:InvokeFunction. Restricting your VPC endpoint policies to allow only API calls originating within
    your organization prevents the event source mapping from functioning properly, so "Resource": "*" is
    required in these policies"; "To call the Secrets Manager API, Lambda uses your function role, not the
    Lambda service principal" (Lambda developer guide, network configuration of the MSK, self-managed
    Kafka, Amazon MQ and DocumentDB event sources). So the Lambda and STS requests are made on "*": only a
    statement on "*" allows them."""
    service = endpoint_service(endpoint)
    vpc = facts.network.vpc.id if facts.network and facts.network.vpc else None
    context = {"aws:SourceVpce": (endpoint.id,), **({"aws:SourceVpc": (vpc,)} if vpc else {})}
    role = role_principal(facts)
    out: list[Need] = []
    if service == "sts" and facts.role is not None:
        req = Request.make("sts:AssumeRole", "*", lambda_service(), context, absent=("sts:SourceIdentity",))
        out.append(Need((req,), "Lambda assumes the execution role through the STS endpoint"))
    elif service == "lambda":
        req = Request.make("lambda:InvokeFunction", "*", lambda_service(), context)
        out.append(Need((req,), "Lambda invokes the function through the Lambda endpoint"))
    elif service == "secretsmanager" and role is not None:
        for secret in facts.secrets:
            if secret.exists:
                req = Request.make("secretsmanager:GetSecretValue", secret.arn, role, context)
                out.append(Need((req,), "the execution role reads the secret through the endpoint"))
    else:
        dest = destination(facts)
        if dest is not None and dest[0] == service and role is not None:
            for action, resource in dest[1]:
                req = Request.make(action, resource, role, context)
                out.append(
                    Need((req,), "the execution role delivers to the destination through the endpoint")
                )
    return out


def perimeter_statements(document: Document | None, request: Request) -> list[str]:
    """Allow statements (by Sid) that would let `request` through but for an organization condition
    (aws:PrincipalOrgID, aws:PrincipalOrgPaths), which a service principal never satisfies."""
    out = []
    for n, stmt in enumerate(statements(document)):
        condition = stmt.get("Condition")
        if stmt.get("Effect") != "Allow" or not isinstance(condition, dict):
            continue
        kept = {
            op: {k: v for k, v in keys.items() if k.lower() not in ORGANIZATION_KEYS}
            for op, keys in condition.items()
            if isinstance(keys, dict)
        }
        if kept == condition:
            continue
        loosened = {**stmt, "Condition": {op: keys for op, keys in kept.items() if keys}}
        if statement_matches(loosened, request) is True:
            out.append(str(stmt.get("Sid", f"#{n + 1}")))
    return out


def decide(documents: Sequence[Document | None], need: Need) -> Decision:
    """Allowed if any alternative is; unknown if none is but one cannot be decided; else denied/implicit."""
    decisions = [evaluate(documents, r).decision for r in need.alternatives]
    outcomes: tuple[Decision, ...] = ("allow", "unknown", "deny")
    for outcome in outcomes:
        if outcome in decisions:
            return outcome
    return "implicit"


def role_documents(facts: Facts) -> list[Document | None]:
    """The role's effective identity policies: inline and attached, evaluated together."""
    if facts.role is None:
        return []
    return [p.document for p in (*facts.role.inline_policies, *facts.role.attached_policies)]


RoleDecision = Literal["allow", "deny", "implicit", "unknown", "boundary", "boundary-unknown"]
"""A need of the execution role: allowed, denied or not allowed by its identity policies, undecidable, or
allowed by them but not by the permissions boundary ("boundary"), or by a boundary that could not be
decided or read ("boundary-unknown")."""


def boundary_blocks(facts: Facts, request: Request) -> bool:
    """Whether the role's (readable) permissions boundary keeps `request` from being allowed, whatever its
    identity policies say: granting it in a policy would then change nothing."""
    role = facts.role
    if role is None or role.permissions_boundary is None:
        return False
    return evaluate(role.permissions_boundary.document, request).decision in ("deny", "implicit")


def decide_role(facts: Facts, need: Need) -> RoleDecision:
    """The role's decision on `need`: identity policies AND the permissions boundary must allow it.

    A role without a boundary is decided by its identity policies. A need they allow but the boundary
    does not (implicitly or with a Deny) is "boundary": only a person may change a boundary.

    Decided once per role and need (issue 26): a scan's mappings share a few roles, whose policies the
    mappings' needs would otherwise evaluate again for each mapping. The memo lives on the role model and
    is checked against the policies it was decided on, so a copy with other policies decides afresh."""
    role = facts.role
    if role is None:
        return _decide_role(facts, need)
    memo: dict[str, tuple[Any, Any, Any, RoleDecision]] = role._index("decisions", role.name, lambda _: {})
    key = repr(need)
    basis = (role.inline_policies, role.attached_policies, role.permissions_boundary)
    known = memo.get(key)
    if known is not None and all(a is b for a, b in zip(known[:3], basis, strict=True)):
        return known[3]
    decision = _decide_role(facts, need)
    memo[key] = (*basis, decision)
    return decision


def _decide_role(facts: Facts, need: Need) -> RoleDecision:
    identity = decide(role_documents(facts), need)
    role = facts.role
    if identity != "allow" or role is None or role.permissions_boundary_arn is None:
        return identity
    if role.permissions_boundary is None:
        return "boundary-unknown"
    allowed = [r for r in need.alternatives if evaluate(role_documents(facts), r).decision == "allow"]
    bounded = [evaluate(role.permissions_boundary.document, r).decision for r in allowed]
    if "allow" in bounded:
        return "allow"
    return "boundary-unknown" if "unknown" in bounded else "boundary"


def endpoint_document(endpoint: VpcEndpoint) -> Document:
    return endpoint.policy if endpoint.policy is not None else FULL_ACCESS


def scram_secret_problems(facts: Facts, uri: str) -> dict[str, str]:
    """What keeps MSK from accepting the SCRAM secret, by problem key.

    The check reports them all; associate_scram_secret fixes the association and plans manual steps
    for the rest."""
    # issue 24 (N18): Lambda API reference, SourceAccessConfiguration: "SASL_SCRAM_256_AUTH - (Self-managed
    # Apache Kafka)", "SASL_SCRAM_512_AUTH - (Amazon MSK, Self-managed Apache Kafka)".
    types = {a.type for a in facts.esm.source_access if a.uri == uri}
    wrong_type: dict[str, str] = {}
    if facts.esm.source_kind == "msk" and kafka.SASL_SCRAM_256_AUTH in types:
        wrong_type["scram-256"] = (
            "the mapping names it as SASL_SCRAM_256_AUTH, which Lambda offers for self-managed Apache Kafka "
            "only; Amazon MSK SCRAM is SASL_SCRAM_512_AUTH"
        )
    secret = next((s for s in facts.secrets if s.arn == uri or s.name == uri), None)
    if secret is None:
        return wrong_type  # not read otherwise: the could-not-check finding says so
    if not secret.exists:
        return {**wrong_type, "missing": "the secret does not exist"}
    problems: dict[str, str] = dict(wrong_type)
    if not (secret.name or "").startswith("AmazonMSK_"):
        problems["name"] = "its name does not begin with AmazonMSK_"
    if is_aws_managed_key(secret.kms_key_id):
        problems["kms"] = "it is encrypted with the AWS managed key, MSK needs a customer managed key"
    associated = facts.cluster.scram_secret_arns if facts.cluster else None
    if associated is not None and secret.arn not in associated:
        problems["not-associated"] = "it is not associated with the cluster"
    return problems


def key_uses(facts: Facts) -> list[tuple[KmsKey, str, str]]:
    """(customer managed key, the secret or destination it encrypts, the KMS action the role needs on it),
    for each key observation read: what a key policy must allow (checks/kms.py, actions/key_policy.py)."""
    by_ref = {k.ref: k for k in facts.keys if k.manager == "CUSTOMER"}
    out: list[tuple[KmsKey, str, str]] = []
    for secret in facts.secrets:
        key = by_ref.get(secret.kms_key_id or "")
        if key is not None and secret.exists:
            out.append((key, secret.arn, "kms:Decrypt"))
    dest = facts.destination
    service = destination(facts)
    key = by_ref.get((dest.kms_key_id if dest else None) or "")
    if key is not None and dest is not None and service is not None:
        out.extend((key, dest.arn, action) for action in DESTINATION_KMS[service[0]])
    return out


def _names_account_only(stmt: dict[str, Any], account: str) -> bool:
    """A statement whose principals are the account itself (its root or its id): it lets IAM decide."""
    block = stmt.get("Principal")
    if not isinstance(block, dict) or set(block) != {"AWS"}:
        return False
    values = block["AWS"] if isinstance(block["AWS"], list) else [block["AWS"]]
    return all(str(v) in (account, f"arn:aws:iam::{account}:root") for v in values)


def key_policy_grants_role(facts: Facts, ref: str | None, action: str) -> bool:
    """Whether the key's policy (when read) allows the execution role `action` by itself, through a
    statement that names the role or everyone rather than the account: then no IAM policy is needed. The
    account's statement only lets IAM policies decide ("Default key policy", KMS developer guide: the
    statement for the account's root "enables IAM policies"), so it does not count here."""
    key = next((k for k in facts.keys if k.ref == ref), None)
    principal = role_principal(facts)
    if key is None or key.policy is None or principal is None:
        return False
    account = principal.account or ""
    own = [s for s in statements(key.policy) if not _names_account_only(s, account)]
    deny = [s for s in statements(key.policy) if s.get("Effect") == "Deny"]
    document = {"Statement": [*own, *(d for d in deny if d not in own)]}
    return evaluate(document, Request.make(action, "*", principal)).decision == "allow"


# issue 22: what the tool itself needs to run `remediate probe` (apply mode: it creates a function).
PROBE_FUNCTION_PREFIX = "remediate-probe-"
PROBE_TOOL_ACTIONS = (
    "iam:PassRole",  # CreateFunction with the mapping's execution role (Lambda API reference, CreateFunction)
    "lambda:CreateFunction",
    "lambda:TagResource",  # tags given to CreateFunction (Lambda developer guide, "Using tags on functions")
    "lambda:InvokeFunction",
    "lambda:DeleteFunction",
    "lambda:ListFunctions",  # the sweep of a killed run's probe, by name prefix then tag
    "lambda:ListTags",
    "lambda:GetFunctionConfiguration",  # waiting for State Active
    "logs:DeleteLogGroup",  # /aws/lambda/NAME outlives the function
)
"""Scoped in the runbook role's policy to functions and log groups named `remediate-probe-*`
(remediate/iam_policy.py RESOURCES); iam:PassRole to roles passed to Lambda only."""
