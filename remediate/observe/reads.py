"""Observe: the only phase that reads AWS. ESM id in, one immutable `Facts` out.

Reads follow the dependency chain and no further: the ESM first; then, concurrently, its function,
its cluster (or self-managed source-access subnets) and its secrets; then the role's policies and
the VPC's network, each VPC-wide read in one call. Each step is chained to the reads it needs
(`chain.py`), so no worker waits on another and one mapping takes as many sequential round trips as
its chain is long, whatever `max_workers` is (as long as one level's reads fit in it).

What mappings share is observed once per `Aws` (a run, or a whole scan) and shared as built,
immutable models: a function, a role, a cluster, a secret's analysis, a VPC's network. A scan's
memory then grows with the distinct resources of the account, not with mappings x resources.

A read the caller is not allowed to make does not fail the run: it is recorded as `Unchecked` and
its checks report "could not check". A shared piece keeps what it could not check beside its value,
so every mapping that uses it reports it. Only the ESM read itself is essential.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar, cast
from urllib.parse import urlsplit

from remediate import broker_logs, esm_logs, health, kafka, policy, required_access
from remediate.aws import Aws, is_access_denied, outcome
from remediate.errors import AwsError, InputError
from remediate.facts import (
    VPC_ENDPOINT_LIVE_STATES,
    BrokerHealth,
    BrokerInterface,
    BrokerLogRecord,
    BrokerLogs,
    BrokerName,
    Cluster,
    Destination,
    Dns,
    DnsForwarder,
    EndpointService,
    Esm,
    EsmLogRecord,
    EsmLogs,
    Facts,
    FormerGroup,
    Function,
    FunctionHealth,
    HostedZone,
    KmsKey,
    LocalResolution,
    Nacl,
    NamedPolicy,
    NatGateway,
    Network,
    PeerMapping,
    PrivateCa,
    Role,
    RouteTable,
    SchemaRegistry,
    Secret,
    SecretMaterial,
    SecurityGroup,
    SourceAccess,
    Subnet,
    Topics,
    Unchecked,
    Vpc,
    VpcConnection,
    VpcEndpoint,
    VpcZone,
)
from remediate.log import get_logger
from remediate.observe import (
    broker_interfaces,
    denials,
    dns,
    former_groups,
    metric_batch,
    metrics,
    monitoring,
    private_ca,
    topics,
)
from remediate.observe.builders import (
    cluster_from_api,
    destination_from_api,
    endpoint_service_from_api,
    esm_from_api,
    forwarders_from_api,
    function_from_api,
    nacl_from_api,
    nat_gateway_from_api,
    permissions_boundary_arn,
    policy_document,
    route_table_from_api,
    security_group_from_api,
    subnet_from_api,
    vpc_connection_from_api,
    vpc_endpoint_from_api,
    vpc_from_api,
    vpc_zone_from_api,
)
from remediate.observe.chain import chain, done, gather, recover, then
from remediate.observe.first_read import parse_esm_id as parse_esm_id
from remediate.observe.first_read import services_ahead

log = get_logger(__name__)
T = TypeVar("T")

VPC_WIDE_READS = (
    ("describe_security_groups", "SecurityGroups", 1000, "Filters"),
    ("describe_route_tables", "RouteTables", 100, "Filters"),
    ("describe_network_acls", "NetworkAcls", 1000, "Filters"),
    ("describe_nat_gateways", "NatGateways", 1000, "Filter"),
    ("describe_vpc_endpoints", "VpcEndpoints", 1000, "Filters"),
    ("describe_subnets", "Subnets", 1000, "Filters"),
)
"""issue 24 (N16): the VPC-wide reads, the list each answers, the largest MaxResults each takes (EC2 API
reference: 5-100 for DescribeRouteTables, 5-1000 for the others, "we return only 1,000 items" for
DescribeVpcEndpoints) and the name of its filter parameter."""
VPC_WIDE_ITEMS = tuple(items for _, items, _, _ in VPC_WIDE_READS)

# The IAM actions observation uses, declared beside the reads for `remediate iam-policy`.
PERMISSIONS = (
    "lambda:GetEventSourceMapping",
    "lambda:GetFunction",  # issue 26: configuration and concurrency in one call, its own rate bucket
    "lambda:GetFunctionConfiguration",  # where GetFunction is denied
    "kafka:DescribeClusterV2",
    "kafka:GetBootstrapBrokers",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeRouteTables",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeNatGateways",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcEndpointServices",
    "ec2:DescribeNetworkInterfaces",  # issue 21 (item 6): self-managed brokers' interfaces
    "servicequotas:GetServiceQuota",
    "iam:GetRole",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",  # analysed in memory: only the analysis is kept (secret_material.py)
    "secretsmanager:GetResourcePolicy",  # issue 24 (N8): cross-account secrets need the role allowed there
    "route53:ListHostedZonesByVPC",
    "route53:ListHostedZones",
    # issue 24 (N10): who answers the pollers' DNS queries besides the VPC's resolver
    "route53resolver:ListResolverRuleAssociations",
    "route53resolver:ListResolverRules",
    "ec2:DescribeDhcpOptions",
    "route53:GetHostedZone",
    "route53:ListResourceRecordSets",
    "kafka:ListScramSecrets",
    "kafka:DescribeVpcConnection",  # a cross-account source: the consumer reads its managed VPC connection
    "sqs:GetQueueUrl",  # the on-failure destination's KMS key (SQS, SNS, S3)
    "sqs:GetQueueAttributes",
    "sns:GetTopicAttributes",
    "s3:GetEncryptionConfiguration",
    *private_ca.PERMISSIONS,  # issue 24 (N6): the private CAs of an mTLS cluster
    *metrics.PERMISSIONS,  # live health: broker and function metrics, reserved concurrency
    # issue 15: the mapping's peers (a self-managed source's, or diagnose's), keys and schema registry
    "lambda:ListEventSourceMappings",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "glue:GetRegistry",
    *topics.PERMISSIONS,  # issue 21: MSK's ListTopics authorizes with kafka-cluster actions
    # issue 21: the mapping's own system logs (the function's log group) and, item 4, the MSK brokers' logs
    # (the log group LoggingInfo names)
    "logs:FilterLogEvents",
    *monitoring.PERMISSIONS,  # issue 25: the function's alarms, when monitoring is asked for
    *former_groups.PERMISSIONS,  # issue 25: consumer groups of deleted mappings on the topics
    # issue 23 (operator-hunt N25): `plan` reports a run holding the mapping's lock (tags on the ESM)
    "lambda:ListTags",
)


ENDPOINT_SERVICES = ("lambda", "sts", "secretsmanager", "sqs", "sns", "s3")
"""The services an ESM may reach through VPC endpoints (poller_paths.required_services)."""
QUOTAS = {"sg_rule_quota": "L-0EA8095F", "interface_endpoint_quota": "L-29B6F2EB"}
"""Service Quotas codes of the VPC quotas a plan must stay within (Amazon VPC user guide, "Amazon VPC
quotas": inbound or outbound rules per security group; interface endpoints per VPC)."""


Groups = dict[str, tuple[Esm, ...]]
"""Listed Kafka mappings by consumer group (`Esm.group_id`)."""


@dataclass(frozen=True)
class Shared(Generic[T]):
    """A piece of observation many mappings share, with the reads inside it that were denied."""

    value: T
    unchecked: tuple[Unchecked, ...] = ()
    ca_bundle: str | None = None  # a secret's CA bundle (public certificates), for the TLS probe


@dataclass(frozen=True)
class VpcFacts:
    """Everything VPC-wide that observation reads about one VPC, built once per scan."""

    vpc: Vpc
    security_groups: tuple[SecurityGroup, ...]
    route_tables: tuple[RouteTable, ...]
    nacls: tuple[Nacl, ...]
    nat_gateways: tuple[NatGateway, ...]
    endpoints: tuple[VpcEndpoint, ...]
    subnets: tuple[Subnet, ...]
    """Every subnet of the VPC: endpoints' network interfaces often sit in subnets of their own."""
    endpoint_services: tuple[EndpointService, ...] | None
    zones: tuple[VpcZone, ...] | None
    """Private hosted zones associated with the VPC (a service's domain there conflicts with private DNS)."""
    quotas: dict[str, int]
    unchecked: tuple[Unchecked, ...]
    forwarders: tuple[DnsForwarder, ...] | None = None  # issue 24 (N10)


def _denied(exc: BaseException) -> AwsError | None:
    """The AwsError, if it says the caller is not allowed to make the read."""
    if isinstance(exc, AwsError) and exc.__cause__ is not None and is_access_denied(exc.__cause__):
        return exc
    return None


class _Notes:
    """What one mapping (or one shared piece) could not check."""

    def __init__(self) -> None:
        self.unchecked: list[Unchecked] = []

    def guard(self, what: str, future: Future[T]) -> Future[T | None]:
        """The future's value, or None and an `Unchecked` when the read was denied."""

        def handle(exc: BaseException) -> None:
            denied = _denied(exc)
            if denied is None:
                raise exc.with_traceback(None)
            unchecked = Unchecked(what=what, reason=f"{denied.code} on {denied.operation}")
            denials.noted(unchecked)  # logged once per mapping's observation, or once per scan
            self.unchecked.append(unchecked)

        return recover(future, handle)

    def adopt(self, what: str, future: Future[Shared[T]]) -> Future[T | None]:
        """A shared piece's value, guarded, with what it could not check added to ours."""

        def take(found: Shared[T] | None) -> T | None:
            if found is None:
                return None
            self.unchecked.extend(found.unchecked)
            return found.value

        return then(self.guard(what, future), take)


class _Observer:
    """The reads of one observation, on its own pool; shared pieces live in the `Aws` cache."""

    def __init__(self, aws: Aws, pool: ThreadPoolExecutor) -> None:
        self.aws = aws
        self.pool = pool

    def read(self, service: str, operation: str, **params: Any) -> Future[dict[str, Any]]:
        return self.aws.read_async(self.pool.submit, service, operation, **params)

    def pages(
        self,
        service: str,
        operation: str,
        items: str,
        token_in: str,
        token_out: str,
        *,
        max_pages: int = 0,
        **params: Any,
    ) -> Future[list[Any]]:
        """Every item of a paged read, each page read when the previous one has its token; with
        `max_pages`, at most that many pages (issue 21: a log group may hold more than is worth reading)."""

        def more(got: list[Any], page: dict[str, Any], count: int) -> Future[list[Any]]:
            got = got + list(page.get(items, []))
            token = page.get(token_out)
            if not token or (max_pages and count >= max_pages):
                return done(got)
            following = self.read(service, operation, **params, **{token_in: token})
            return chain(following, lambda p: more(got, p, count + 1))

        return chain(self.read(service, operation, **params), lambda p: more([], p, 1))

    def shared(self, kind: str, key: Any, start: Callable[[], Future[T]]) -> Future[T]:
        return self.aws.shared(f"{kind}:{json.dumps(key, sort_keys=True)}", start)

    # -- the pieces mappings share ---------------------------------------------------------------
    def function(self, arn: str) -> Future[Function]:
        return self.shared(
            "function",
            arn,
            lambda: then(self.function_read(arn), lambda raw: function_from_api(raw["Configuration"], arn)),
        )

    def function_read(self, arn: str) -> Future[dict[str, Any]]:
        """The function's configuration and reserved concurrency: GetFunction, one call with both and its
        own rate bucket (Lambda quotas: GetFunction 100 requests per second, outside the control plane's
        shared 15; issue 26). Where GetFunction is denied (it also hands out a link to the code, which a
        role may withhold), GetFunctionConfiguration, and the concurrency read on its own.

        `{"Configuration": ..., "Concurrency": ...}`; "Concurrency" is absent when it was not read, and
        `{}` when none is reserved (GetFunction then answers without it)."""

        def denied(exc: BaseException) -> None:
            if _denied(exc) is None:
                raise exc.with_traceback(None)

        def settle(got: dict[str, Any] | None) -> Future[dict[str, Any]]:
            if got is not None:
                concurrency = got.get("Concurrency") or {}
                return done({"Configuration": got["Configuration"], "Concurrency": concurrency})
            config = self.read("lambda", "get_function_configuration", FunctionName=arn)
            return then(config, lambda raw: {"Configuration": raw})

        def start() -> Future[dict[str, Any]]:
            got: Future[dict[str, Any]] = self.read("lambda", "get_function", FunctionName=arn)
            first = recover(got, denied)
            return chain(first, settle)

        return self.shared("function-read", arn, start)

    def cluster(self, arn: str) -> Future[Shared[Cluster | None]]:
        return self.shared("cluster", arn, lambda: self._cluster(arn))

    def _cluster(self, arn: str) -> Future[Shared[Cluster | None]]:
        notes = _Notes()

        def not_found(exc: BaseException) -> None:
            # No such cluster in this account and Region (deleted, or another account's, which a mapping
            # reaches only through a VPC connection): the checks that need it say they could not run.
            if not (isinstance(exc, AwsError) and exc.code == "NotFoundException"):
                raise exc.with_traceback(None)
            notes.unchecked.append(Unchecked(what=f"MSK cluster {arn}", reason=f"{exc.code}: {exc}"))

        def gone(exc: BaseException) -> None:
            # issue 25: a deleted cluster has no bootstrap brokers either; DescribeClusterV2 says so once.
            if not (isinstance(exc, AwsError) and exc.code == "NotFoundException"):
                raise exc.with_traceback(None)

        info_f = recover(self.read("kafka", "describe_cluster_v2", ClusterArn=arn), not_found)
        brokers_raw = recover(self.read("kafka", "get_bootstrap_brokers", ClusterArn=arn), gone)
        brokers_f = notes.guard(f"bootstrap brokers of {arn}", brokers_raw)

        def built(parts: list[Any]) -> Future[Shared[Cluster | None]]:
            info, brokers = parts
            if info is None:
                return done(Shared(None, tuple(notes.unchecked)))
            cluster = cluster_from_api(info["ClusterInfo"], brokers)
            if not cluster.auth.scram:
                return done(Shared(cluster, tuple(notes.unchecked)))
            scram_f = notes.guard(
                f"SCRAM secrets of {arn}",
                self.pages(
                    "kafka", "list_scram_secrets", "SecretArnList", "NextToken", "NextToken", ClusterArn=arn
                ),
            )
            return then(
                scram_f,
                lambda scram: Shared[Cluster | None](
                    cluster.model_copy(
                        update={"scram_secret_arns": tuple(scram) if scram is not None else None}
                    ),
                    tuple(notes.unchecked),
                ),
            )

        return chain(gather([info_f, brokers_f]), built)

    def secret(self, access: SourceAccess) -> Future[Shared[Secret]]:
        return self.shared("secret", [access.type, access.uri], lambda: self._secret(access))

    def _secret(self, access: SourceAccess) -> Future[Shared[Secret]]:
        notes = _Notes()

        def missing(exc: BaseException) -> None:
            if not (isinstance(exc, AwsError) and exc.code == "ResourceNotFoundException"):
                raise exc.with_traceback(None)

        def described(raw: dict[str, Any] | None) -> Future[Shared[Secret]]:
            if raw is None:
                return done(Shared(Secret(arn=access.uri, access_type=access.type, exists=False)))
            arn = raw.get("ARN", access.uri)
            deleted = raw.get("DeletedDate")
            secret = Secret(
                arn=arn,
                access_type=access.type,
                name=raw.get("Name"),
                kms_key_id=raw.get("KmsKeyId"),
                deleted_date=str(deleted) if deleted else None,
            )
            # issue 24 (N8): the resource policy, which must allow the role when the secret is another
            # account's, and whose Deny wins in any account.
            policy_f = notes.guard(
                f"resource policy of secret {arn}",
                self.read("secretsmanager", "get_resource_policy", SecretId=arn),
            )
            if access.type not in kafka.SECRET_TYPES or deleted:
                # Secrets Manager refuses the value of a secret scheduled for deletion (issue 25).
                return then(policy_f, lambda raw: Shared(_with_policy(secret, raw), tuple(notes.unchecked)))
            value_f = notes.guard(
                f"value of secret {arn}", self.pool.submit(self._material, arn, access.type, notes)
            )
            return then(
                gather([value_f, policy_f]),
                lambda got: Shared(
                    _with_policy(secret, got[1]).model_copy(
                        update={"material": got[0][0] if got[0] else None}
                    ),
                    tuple(notes.unchecked),
                    got[0][1] if got[0] else None,
                ),
            )

        raw_f = recover(self.read("secretsmanager", "describe_secret", SecretId=access.uri), missing)
        return chain(raw_f, described)

    def _material(
        self, arn: str, access_type: str, notes: _Notes
    ) -> tuple[SecretMaterial | None, str | None]:
        """Read the value (uncached: it must not outlive this call), register it for scrubbing, analyse
        it; return the analysis and, for a CA secret, its bundle (public certificates) for the probe."""
        from remediate.observe import secret_material

        try:
            raw = self.aws.call("secretsmanager", "get_secret_value", SecretId=arn)
        except AwsError as exc:
            if exc.code != "DecryptionFailure":
                raise
            notes.unchecked.append(Unchecked(what=f"value of secret {arn}", reason=f"{exc.code} (KMS)"))
            return None, None
        value = raw.get("SecretString")
        bundle = None
        if value:
            secret_material.register_value(access_type, value)
            if access_type == kafka.SERVER_ROOT_CA_CERTIFICATE:
                bundle = secret_material.ca_bundle(value)
        binary = value is None and "SecretBinary" in raw
        return secret_material.analyse(access_type, value, binary=binary), bundle

    def vpc_connection(self, arn: str) -> Future[VpcConnection]:
        """A cross-account source: the consumer's managed VPC connection, never the owner's cluster (which
        DescribeClusterV2 does not show to another account)."""
        return self.shared(
            "vpc-connection",
            arn,
            lambda: then(self.read("kafka", "describe_vpc_connection", Arn=arn), vpc_connection_from_api),
        )

    def destination(self, arn: str) -> Future[Shared[Destination | None]]:
        """The on-failure destination's encryption key; one that cannot be read (other than by a denial,
        which the caller records) is unchecked."""
        return self.shared("destination", arn, lambda: self._destination(arn))

    def _destination(self, arn: str) -> Future[Shared[Destination | None]]:
        parts = arn.split(":")
        service = parts[2] if len(parts) > 5 else ""
        unchecked: list[Unchecked] = []

        def no_config(exc: BaseException) -> dict[str, Any]:
            if isinstance(exc, AwsError) and exc.code == "ServerSideEncryptionConfigurationNotFoundError":
                return {}
            raise exc.with_traceback(None)

        raw: Future[Any]
        if service == "sqs":
            url = self.read("sqs", "get_queue_url", QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])
            raw = chain(
                url,
                lambda u: self.read(
                    "sqs", "get_queue_attributes", QueueUrl=u["QueueUrl"], AttributeNames=["KmsMasterKeyId"]
                ),
            )
        elif service == "sns":
            raw = self.read("sns", "get_topic_attributes", TopicArn=arn)
        elif service == "s3":
            raw = recover(self.read("s3", "get_bucket_encryption", Bucket=parts[5]), no_config)
        else:
            return done(Shared(None))

        def unreadable(exc: BaseException) -> None:
            if not isinstance(exc, AwsError) or _denied(exc) is not None:
                raise exc.with_traceback(None)
            unchecked.append(Unchecked(what=f"on-failure destination {arn}", reason=exc.code))

        guarded = recover(raw, unreadable)
        return then(
            guarded,
            lambda found: Shared[Destination | None](
                destination_from_api(arn, service, found) if found is not None else None, tuple(unchecked)
            ),
        )

    def role(self, arn: str) -> Future[Shared[Role]]:
        return self.shared("role", arn, lambda: self._role(arn))

    def _role(self, arn: str) -> Future[Shared[Role]]:
        name = arn.rsplit("/", 1)[-1]
        notes = _Notes()

        def inline(names: list[Any]) -> Future[tuple[NamedPolicy, ...]]:
            docs = [self.read("iam", "get_role_policy", RoleName=name, PolicyName=n) for n in names]
            return then(
                gather(docs),
                lambda raws: tuple(
                    NamedPolicy(name=str(n), document=policy_document(d["PolicyDocument"]))
                    for n, d in zip(names, raws, strict=True)
                ),
            )

        def document(policy_arn: str) -> Future[dict[str, Any]]:
            def version(raw: dict[str, Any]) -> Future[dict[str, Any]]:
                version_id = raw["Policy"]["DefaultVersionId"]
                return then(
                    self.read("iam", "get_policy_version", PolicyArn=policy_arn, VersionId=version_id),
                    lambda v: policy_document(v["PolicyVersion"]["Document"]),
                )

            return chain(self.read("iam", "get_policy", PolicyArn=policy_arn), version)

        def attached(listed: list[Any]) -> Future[tuple[NamedPolicy, ...]]:
            return then(
                gather([document(p["PolicyArn"]) for p in listed]),
                lambda docs: tuple(
                    NamedPolicy(name=p["PolicyName"], arn=p["PolicyArn"], document=d)
                    for p, d in zip(listed, docs, strict=True)
                ),
            )

        parts = gather(
            [
                self.read("iam", "get_role", RoleName=name),
                chain(
                    self.pages("iam", "list_role_policies", "PolicyNames", "Marker", "Marker", RoleName=name),
                    inline,
                ),
                chain(
                    self.pages(
                        "iam",
                        "list_attached_role_policies",
                        "AttachedPolicies",
                        "Marker",
                        "Marker",
                        RoleName=name,
                    ),
                    attached,
                ),
            ]
        )

        def boundary(raw: dict[str, Any]) -> Future[NamedPolicy | None]:
            """The permissions boundary, when the role has one (GetRole names it; IAM user guide,
            "Permissions boundaries for IAM entities": an allow needs the policies and the boundary)."""
            boundary_arn = permissions_boundary_arn(raw["Role"])
            if not boundary_arn:
                return done(None)
            return notes.guard(
                f"permissions boundary {boundary_arn} of role {name}",
                then(
                    document(boundary_arn),
                    lambda d: NamedPolicy(name=boundary_arn.rsplit("/", 1)[-1], arn=boundary_arn, document=d),
                ),
            )

        def built(found: list[Any]) -> Future[Shared[Role]]:
            raw, inline_policies, attached_policies = found

            def role(bound: NamedPolicy | None) -> Shared[Role]:
                return Shared(
                    Role(
                        arn=raw["Role"].get("Arn", arn),
                        name=name,
                        trust_policy=policy_document(raw["Role"].get("AssumeRolePolicyDocument", {})),
                        inline_policies=inline_policies,
                        attached_policies=attached_policies,
                        permissions_boundary_arn=permissions_boundary_arn(raw["Role"]),
                        permissions_boundary=bound,
                        tags=tuple((t["Key"], t["Value"]) for t in raw["Role"].get("Tags", [])),
                    ),
                    tuple(notes.unchecked),
                )

            return then(boundary(raw), role)

        return chain(parts, built)

    def network(
        self, placement: str, subnet_ids: Sequence[str], group_ids: Sequence[str]
    ) -> Future[Shared[Network]]:
        """The network of one placement; mappings on the same cluster or subnets share the object."""
        if placement == "internet":
            return done(Shared(Network(placement="internet")))
        key = [placement, sorted(subnet_ids), list(group_ids)]
        return self.shared("network", key, lambda: self._network(placement, subnet_ids, group_ids))

    def _network(
        self, placement: str, subnet_ids: Sequence[str], group_ids: Sequence[str]
    ) -> Future[Shared[Network]]:
        def with_subnets(raw: dict[str, Any]) -> Future[Shared[Network]]:
            found = tuple(subnet_from_api(s) for s in raw["Subnets"])
            # issue 24 (N17): an MSK Serverless cluster's VpcConfigs may name subnets of several VPCs; one
            # network is one VPC, so the others are named as not checked rather than judged by this VPC.
            subnets = tuple(s for s in found if s.vpc_id == found[0].vpc_id)
            others = [s for s in found if s.vpc_id != found[0].vpc_id]
            unchecked = tuple(
                Unchecked(
                    what=f"network of subnet {s.id} in {s.vpc_id}",
                    reason=f"the pollers' subnets span more than one VPC; only {found[0].vpc_id} is modelled",
                )
                for s in others
            )
            return then(
                self.vpc(found[0].vpc_id),
                lambda v: _network(placement, subnets, group_ids, v, unchecked),
            )

        return chain(self.read("ec2", "describe_subnets", SubnetIds=sorted(subnet_ids)), with_subnets)

    def vpc(self, vpc_id: str) -> Future[VpcFacts]:
        """One VPC's VPC-wide facts, built once however many mappings (and placements) it holds."""
        return self.shared("vpc", vpc_id, lambda: self._vpc(vpc_id))

    def _vpc(self, vpc_id: str) -> Future[VpcFacts]:
        by_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]

        def filtered(key: str) -> dict[str, Any]:
            """The VPC filter under the parameter name each read takes it by."""
            return {key: by_vpc}

        reads: list[Future[Any]] = [
            self.read("ec2", "describe_vpcs", VpcIds=[vpc_id]),
            self.read("ec2", "describe_vpc_attribute", VpcId=vpc_id, Attribute="enableDnsSupport"),
            self.read("ec2", "describe_vpc_attribute", VpcId=vpc_id, Attribute="enableDnsHostnames"),
            # issue 24 (N16): every VPC-wide list page by page, at the largest page each API gives (EC2 API
            # reference, MaxResults; Amazon EC2 developer guide, "Pagination in the Amazon EC2 API": "We
            # recommend that you use pagination when calling describe actions that can potentially return a
            # large number of results ... unpaginated calls might be throttled and could time out").
            *(
                self.pages(
                    "ec2", operation, items, "NextToken", "NextToken", MaxResults=page, **filtered(key)
                )
                for operation, items, page, key in VPC_WIDE_READS
            ),
        ]
        region = self.aws.region
        unchecked: list[Unchecked] = []
        optional = [
            _optional(
                f"VPC endpoint services in {region}",
                self.read(
                    "ec2",
                    "describe_vpc_endpoint_services",
                    ServiceNames=[f"com.amazonaws.{region}.{s}" for s in ENDPOINT_SERVICES],
                ),
                unchecked,
            ),
            _optional(
                f"Route 53 private hosted zones associated with {vpc_id}",
                self.pages(
                    "route53",
                    "list_hosted_zones_by_vpc",
                    "HostedZoneSummaries",
                    "NextToken",
                    "NextToken",
                    VPCId=vpc_id,
                    VPCRegion=region,
                ),
                unchecked,
            ),
        ]
        # issue 24 (N10): Resolver forwarding rules and DHCP options answer for names before any endpoint.
        dns_reads = [
            _optional(
                f"Route 53 Resolver rule associations of {vpc_id}",
                self.pages(
                    "route53resolver",
                    "list_resolver_rule_associations",
                    "ResolverRuleAssociations",
                    "NextToken",
                    "NextToken",
                    Filters=[{"Name": "VPCId", "Values": [vpc_id]}],
                ),
                unchecked,
            ),
            _optional(
                f"Route 53 Resolver rules in {region}",
                self.pages(
                    "route53resolver", "list_resolver_rules", "ResolverRules", "NextToken", "NextToken"
                ),
                unchecked,
            ),
            _optional(
                f"DHCP options of {vpc_id}",
                self.pages("ec2", "describe_dhcp_options", "DhcpOptions", "NextToken", "NextToken"),
                unchecked,
            ),
        ]
        optional += [
            _optional(f"Service Quotas vpc/{code}", self.quota(code), unchecked) for code in QUOTAS.values()
        ]

        def built(r: list[Any]) -> VpcFacts:
            r = [*r[:3], *({name: found} for name, found in zip(VPC_WIDE_ITEMS, r[3:9], strict=True)), *r[9:]]
            (
                vpcs,
                support,
                hostnames,
                groups,
                routes,
                nacls,
                nats,
                endpoints,
                subnets,
                services,
                zones,
                associations,
                rules,
                dhcp,
                *quotas,
            ) = r
            vpc_dhcp = vpcs["Vpcs"][0].get("DhcpOptionsId")
            return VpcFacts(
                vpc=vpc_from_api(vpcs["Vpcs"][0], support, hostnames),
                security_groups=tuple(security_group_from_api(g) for g in groups["SecurityGroups"]),
                route_tables=tuple(route_table_from_api(t) for t in routes["RouteTables"]),
                nacls=tuple(nacl_from_api(n) for n in nacls["NetworkAcls"]),
                nat_gateways=tuple(nat_gateway_from_api(n) for n in nats["NatGateways"]),
                endpoints=tuple(vpc_endpoint_from_api(e) for e in endpoints["VpcEndpoints"]),
                subnets=tuple(subnet_from_api(s) for s in subnets["Subnets"]),
                endpoint_services=(
                    tuple(endpoint_service_from_api(d) for d in services["ServiceDetails"])
                    if services is not None
                    else None
                ),
                zones=tuple(vpc_zone_from_api(z) for z in zones) if zones is not None else None,
                quotas={key: int(v) for key, v in zip(QUOTAS, quotas, strict=True) if v is not None},
                unchecked=tuple(unchecked),
                forwarders=(
                    forwarders_from_api(
                        vpc_id, associations, rules, [d for d in dhcp if d.get("DhcpOptionsId") == vpc_dhcp]
                    )
                    if associations is not None and rules is not None and dhcp is not None
                    else None
                ),
            )

        return then(gather([*reads, *optional[:2], *dns_reads, *optional[2:]]), built)

    def quota(self, code: str) -> Future[float | None]:
        """The applied value of a quota; None when Service Quotas has none for it (then AWS's default,
        which `Network` states, applies)."""

        def missing(exc: BaseException) -> None:
            if not (isinstance(exc, AwsError) and exc.code == "NoSuchResourceException"):
                raise exc.with_traceback(None)

        def value(raw: dict[str, Any] | None) -> float | None:
            found = (raw or {}).get("Quota", {}).get("Value")
            return float(found) if found is not None else None

        read = self.read("service-quotas", "get_service_quota", ServiceCode="vpc", QuotaCode=code)
        guarded = recover(read, missing)
        return then(guarded, value)

    # -- live health (CloudWatch): one request per cluster and per function; a scan batches them ------
    def broker_health(self, arn: str, minutes: int) -> Future[BrokerHealth]:
        return self.shared("broker-health", [arn, minutes], lambda: self._broker_health(arn, minutes))

    def _broker_health(self, arn: str, minutes: int) -> Future[BrokerHealth]:
        unread: list[str] = []

        def metrics_of(brokers: tuple[str, ...]) -> Future[BrokerHealth]:
            request = self.metric_data(
                ["broker", arn, minutes], lambda: metrics.broker_request(arn, brokers, minutes)
            )
            got = _denial("GetMetricData", request, unread)
            return then(got, lambda results: metrics.broker_health(arn, brokers, minutes, results or ()))

        nodes = _denial("ListNodes", self.nodes(arn), unread)
        built = chain(nodes, lambda found: metrics_of(metrics.broker_ids(found or ())))
        return then(built, lambda h: h.model_copy(update={"unread": tuple(unread)}))

    def metric_data(self, key: list[Any], params: Callable[[], dict[str, Any]]) -> Future[list[Any]]:
        """A cluster's or a function's MetricDataResults (every page): its own GetMetricData call, unless a
        scan's `prefetch_metrics` has them already from a call shared with other requests (issue 26)."""
        return self.shared(
            "metric-data",
            key,
            lambda: self.pages(
                "cloudwatch", "get_metric_data", "MetricDataResults", "NextToken", "NextToken", **params()
            ),
        )

    def nodes(self, arn: str) -> Future[list[Any]]:
        """ListNodes, every page: read once per cluster for its metrics and its broker names (issue 21)."""
        return self.pages("kafka", "list_nodes", "NodeInfoList", "NextToken", "NextToken", ClusterArn=arn)

    def vpc_zones(
        self, vpc_id: str, zones: tuple[tuple[str, str], ...], hosts: tuple[str, ...]
    ) -> Future[tuple[HostedZone, ...]]:
        """issue 21 (item 7): the VPC's associated zones that answer for the hosts (Route 53, one worker)."""
        return self.shared(
            "vpc-zones",
            [vpc_id, list(hosts)],
            lambda: self.pool.submit(dns.associated_zones, self.aws, vpc_id, zones, hosts),
        )

    # issue 21
    def topics(self, cluster: Cluster) -> Future[Topics]:
        """The cluster's topics (ListTopics, every page), or why the topic APIs do not apply."""
        why = topics.not_applicable(cluster)
        if why is not None:
            return done(Topics(cluster_arn=cluster.arn, not_applicable=why))
        unread: list[str] = []
        listed = _denial(
            "ListTopics",
            self.pages("kafka", "list_topics", "Topics", "NextToken", "NextToken", ClusterArn=cluster.arn),
            unread,
        )
        return then(listed, lambda raws: topics.topics_from_api(cluster.arn, raws or (), tuple(unread)))

    def log_events(
        self, group: str, now: datetime, minutes: int, *, max_pages: int = 0, **params: Any
    ) -> Future[list[Any]]:
        """FilterLogEvents on `group` over the `minutes` before `now`, every page (or `max_pages`). A log
        group or stream that does not exist (not created yet, or deleted) holds no events."""

        def absent(exc: BaseException) -> list[Any]:
            if isinstance(exc, AwsError) and exc.code == "ResourceNotFoundException":
                return []
            raise exc.with_traceback(None)

        pages = self.pages(
            "logs",
            "filter_log_events",
            "events",
            "nextToken",
            "nextToken",
            max_pages=max_pages,
            logGroupName=group,
            startTime=int((now - timedelta(minutes=minutes)).timestamp() * 1000),
            endTime=int(now.timestamp() * 1000),
            **params,
        )
        return recover(pages, absent)

    def esm_logs(self, esm: Esm, function: Function, minutes: int) -> Future[EsmLogs]:
        """The mapping's system-log records in the window (FilterLogEvents on its own streams, every page).

        A log group or stream that does not exist yet holds no records; a denied read is COULD_NOT_CHECK."""
        group = health.log_group(function.name, function.log_group)
        now = datetime.now(UTC)
        streams = esm_logs.stream_names(esm.uuid, now, minutes)
        events = self.log_events(group, now, minutes, logStreamNames=list(streams))
        return then(
            events,
            lambda got: EsmLogs(
                log_group=group,
                log_streams=streams,
                minutes=minutes,
                records=tuple(
                    EsmLogRecord(
                        log_stream=str(e.get("logStreamName", "")),
                        timestamp=int(e.get("timestamp", 0)),
                        message=str(e.get("message", "")),
                    )
                    for e in got
                ),
            ),
        )

    def broker_logs(self, cluster: Cluster, minutes: int) -> Future[BrokerLogs]:
        """issue 21 (item 4): the brokers' lines in the window that `broker_logs.FILTER_PATTERN` matches,
        from the whole log group (MSK does not document its stream names), at most `MAX_PAGES` pages.

        A log group that does not exist (deleted after delivery was set up) holds no lines; a denied read
        is COULD_NOT_CHECK (the caller guards it). Shared per cluster and window in a scan."""
        group = str(cluster.broker_log_group)
        return self.shared("broker-logs", [group, minutes], lambda: self._broker_logs(group, minutes))

    def _broker_logs(self, group: str, minutes: int) -> Future[BrokerLogs]:
        limit = broker_logs.PAGE_LIMIT
        events = self.log_events(
            group,
            datetime.now(UTC),
            minutes,
            max_pages=broker_logs.MAX_PAGES,
            filterPattern=broker_logs.FILTER_PATTERN,
            limit=limit,
        )
        return then(
            events,
            lambda got: BrokerLogs(
                log_group=group,
                minutes=minutes,
                filter_pattern=broker_logs.FILTER_PATTERN,
                records=tuple(
                    BrokerLogRecord(
                        log_stream=str(e.get("logStreamName", "")),
                        timestamp=int(e.get("timestamp", 0)),
                        message=broker_logs.trim(str(e.get("message", ""))),
                    )
                    for e in got
                ),
                truncated=len(got) >= limit * broker_logs.MAX_PAGES,
            ),
        )

    def function_health(self, arn: str, minutes: int, esm_uuid: str | None = None) -> Future[FunctionHealth]:
        """Shared per function, or per mapping for one that publishes its event counts (issue 25)."""
        return self.shared(
            "function-health",
            [arn, minutes, esm_uuid or ""],
            lambda: self._function_health(arn, minutes, esm_uuid),
        )

    def _function_health(self, arn: str, minutes: int, esm_uuid: str | None) -> Future[FunctionHealth]:
        unread: list[str] = []

        def concurrency_of(read: dict[str, Any]) -> Future[dict[str, Any]]:
            if "Concurrency" in read:
                return done(read["Concurrency"])
            return self.read("lambda", "get_function_concurrency", FunctionName=arn)

        read = chain(self.function_read(arn), concurrency_of)
        concurrency = _denial("GetFunctionConcurrency", read, unread)
        request = self.metric_data(
            ["function", arn, minutes, esm_uuid or ""],
            lambda: metrics.function_request(arn, minutes, esm_uuid=esm_uuid),
        )
        results = _denial("GetMetricData", request, unread)
        return then(
            gather([concurrency, results]),
            lambda got: metrics.function_health(arn, minutes, got[0], got[1], tuple(unread), esm_uuid),
        )

    def local_names(self, hosts: tuple[str, ...]) -> Future[LocalResolution]:
        return self.shared("resolve", list(hosts), lambda: self.pool.submit(dns.resolve_all, hosts))

    def private_zones(self, vpc_id: str, hosts: tuple[str, ...]) -> Future[tuple[HostedZone, ...]]:
        """Route 53's chain of reads runs in one worker (it only grows with matching zones)."""
        return self.shared(
            "zones",
            [vpc_id, list(hosts)],
            lambda: self.pool.submit(dns.private_zones, self.aws, vpc_id, self.aws.region, hosts),
        )

    # -- issue 15: the mapping's peers, its encryption keys, its schema registry --------------------
    def peers(self, esm: Esm) -> Future[tuple[PeerMapping, ...]]:
        """Other mappings on the same source that join the same consumer group.

        For MSK, ListEventSourceMappings filtered by the cluster ARN (one listing per cluster); for a
        self-managed source, which the listing cannot filter on, the region's whole listing (once per
        run), kept where a bootstrap server's host is shared. A scan seeds both from its own listing
        (`seed_listing`), so it makes no call here. Only mappings in this mapping's group are kept: a
        cluster's thousand mappings do not become a thousand peers of each other.
        """
        arn = esm.event_source_arn
        if esm.source_kind == "msk" and arn:
            listed = self.shared("peers-source", arn, lambda: self._listing(EventSourceArn=arn))
        else:
            listed = self.shared("peers-region", self.aws.region, lambda: self._listing())
        return then(listed, lambda groups: _peers(esm, groups))

    def _listing(self, **params: Any) -> Future[Groups]:
        """A listing's Kafka mappings by consumer group, parsed once for every mapping that asks."""
        raws = self.pages(
            "lambda", "list_event_source_mappings", "EventSourceMappings", "Marker", "NextMarker", **params
        )
        return then(raws, lambda listed: _by_group(_parsed(listed)))

    def kms_key(self, ref: str) -> Future[Shared[KmsKey]]:
        """DescribeKey, then (a customer managed key only) its `default` key policy, once per key.

        "The only valid policy name is default" (KMS API reference, GetKeyPolicy); a denied
        GetKeyPolicy is recorded, and the key-policy check reports it could not check."""
        return self.shared("kms-key", ref, lambda: self._kms_key(ref))

    def _kms_key(self, ref: str) -> Future[Shared[KmsKey]]:
        notes = _Notes()

        def policy(key_id: str, what: str) -> Future[dict[str, Any] | None]:
            return notes.guard(
                f"key policy of KMS key {what}",
                self.read("kms", "get_key_policy", KeyId=key_id, PolicyName="default"),
            )

        # GetKeyPolicy takes a key id or key ARN, not an alias (KMS API reference): for those it is read
        # beside DescribeKey, not after it, and left unused if the key turns out to be AWS managed.
        alias = ref.startswith("alias/") or ":alias/" in ref
        early = None if alias else policy(ref, ref)

        def described(raw: dict[str, Any]) -> Future[Shared[KmsKey]]:
            meta = raw["KeyMetadata"]
            key = KmsKey(
                ref=ref,
                arn=meta.get("Arn", ref),
                manager=meta.get("KeyManager", ""),
                state=meta.get("KeyState", ""),
            )
            if key.manager != "CUSTOMER":
                return done(Shared(key))  # an AWS managed key's policy is not judged, nor its denial
            policy_f = early if early is not None else policy(meta["KeyId"], key.arn)
            return then(
                policy_f,
                lambda got: Shared(
                    key.model_copy(update={"policy": policy_document(got["Policy"]) if got else None}),
                    tuple(notes.unchecked),
                ),
            )

        return chain(self.read("kms", "describe_key", KeyId=ref), described)

    def glue_registry(self, arn: str) -> Future[bool]:
        """Whether the Glue registry exists (GetRegistry), once per registry."""

        def missing(exc: BaseException) -> None:
            if not (isinstance(exc, AwsError) and exc.code == "EntityNotFoundException"):
                raise exc.with_traceback(None)

        def start() -> Future[bool]:
            read = self.read("glue", "get_registry", RegistryId={"RegistryArn": arn})
            raw = recover(read, missing)
            return then(raw, lambda found: found is not None)

        return self.shared("glue-registry", arn, start)


