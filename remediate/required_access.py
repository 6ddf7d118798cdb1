"""What one ESM needs IAM to allow, as `policy.Request`s derived from its `Facts`.

Checks ask "is each need allowed?"; actions ask "what is the smallest patch that allows them all?".
Both take the needs from here, so a finding and the change that answers it cannot disagree, and two
findings about the same document (say, a missing kafka:DescribeClusterV2 and a missing
kafka-cluster:Connect) produce the very same change, which the engine then merges into one.

The needs follow the AWS documentation of Lambda's Kafka event sources: the AWSLambdaMSKExecutionRole
actions (DescribeCluster or DescribeClusterV2 either suffices), the network-interface actions where
the pollers run in a VPC, the secret and its customer-managed key, the on-failure destination, the
MSK IAM data-plane actions on the cluster, topic and consumer group ARNs; and in resource policies:
the role's trust of lambda.amazonaws.com, and what each VPC endpoint policy must let through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from remediate import kafka
from remediate.facts import Facts, Secret, VpcEndpoint
from remediate.policy import FULL_ACCESS, Decision, Document, Principal, Request, evaluate

LAMBDA_SERVICE = "lambda.amazonaws.com"
NETWORK_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
)
CONNECT = "kafka-cluster:Connect"
_DESTINATION_ACTIONS = {"sns": "sns:Publish", "sqs": "sqs:SendMessage", "s3": "s3:PutObject"}
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


def uses_iam_auth(facts: Facts) -> bool:
    """Whether Lambda authenticates to the MSK cluster with SASL/IAM (its documented choice of listener)."""
    return facts.esm.source_kind == "msk" and kafka.msk_auth_mode(facts.esm, facts.cluster) == "iam"


def _kms_need(facts: Facts, secret: Secret, principal: Principal | None) -> Request | None:
    key = secret.kms_key_id
    if is_aws_managed_key(key):
        return None
    assert key is not None
    account = account_of(facts)
    if key.startswith("arn:") and ":key/" in key:
        return Request.make("kms:Decrypt", key, principal)
    key_prefix = f"arn:aws:kms:{facts.region}:{account}:key/"
    if key.startswith("arn:") or key.startswith("alias/"):
        # Grants name keys, not aliases: allow any key of the account while it carries this alias.
        alias = key.split(":", 5)[-1] if key.startswith("arn:") else key
        return Request.make(
            "kms:Decrypt",
            key_prefix + "*",
            principal,
            context={"kms:ResourceAliases": (alias,)},
            grant_condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}},
        )
    return Request.make("kms:Decrypt", key_prefix + key, principal)


def destination(facts: Facts) -> tuple[str, str, str] | None:
    """(service, action, resource) of the on-failure destination, or None."""
    arn = facts.esm.on_failure_destination
    if not arn:
        return None
    service = arn.split(":")[2] if arn.count(":") >= 2 else ""
    action = _DESTINATION_ACTIONS.get(service)
    if action is None:
        return None
    return service, action, f"{arn}/*" if service == "s3" else arn


def role_needs(facts: Facts) -> list[Need]:
    """What the execution role's identity policies must allow for this ESM."""
    needs: list[Need] = []

    def need(*actions: str, resource: str, why: str, request: Request | None = None) -> None:
        reqs = (request,) if request else tuple(Request.make(a, resource) for a in actions)
        needs.append(Need(reqs, why))

    esm = facts.esm
    if esm.source_kind == "msk" and esm.event_source_arn:
        cluster = esm.event_source_arn
        need("kafka:DescribeClusterV2", "kafka:DescribeCluster", resource=cluster, why="read the cluster")
        need("kafka:GetBootstrapBrokers", resource=cluster, why="find the brokers")
    if facts.network is not None and facts.network.placement != "internet":
        for action in NETWORK_ACTIONS:
            need(action, resource="*", why="place the pollers' network interfaces in the VPC")
    for secret in facts.secrets:
        if not secret.exists:
            continue
        need("secretsmanager:GetSecretValue", resource=secret.arn, why="read the authentication secret")
        kms = _kms_need(facts, secret, None)
        if kms is not None:
            need(request=kms, resource=kms.resource, why="decrypt the secret with its customer-managed key")
    dest = destination(facts)
    if dest is not None:
        need(dest[1], resource=dest[2], why="deliver failed batches to the on-failure destination")
    needs.extend(kafka_cluster_needs(facts))
    return needs