def _optional(what: str, future: Future[Any], unchecked: list[Unchecked]) -> Future[Any]:
    """A read a VPC's facts can do without: when denied, None, and the gap recorded for every mapping."""

    def handle(exc: BaseException) -> None:
        denied = _denied(exc)
        if denied is None:
            raise exc.with_traceback(None)
        unchecked.append(Unchecked(what=what, reason=f"{denied.code} on {denied.operation}"))

    return recover(future, handle)


def _denial(operation: str, future: Future[Any], unread: list[str]) -> Future[Any]:
    """A live-health read: when denied, None and the denial noted in the health model itself (a missing
    metric must not turn the checks that rule out network causes into "could not check")."""

    def handle(exc: BaseException) -> None:
        denied = _denied(exc)
        if denied is None:
            raise exc.with_traceback(None)
        unread.append(f"{denied.code} on {operation}")

    return recover(future, handle)


def _parsed(raws: Sequence[dict[str, Any]]) -> list[Esm]:
    out = []
    for raw in raws:
        try:
            out.append(esm_from_api(raw))
        except InputError:
            continue  # not a Kafka mapping
    return out


def _by_group(esms: Sequence[Esm]) -> Groups:
    groups: dict[str, list[Esm]] = {}
    for esm in esms:
        groups.setdefault(esm.group_id, []).append(esm)
    return {group: tuple(members) for group, members in groups.items()}


def _peers(esm: Esm, groups: Groups) -> tuple[PeerMapping, ...]:
    """The listed mappings in `esm`'s group on its source (its cluster, or a shared broker host)."""
    hosts = set(kafka.broker_hosts(esm.bootstrap_servers))
    out = []
    for other in groups.get(esm.group_id, ()):
        if other.uuid == esm.uuid or other.source_kind != esm.source_kind:
            continue
        same = (
            other.event_source_arn == esm.event_source_arn
            if esm.source_kind == "msk"
            else bool(hosts & set(kafka.broker_hosts(other.bootstrap_servers)))
        )
        if same:
            out.append(
                PeerMapping(
                    uuid=other.uuid,
                    function_arn=other.function_arn,
                    group_id=other.group_id,
                    topics=other.topics,
                )
            )
    return tuple(sorted(out, key=lambda p: p.uuid))


def seed_listing(aws: Aws, raws: Sequence[dict[str, Any]]) -> None:
    """Hand a scan's region listing to observation: the peers of every mapping are then found in it,
    without listing again (`_Observer.peers`). Only a listing of the whole region may seed it. Each
    mapping is parsed once, and a mapping looks only at its own group, so a scan's cost stays linear."""
    esms = _parsed(raws)
    by_source: dict[str, list[Esm]] = {}
    for esm in esms:
        if esm.event_source_arn:
            by_source.setdefault(esm.event_source_arn, []).append(esm)
    _seed(aws, f"peers-region:{json.dumps(aws.region)}", _by_group(esms))
    for arn, listed in by_source.items():
        _seed(aws, f"peers-source:{json.dumps(arn)}", _by_group(listed))