def kafka_cluster_needs(facts: Facts) -> list[Need]:
    """MSK IAM data-plane actions: Connect and cluster config on the cluster, topic and group actions."""
    if not uses_iam_auth(facts):
        return []
    cluster, topic_prefix, group_prefix = kafka.msk_resource_arns(str(facts.esm.event_source_arn))
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
    """Endpoints the pollers' traffic goes through: private-DNS interface endpoints and gateways."""
    network = facts.network
    if network is None or network.placement == "internet":
        return []
    return [
        e
        for e in network.endpoints
        if endpoint_service(e) in ENDPOINT_SERVICES
        and e.state.lower() not in ("deleted", "deleting", "failed", "rejected")
        and (e.private_dns or e.type.lower() == "gateway")
    ]


def endpoint_needs(facts: Facts, endpoint: VpcEndpoint) -> list[Need]:
    """What the endpoint's policy must allow, and for whom (the seed: Lambda for STS and Lambda, the
    *execution role* for Secrets Manager and the destination)."""
    service = endpoint_service(endpoint)
    vpc = facts.network.vpc.id if facts.network and facts.network.vpc else None
    context = {"aws:SourceVpce": (endpoint.id,), **({"aws:SourceVpc": (vpc,)} if vpc else {})}
    role = role_principal(facts)
    out: list[Need] = []
    if service == "sts" and facts.role is not None:
        req = Request.make(
            "sts:AssumeRole", facts.role.arn, lambda_service(), context, absent=("sts:SourceIdentity",)
        )
        out.append(Need((req,), "Lambda assumes the execution role through the STS endpoint"))
    elif service == "lambda":
        req = Request.make("lambda:InvokeFunction", facts.esm.function_arn, lambda_service(), context)
        out.append(Need((req,), "Lambda invokes the function through the Lambda endpoint"))
    elif service == "secretsmanager" and role is not None:
        for secret in facts.secrets:
            if secret.exists:
                req = Request.make("secretsmanager:GetSecretValue", secret.arn, role, context)
                out.append(Need((req,), "the execution role reads the secret through the endpoint"))
    else:
        dest = destination(facts)
        if dest is not None and dest[0] == service and role is not None:
            req = Request.make(dest[1], dest[2], role, context)
            out.append(Need((req,), "the execution role delivers to the destination through the endpoint"))
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


def endpoint_document(endpoint: VpcEndpoint) -> Document:
    return endpoint.policy if endpoint.policy is not None else FULL_ACCESS


def scram_secret_problems(facts: Facts, uri: str) -> dict[str, str]:
    """What keeps MSK from accepting the SCRAM secret, by problem key.

    The check reports them all; associate_scram_secret fixes the association and plans manual steps
    for the rest."""
    secret = next((s for s in facts.secrets if s.arn == uri or s.name == uri), None)
    if secret is None:
        return {}  # not read: the could-not-check finding says so
    if not secret.exists:
        return {"missing": "the secret does not exist"}
    problems: dict[str, str] = {}
    if not (secret.name or "").startswith("AmazonMSK_"):
        problems["name"] = "its name does not begin with AmazonMSK_"
    if is_aws_managed_key(secret.kms_key_id):
        problems["kms"] = "it is encrypted with the AWS managed key, MSK needs a customer managed key"
    associated = facts.cluster.scram_secret_arns if facts.cluster else None
    if associated is not None and secret.arn not in associated:
        problems["not-associated"] = "it is not associated with the cluster"
    return problems