def prefetch_functions(aws: Aws, pool: ThreadPoolExecutor, raws: Sequence[dict[str, Any]]) -> None:
    """Start a scan's function reads (GetFunction), one per distinct function, in listing order, on
    `pool`; returns at once. Each is the read a mapping's observation makes (`_Observer.function`,
    shared), so it is made once whoever asks first, and denied reads fall back as there.

    Why: GetFunction is the one read a scan makes per function, so with one function per mapping its
    bucket (100 per second) sets the scan's time. Made only as mappings are observed, `scan_workers`
    at a time, it idles while the first mappings wait on their clusters, roles and networks (issue 26,
    measured: 16 GetFunction calls in the first 3 s of a 1,000-function scan, then 100 a second); made
    from the listing on, its bucket is busy from the start. It makes no call the scan would not make."""
    obs = _Observer(aws, pool)
    for arn in dict.fromkeys(esm.function_arn for esm in _parsed(raws)):
        obs.function(arn)


def prefetch_metrics(
    aws: Aws, pool: ThreadPoolExecutor, raws: Sequence[dict[str, Any]], minutes: int
) -> None:
    """Start a scan's metric reads: the GetMetricData requests of every function and of every provisioned
    cluster, each kind merged into as few calls as the API allows (`metric_batch`), and each request's
    answer seeded where its mappings' observation looks for it (`_Observer.metric_data`). Returns at once;
    nothing here waits.

    The functions' calls go out at once: the listing names every function. The clusters' calls wait for
    each cluster's kind and brokers, read as its mappings read them (the same shared DescribeClusterV2 and
    ListNodes); keeping the two apart costs at most one call more than merging them, and spares every
    mapping waiting on its function's metrics until the last cluster is read. A cluster whose mappings
    will not ask (not provisioned, not found) adds nothing. A failed call (denied) fails every request in
    it, which each mapping's health notes as it did its own call's."""
    if minutes <= 0:
        return
    obs = _Observer(aws, pool)
    now = datetime.now(UTC)
    functions: dict[str, tuple[list[Any], dict[str, Any]]] = {}
    clusters: set[str] = set()
    for esm in _parsed(raws):
        arn = ":".join(esm.function_arn.split(":")[:7])  # as `_health` asks for it
        uuid = esm.uuid if health.ESM_EVENT_COUNT in esm.metrics_config else None
        key: list[Any] = ["function", arn, minutes, uuid or ""]
        if json.dumps(key) not in functions:
            functions[json.dumps(key)] = (key, metrics.function_request(arn, minutes, now, esm_uuid=uuid))
        source = esm.event_source_arn
        if esm.source_kind == "msk" and source and not kafka.is_vpc_connection(source):
            clusters.add(source)

    def broker_request(arn: str) -> Future[dict[str, Any] | None]:
        def of(found: Shared[Cluster | None]) -> Future[dict[str, Any] | None]:
            if found.value is None or found.value.kind != "PROVISIONED":
                return done(None)
            nodes = _denial("ListNodes", obs.nodes(arn), [])
            return then(
                nodes, lambda got: metrics.broker_request(arn, metrics.broker_ids(got or ()), minutes, now)
            )

        return recover(chain(obs.cluster(arn), of), lambda _: None)  # its mappings meet the failure

    def send(found: list[dict[str, Any] | None]) -> list[Future[list[Any]]]:
        """Each request's MetricDataResults (a request not made: none), from the calls of them all."""
        asked = [i for i, request in enumerate(found) if request is not None]
        made = metric_batch.batches([r for r in found if r is not None])
        calls = [
            then(
                obs.pages(
                    "cloudwatch", "get_metric_data", "MetricDataResults", "NextToken", "NextToken", **b.params
                ),
                metric_batch.split,
            )
            for b in made
        ]

        def answer(n: int) -> Future[list[Any]]:
            mine = gather([call for call, b in zip(calls, made, strict=True) if n in b.members])
            return then(mine, lambda parts: [r for part in parts for r in part.get(n, [])])

        answers: list[Future[list[Any]]] = [done([]) for _ in found]
        for n, i in enumerate(asked):
            answers[i] = answer(n)
        return answers

    def seed(keys: list[list[Any]], sent: Future[list[Future[list[Any]]]]) -> None:
        def results(i: int) -> Future[list[Any]]:
            return chain(sent, lambda answers: answers[i])

        for i, key in enumerate(keys):
            obs.shared("metric-data", key, functools.partial(results, i))

    seed([key for key, _ in functions.values()], done(send([request for _, request in functions.values()])))
    ordered = sorted(clusters)
    seed(
        [["broker", arn, minutes] for arn in ordered],
        then(gather([broker_request(a) for a in ordered]), send),
    )


def _seed(aws: Aws, key: str, value: Groups) -> None:
    aws.shared(key, lambda: done(value))


def _network(
    placement: str,
    subnets: tuple[Subnet, ...],
    group_ids: Sequence[str],
    found: VpcFacts,
    unchecked: tuple[Unchecked, ...] = (),
) -> Shared[Network]:
    ids = {s.id for s in subnets}
    network = Network(
        placement=placement,  # type: ignore[arg-type]
        vpc=found.vpc,
        subnets=subnets,
        source_security_group_ids=tuple(group_ids),
        security_groups=found.security_groups,
        route_tables=found.route_tables,
        nacls=found.nacls,
        nat_gateways=found.nat_gateways,
        endpoints=found.endpoints,
        other_subnets=tuple(s for s in found.subnets if s.id not in ids),
        endpoint_services=found.endpoint_services,
        zones=found.zones,
        forwarders=found.forwarders,
        **found.quotas,
    )
    return Shared(network, (*found.unchecked, *unchecked))


def read_esm(aws: Aws, esm_id: str) -> dict[str, Any]:
    """The raw ESM; InputError when it does not exist in this account and region."""
    uuid = parse_esm_id(esm_id)
    try:
        return aws.read("lambda", "get_event_source_mapping", UUID=uuid)
    except AwsError as exc:
        if exc.code == "ResourceNotFoundException":
            raise InputError(f"no event source mapping {uuid} in {aws.region}") from None
        raise


@dataclass(frozen=True)
class _Observed:
    function: Function | None
    cluster: Cluster | None
    network: Network | None
    role: Role | None
    secrets: tuple[Secret, ...]
    dns: Dns | None
    vpc_connection: VpcConnection | None
    destination: Destination | None
    ca_bundles: tuple[tuple[str, str], ...]  # (secret ARN, PEM) for the probe; memory only
    broker_health: BrokerHealth | None = None
    function_health: FunctionHealth | None = None
    peers: tuple[PeerMapping, ...] | None = None
    keys: tuple[KmsKey, ...] = ()
    schema_registry: SchemaRegistry | None = None
    topics: Topics | None = None
    broker_interfaces: tuple[BrokerInterface, ...] | None = None
    esm_logs: EsmLogs | None = None
    broker_logs: BrokerLogs | None = None
    former_groups: tuple[FormerGroup, ...] | None = None  # issue 25


def _former_groups(obs: _Observer, esm: Esm, notes: _Notes) -> Future[tuple[FormerGroup, ...] | None]:
    """issue 25 (item 5): the groups of deleted mappings on the mapping's topics (`former_groups`): the
    cluster's listing and each candidate's GetEventSourceMapping are shared by the mappings of a scan."""
    assert esm.event_source_arn is not None
    name = former_groups.cluster_name(esm.event_source_arn)
    listed = obs.shared(
        "kafka-consumer-groups",
        name,
        lambda: obs.pages(
            "cloudwatch", "list_metrics", "Metrics", "NextToken", "NextToken", **former_groups.listing(name)
        ),
    )

    def gone(exc: BaseException) -> None:
        if not (isinstance(exc, AwsError) and exc.code == "ResourceNotFoundException"):
            raise exc.with_traceback(None)

    def exists(group: str) -> Future[bool]:
        read = obs.shared(
            "mapping-exists",
            group,
            lambda: recover(obs.read("lambda", "get_event_source_mapping", UUID=group), gone),
        )
        return then(read, lambda raw: raw is not None)

    def judged(metrics: list[dict[str, Any]]) -> Future[tuple[FormerGroup, ...]]:
        pairs = former_groups.candidates(metrics, esm)
        groups = sorted({g for g, _ in pairs})
        return then(
            gather([exists(g) for g in groups]),
            lambda alive: tuple(
                FormerGroup(group=g, topic=t)
                for g, t in pairs
                if not dict(zip(groups, alive, strict=True))[g]
            ),
        )

    what = f"consumer groups on {', '.join(esm.topics)} of MSK cluster {name}"
    return cast("Future[tuple[FormerGroup, ...] | None]", notes.guard(what, chain(listed, judged)))


def _broker_interfaces(
    obs: _Observer, esm: Esm, network: Network | None, names: Dns | None, notes: _Notes
) -> Future[tuple[BrokerInterface, ...] | None]:
    """issue 21 (item 6): the interfaces holding the self-managed brokers' IPs in the pollers' VPC: the IPs
    given, and those a private hosted zone of the VPC answers for the names given."""
    addresses = broker_interfaces.broker_addresses(esm, names)
    vpc = network.vpc if network is not None and network.placement != "internet" else None
    if esm.source_kind != "self-managed" or vpc is None or not addresses:
        return done(None)
    filters = [
        {"Name": "vpc-id", "Values": [vpc.id]},
        {"Name": "addresses.private-ip-address", "Values": list(addresses)},
    ]
    read = obs.read("ec2", "describe_network_interfaces", Filters=filters)
    found = then(read, lambda raw: broker_interfaces.interfaces_from_api(raw, addresses))
    return notes.guard(f"network interfaces of the brokers {', '.join(addresses)} in {vpc.id}", found)


def _placement(
    esm: Esm, cluster: Cluster | None, connection: VpcConnection | None
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """Where the pollers run: the cluster's subnets (MSK), the VPC_* source access, or the internet."""
    if esm.source_kind == "msk" and connection is not None:
        # The pollers reach a cross-account cluster through the connection's interfaces in this
        # account's VPC (MSK multi-VPC private connectivity).
        return "cluster", connection.subnet_ids, connection.security_group_ids
    if esm.source_kind == "msk":
        return ("cluster", cluster.subnet_ids, cluster.security_group_ids) if cluster else ("cluster", (), ())
    if esm.access(kafka.VPC_SUBNET):
        subnets = tuple(u.removeprefix("subnet:") for u in esm.access(kafka.VPC_SUBNET))
        groups = tuple(u.removeprefix("security_group:") for u in esm.access(kafka.VPC_SECURITY_GROUP))
        return "source-access", subnets, groups
    return "internet", (), ()


def _observe(
    obs: _Observer, esm: Esm, notes: _Notes, minutes: int = 0, *, listed: bool = False
) -> Future[_Observed]:
    """The mapping's dependency chain as chained futures: nothing here waits."""
    function_what = f"function {esm.function_arn}"

    def function_gone(exc: BaseException) -> None:
        # issue 25: Lambda keeps a mapping after its function is deleted; GetFunction then answers
        # ResourceNotFoundException (Lambda API reference, GetFunction, Errors). The checks that need the
        # function say they could not run, and source_exists reports the stray.
        if not (isinstance(exc, AwsError) and exc.code == "ResourceNotFoundException"):
            raise exc.with_traceback(None)
        notes.unchecked.append(Unchecked(what=function_what, reason=f"{exc.code}: {exc}"))

    function_read = recover(obs.function(esm.function_arn), function_gone)
    function_f = notes.guard(function_what, function_read)

    def role(fn: Function | None) -> Future[Role | None]:
        if fn is None or not fn.role_arn:
            return done(None)
        return notes.adopt(f"execution role {fn.role_arn}", obs.role(fn.role_arn))

    role_f = chain(function_f, role)
    cross_account = kafka.is_vpc_connection(esm.event_source_arn)
    cluster_f = cast(
        "Future[Cluster | None]",
        notes.adopt(f"MSK cluster {esm.event_source_arn}", obs.cluster(str(esm.event_source_arn)))
        if esm.source_kind == "msk" and not cross_account
        else done(None),
    )
    connection_f: Future[VpcConnection | None] = (
        notes.guard(f"VPC connection {esm.event_source_arn}", obs.vpc_connection(str(esm.event_source_arn)))
        if cross_account
        else done(None)
    )
    destination_f = cast(
        "Future[Destination | None]",
        notes.adopt(
            f"on-failure destination {esm.on_failure_destination}",
            obs.destination(esm.on_failure_destination),
        )
        if esm.on_failure_destination
        else done(None),
    )
    access = [a for a in esm.source_access if a.type in kafka.SECRET_TYPES]
    # A Confluent schema registry's access secrets are read by the execution role like the source's.
    access += [a for a in esm.schema_registry_access if a.uri not in {b.uri for b in access}]
    secret_fs = [notes.guard(f"secret {a.uri}", obs.secret(a)) for a in access]

    def network(parts: list[Any]) -> Future[Network | None]:
        placement, subnets, groups = _placement(esm, *parts)
        if placement != "internet" and not subnets:
            return done(None)
        return notes.adopt(f"network of {placement}", obs.network(placement, subnets, groups))

    network_f = chain(gather([cluster_f, connection_f]), network)
    names_f = (
        chain(network_f, lambda net: _names(obs, esm, net, notes))
        if esm.source_kind == "self-managed"
        else chain(gather([cluster_f, network_f]), lambda got: _msk_names(obs, esm, got[0], got[1], notes))
    )
    # issue 21 (item 6): a name's interface waits for the VPC's zones only, not for this machine's resolver.
    zones_f = (
        chain(network_f, lambda net: _zones_of(obs, esm, net, notes))
        if esm.source_kind == "self-managed"
        else done(None)
    )
    interfaces_f = chain(
        gather([network_f, zones_f]),
        lambda got: _broker_interfaces(obs, esm, got[0], Dns(zones=got[1] or ()), notes),
    )

    health_fs = _health(obs, function_f, cluster_f, minutes, esm)

    def cluster_topics(cluster: Cluster | None) -> Future[Topics | None]:
        if cluster is None:
            return done(None)
        return cast("Future[Topics | None]", obs.topics(cluster))

    topics_f = chain(cluster_f, cluster_topics)
    cas_f = chain(cluster_f, lambda cluster: _private_cas(obs, esm, cluster, notes))  # issue 24 (N6)
    gateways_f = chain(network_f, lambda net: _gateway_count(obs, esm, net, notes))  # issue 24 (N15)

    def system_logs(fn: Function | None) -> Future[EsmLogs | None]:
        # issue 21: only a provisioned-mode mapping with a LoggingConfig writes system logs (esm_logs).
        if fn is None or not esm.system_log_level or not esm.provisioned_pollers:
            return done(None)
        read = obs.esm_logs(esm, fn, minutes or esm_logs.DEFAULT_MINUTES)
        return cast("Future[EsmLogs | None]", notes.guard(f"system logs of mapping {esm.uuid}", read))

    logs_f = chain(function_f, system_logs)

    def cluster_logs(cluster: Cluster | None) -> Future[BrokerLogs | None]:
        # issue 21 (item 4): only where the brokers deliver to CloudWatch Logs (LoggingInfo).
        if cluster is None or not cluster.broker_log_group:
            return done(None)
        read = obs.broker_logs(cluster, minutes or esm_logs.DEFAULT_MINUTES)
        return cast(
            "Future[BrokerLogs | None]", notes.guard(f"broker logs of {cluster.broker_log_group}", read)
        )

    broker_logs_f = chain(cluster_f, cluster_logs)
    related_f = _related(obs, esm, notes, destination_f, secret_fs, listed=listed)
    # issue 25: consumer groups of deleted mappings, beside the chain so that it adds no round trip: started
    # with the metric reads (once the cluster is read), when the CloudWatch client is built ahead of them.
    former_f = (
        chain(cluster_f, lambda _cluster: _former_groups(obs, esm, notes))
        if former_groups.wanted(esm, minutes)
        else done(None)
    )

    def observed(parts: list[Any]) -> _Observed:
        (
            broker_health,
            function_health,
            function,
            cluster,
            network,
            role,
            names,
            connection,
            destination,
            related,
            found_topics,
            interfaces,
            found_logs,
            found_broker_logs,
            cas,
            gateways,
            former,
            *shared,
        ) = parts
        if network is not None and gateways is not None:
            network = network.model_copy(update={"gateway_endpoints_in_region": gateways})
        if cluster is not None and cas is not None:
            cluster = cluster.model_copy(update={"private_cas": cas})
        secrets: list[Shared[Secret]] = [found for found in shared if found is not None]
        for found in secrets:
            notes.unchecked.extend(found.unchecked)
        return _Observed(
            function=function,
            cluster=cluster,
            network=network,
            role=role,
            secrets=tuple(found.value for found in secrets),
            dns=names,
            vpc_connection=connection,
            destination=destination,
            ca_bundles=tuple((f.value.arn, f.ca_bundle) for f in secrets if f.ca_bundle),
            broker_health=broker_health,
            function_health=function_health,
            peers=related[0],
            keys=related[1],
            schema_registry=related[2],
            topics=found_topics,
            broker_interfaces=interfaces,
            esm_logs=found_logs,
            broker_logs=found_broker_logs,
            former_groups=former,
        )

    return then(
        gather(
            [
                *health_fs,
                function_f,
                cluster_f,
                network_f,
                role_f,
                names_f,
                connection_f,
                destination_f,
                related_f,
                topics_f,
                interfaces_f,
                logs_f,
                broker_logs_f,
                cas_f,
                gateways_f,
                former_f,
                *secret_fs,
            ]
        ),
        observed,
    )


def _with_policy(secret: Secret, raw: dict[str, Any] | None) -> Secret:
    """The secret with its resource policy, when GetResourcePolicy answered (issue 24, N8)."""
    if raw is None:
        return secret
    document = policy.parse(raw.get("ResourcePolicy"))
    return secret.model_copy(update={"resource_policy_read": True, "resource_policy": document})


def _gateway_count(obs: _Observer, esm: Esm, net: Network | None, notes: _Notes) -> Future[int | None]:
    """issue 24 (N15): the account's live gateway endpoints in the Region, read only when an S3 gateway
    endpoint may be planned (an S3 on-failure destination reached from a VPC): "Gateway VPC endpoints per
    Region: 20" (AWS PrivateLink quotas) is a Region-wide count."""
    s3 = (esm.on_failure_destination or "").startswith("arn:aws:s3:")
    if not s3 or net is None or net.placement == "internet" or net.vpc is None:
        return done(None)
    gateways = [{"Name": "vpc-endpoint-type", "Values": ["Gateway"]}]
    listed = obs.pages(
        "ec2",
        "describe_vpc_endpoints",
        "VpcEndpoints",
        "NextToken",
        "NextToken",
        MaxResults=1000,
        Filters=gateways,
    )
    live = {s.lower() for s in VPC_ENDPOINT_LIVE_STATES}
    counted = then(listed, lambda found: sum(1 for e in found if str(e.get("State", "")).lower() in live))
    return cast("Future[int | None]", notes.guard("gateway VPC endpoints of the Region", counted))


def _private_cas(
    obs: _Observer, esm: Esm, cluster: Cluster | None, notes: _Notes
) -> Future[tuple[PrivateCa, ...] | None]:
    """issue 24 (N6): the certificates of an mTLS cluster's private CAs, read only for a mapping that
    authenticates with a client certificate; a denied read is unchecked, a CA AWS refuses is named."""
    uses_mtls = any(a.type == kafka.CLIENT_CERTIFICATE_TLS_AUTH for a in esm.source_access)
    if cluster is None or not cluster.auth.tls or not cluster.tls_ca_arns or not uses_mtls:
        return done(None)

    def refused(arn: str) -> Callable[[BaseException], PrivateCa]:
        def handle(exc: BaseException) -> PrivateCa:
            if isinstance(exc, AwsError) and exc.code in private_ca.REFUSALS:
                return PrivateCa(arn=arn, error=exc.code)
            raise exc.with_traceback(None)

        return handle

    reads = [
        notes.guard(
            f"certificate of private CA {arn}",
            recover(
                then(
                    obs.read("acm-pca", "get_certificate_authority_certificate", CertificateAuthorityArn=arn),
                    functools.partial(private_ca.private_ca_from_api, arn),
                ),
                refused(arn),
            ),
        )
        for arn in cluster.tls_ca_arns
    ]

    def known(found: list[PrivateCa | None]) -> tuple[PrivateCa, ...] | None:
        return None if any(ca is None for ca in found) else tuple(ca for ca in found if ca is not None)

    return then(gather(reads), known)


def _health(
    obs: _Observer,
    function_f: Future[Function | None],
    cluster_f: Future[Cluster | None],
    minutes: int,
    esm: Esm,
) -> list[Future[Any]]:
    """The broker metrics of a provisioned MSK cluster (self-managed Kafka and MSK Serverless publish no
    broker metrics to AWS/Kafka) and the function's health, each chained to the read it needs; nothing
    when `minutes` is 0 (metrics off)."""
    if minutes <= 0:
        return [done(None), done(None)]

    def brokers(cluster: Cluster | None) -> Future[BrokerHealth | None]:
        if cluster is None or cluster.kind != "PROVISIONED":
            return done(None)
        return cast("Future[BrokerHealth | None]", obs.broker_health(cluster.arn, minutes))

    def function(fn: Function | None) -> Future[FunctionHealth | None]:
        if fn is None:
            return done(None)
        counted = health.ESM_EVENT_COUNT in esm.metrics_config
        return cast(
            "Future[FunctionHealth | None]",
            obs.function_health(":".join(fn.arn.split(":")[:7]), minutes, esm.uuid if counted else None),
        )

    return [chain(cluster_f, brokers), chain(function_f, function)]


def _related(
    obs: _Observer,
    esm: Esm,
    notes: _Notes,
    destination_f: Future[Destination | None],
    secret_fs: Sequence[Future[Shared[Secret] | None]],
    *,
    listed: bool,
) -> Future[list[Any]]:
    """Issue 15's reads: the mapping's peers in its consumer group, the customer managed KMS keys of its
    secrets and destination (once those are read), and its schema registry.

    Peers are looked for when the mapping sets a ConsumerGroupId, or when it comes from a listing (a scan,
    whose listing already holds them). A mapping without one is in the group of its own UUID, which
    another mapping joins only if configured with that UUID: `diagnose` does not list a crowded cluster's
    mappings, page after page, for that."""
    where = esm.event_source_arn or ", ".join(esm.bootstrap_servers)
    peers_f: Future[tuple[PeerMapping, ...] | None] = (
        notes.guard(f"Kafka mappings on {where}", obs.peers(esm))
        if esm.consumer_group_id or listed
        else done(None)
    )

    def keys(parts: list[Any]) -> Future[tuple[KmsKey, ...]]:
        destination, *secrets = parts
        refs = [s.value.kms_key_id for s in secrets if s is not None]
        refs.append(destination.kms_key_id if destination is not None else None)
        wanted = [
            r
            for r in dict.fromkeys(refs)
            if r and not required_access.is_aws_managed_key(r) and not required_access.is_aws_managed_alias(r)
        ]
        # `adopt` takes None (a key KMS did not find) as a value not read.
        read = [
            cast("Future[Shared[KmsKey]]", recover(obs.kms_key(r), _key_not_found(r, notes))) for r in wanted
        ]
        found = [notes.adopt(f"KMS key {r}", f) for r, f in zip(wanted, read, strict=True)]
        return then(gather(found), lambda got: tuple(k for k in got if k is not None))

    keys_f = chain(gather([destination_f, *secret_fs]), keys)
    return gather([peers_f, keys_f, _registry(obs, esm, notes)])


def _key_not_found(ref: str, notes: _Notes) -> Callable[[BaseException], None]:
    """issue 24 (N8): a key KMS does not find for this caller (deleted, or another account's key that
    DescribeKey does not show here) is a key not checked, never the end of the run."""

    def handle(exc: BaseException) -> None:
        if not (isinstance(exc, AwsError) and exc.code == "NotFoundException"):
            raise exc.with_traceback(None)
        notes.unchecked.append(Unchecked(what=f"KMS key {ref}", reason=f"{exc.code}: {exc}"))

    return handle


def _registry(obs: _Observer, esm: Esm, notes: _Notes) -> Future[SchemaRegistry | None]:
    uri = esm.schema_registry_uri
    if not uri:
        return done(None)
    if kafka.is_glue_registry(uri):
        exists_f = notes.guard(f"Glue schema registry {uri}", obs.glue_registry(uri))
        return then(exists_f, lambda exists: SchemaRegistry(kind="glue", uri=uri, exists=exists))
    host = urlsplit(uri).hostname or ""
    if not host:
        return done(SchemaRegistry(kind="confluent", uri=uri))
    return then(
        obs.local_names((host,)),
        lambda local: SchemaRegistry(
            kind="confluent", uri=uri, host=host, resolution=local.results[0] if local.results else None
        ),
    )


def _zones_of(
    obs: _Observer, esm: Esm, network: Network | None, notes: _Notes
) -> Future[tuple[HostedZone, ...] | None]:
    """The private zones that could answer for a self-managed source's broker names (read once, shared)."""
    hosts = kafka.broker_hosts(esm.bootstrap_servers)
    vpc = network.vpc if network is not None and network.placement != "internet" else None
    if vpc is None or not hosts:
        return done(None)
    return notes.guard(f"Route 53 private hosted zones for {vpc.id}", obs.private_zones(vpc.id, hosts))


def _names(obs: _Observer, esm: Esm, network: Network | None, notes: _Notes) -> Future[Dns]:
    """Broker names of a self-managed source: local resolution, and the VPC's private zones."""
    hosts = kafka.broker_hosts(esm.bootstrap_servers)
    zones_f = _zones_of(obs, esm, network, notes)
    return then(
        gather([obs.local_names(hosts), zones_f]),
        lambda found: Dns(hosts=hosts, local=found[0], zones=found[1] or ()),
    )


def _msk_names(
    obs: _Observer, esm: Esm, cluster: Cluster | None, network: Network | None, notes: _Notes
) -> Future[Dns | None]:
    """issue 21 (item 7): every name the cluster's brokers are reached by, and the VPC's private zones that
    answer for them. GetBootstrapBrokers' string for the mapping's listener lists the brokers; ListNodes
    (BrokerNodeInfo.Endpoints, MSK API reference) names each broker's endpoints with its id. A serverless
    cluster has no broker nodes: its bootstrap name alone.

    Only where the VPC can keep a name from resolving (a private zone associated with it answers for the
    brokers' domain, or DNS support is off) are ListNodes (shared with the broker metrics: one per cluster
    in a scan) and the zone's records read; otherwise no broker name can fail there, and nothing is read."""
    vpc = network.vpc if network is not None and network.placement != "internet" else None
    if cluster is None or network is None or vpc is None:
        return done(None)
    associated = network.zones or ()
    listed = kafka.broker_hosts(kafka.bootstrap_servers(esm, cluster))
    if vpc.dns_support and not any(
        h == z.name or h.endswith("." + z.name) for z in associated for h in listed
    ):
        return done(Dns(hosts=listed))
    nodes_f: Future[list[Any] | None] = (
        notes.guard(f"broker nodes of {cluster.arn}", obs.nodes(cluster.arn))
        if cluster.kind == "PROVISIONED"
        else done(None)
    )

    def named(nodes: list[Any] | None) -> Future[Dns | None]:
        brokers = _broker_names(nodes or ())
        hosts = tuple(dict.fromkeys([*listed, *(b.host for b in brokers)]))
        zones = tuple(
            (z.id, z.name) for z in associated if any(h == z.name or h.endswith("." + z.name) for h in hosts)
        )
        found: Future[tuple[HostedZone, ...] | None] = (
            notes.guard(
                f"Route 53 records for the brokers of {cluster.arn}", obs.vpc_zones(vpc.id, zones, hosts)
            )
            if zones
            else done(())
        )
        return then(found, lambda got: Dns(hosts=hosts, zones=got or (), brokers=brokers))

    return chain(nodes_f, named)


def _broker_names(nodes: Sequence[dict[str, Any]]) -> tuple[BrokerName, ...]:
    """(broker id, endpoint) of each broker in ListNodes' NodeInfoList (ids as "1", not 1.0)."""
    out = []
    for node in nodes:
        info = node.get("BrokerNodeInfo") or {}
        raw = info.get("BrokerId")
        if raw is None:
            continue
        broker = str(int(raw)) if float(raw).is_integer() else str(raw)
        out += [BrokerName(broker_id=broker, host=h.rstrip(".").lower()) for h in info.get("Endpoints") or ()]
    return tuple(out)


def observe(
    aws: Aws,
    esm_id: str,
    *,
    max_workers: int = 8,
    raw_esm: dict[str, Any] | None = None,
    probe_timeout: float | None = None,
    metrics_minutes: int = 0,
    stray_disabled_days: int = 0,
    monitoring_asked: bool = False,
) -> Facts:
    """Everything the checks need about one ESM, read in as few sequential round trips as possible.

    `raw_esm` is the mapping as ListEventSourceMappings already returned it (a scan): the same
    configuration GetEventSourceMapping would return, so it is not read again. `probe_timeout`
    turns on the active TLS probe of the brokers (`diagnose --probe`), each step bounded by it.
    `metrics_minutes` reads that many minutes of broker and function metrics (0: none).
    `stray_disabled_days` (issue 25) is carried for the stray check: no read depends on it.
    `monitoring_asked` (issue 25) also reads the function's alarms (two calls, after the rest).
    """
    if raw_esm is None:
        # The mapping's own read starts the chain; every other service's client is built meanwhile,
        # in the order the chain needs them, instead of on it (issue 26).
        aws.client("lambda")
        aws.prepare(services_ahead(bool(metrics_minutes)))
    esm = esm_from_api(raw_esm if raw_esm is not None else read_esm(aws, esm_id))
    notes = _Notes()
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="observe") as pool:
        found = outcome(
            _observe(_Observer(aws, pool), esm, notes, metrics_minutes, listed=raw_esm is not None)
        )
    facts = Facts(
        region=aws.region,
        esm=esm,
        function=found.function,
        cluster=found.cluster,
        network=found.network,
        role=found.role,
        secrets=found.secrets,
        dns=found.dns,
        vpc_connection=found.vpc_connection,
        destination=found.destination,
        broker_health=found.broker_health,
        function_health=found.function_health,
        peers=found.peers,
        keys=found.keys,
        schema_registry=found.schema_registry,
        topics=found.topics,
        broker_interfaces=found.broker_interfaces,
        esm_logs=found.esm_logs,
        broker_logs=found.broker_logs,
        former_groups=found.former_groups,  # issue 25
        observed_at=datetime.now(UTC).isoformat(),  # issue 25
        stray_disabled_days=stray_disabled_days,
        # Sorted: reads finish in any order, and the fingerprint must not depend on it.
        unchecked=tuple(sorted(set(notes.unchecked), key=lambda u: (u.what, u.reason))),
    )
    if monitoring_asked and facts.function is not None:  # issue 25, item 8
        watched, denied = monitoring.read(aws, facts.function.name)
        facts = facts.model_copy(
            update={
                "monitoring": watched,
                "unchecked": tuple(sorted({*facts.unchecked, *denied}, key=lambda u: (u.what, u.reason))),
            }
        )
    denials.met(facts.unchecked)
    if probe_timeout is None:
        return facts
    from remediate.observe import probe

    servers = kafka.bootstrap_servers(facts.esm, facts.cluster)
    ca_arn, ca_pem = found.ca_bundles[0] if found.ca_bundles else (None, None)
    probes = probe.probe_all(
        servers,
        tls=kafka.uses_tls(facts.esm, facts.cluster),
        ca_pem=ca_pem,
        ca_source=f"the CA bundle in secret {ca_arn}" if ca_arn else "the system trust store",
        timeout=probe_timeout,
    )
    return facts.model_copy(update={"tls_probes": probes})
