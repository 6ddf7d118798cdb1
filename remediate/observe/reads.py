"""Observe: the only phase that reads AWS. ESM id in, one immutable `Facts` out.

Reads follow the dependency chain and no further: the ESM first; then, concurrently, its function,
its cluster (or self-managed source-access subnets) and its secrets; then the role's policies and
the VPC's network, each VPC-wide read in one call. Every read goes through `Aws.read`, so a scan that
observes many ESMs sharing a cluster or a VPC pays for each shared read once.

A read the caller is not allowed to make does not fail the run: it is recorded as `Unchecked` and
its checks report "could not check". Only the ESM read itself is essential.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from remediate import kafka
from remediate.aws import Aws, is_access_denied
from remediate.errors import AwsError, InputError
from remediate.facts import (
    Cluster,
    Destination,
    Dns,
    Esm,
    Facts,
    Function,
    LocalResolution,
    NamedPolicy,
    Network,
    Role,
    Secret,
    SecretMaterial,
    SourceAccess,
    Unchecked,
    VpcConnection,
)
from remediate.log import get_logger
from remediate.observe import dns, probe, secret_material
from remediate.observe.builders import (
    cluster_from_api,
    destination_from_api,
    esm_from_api,
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
)

log = get_logger(__name__)
T = TypeVar("T")

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_ESM_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):event-source-mapping:(.+)$")

# The IAM actions observation uses, declared beside the reads for `remediate iam-policy`.
PERMISSIONS = (
    "lambda:GetEventSourceMapping",
    "lambda:GetFunctionConfiguration",
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
    "iam:GetRole",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",  # analysed in memory: only the analysis is kept (secret_material.py)
    "route53:ListHostedZonesByVPC",
    "route53:ListHostedZones",
    "route53:GetHostedZone",
    "route53:ListResourceRecordSets",
    "kafka:ListScramSecrets",
    "kafka:DescribeVpcConnection",  # a cross-account source: the consumer reads its managed VPC connection
    "sqs:GetQueueUrl",  # the on-failure destination's KMS key (SQS, SNS, S3)
    "sqs:GetQueueAttributes",
    "sns:GetTopicAttributes",
    "s3:GetEncryptionConfiguration",
)


def parse_esm_id(esm_id: str) -> str:
    """The UUID of an ESM given as a UUID or an ARN; InputError for anything else."""
    value = esm_id.strip()
    match = _ESM_ARN.match(value)
    if match:
        value = match.group(3)
    if not _UUID.match(value):
        raise InputError(f"{esm_id!r} is not an event source mapping UUID or ARN")
    return value.lower()


class _Observer:
    def __init__(self, aws: Aws, pool: ThreadPoolExecutor) -> None:
        self.aws = aws
        self.pool = pool
        self.unchecked: list[Unchecked] = []
        self.ca_bundles: list[tuple[str, str]] = []  # (secret ARN, PEM) for the probe; memory only

    def guarded(self, what: str, fn: Callable[[], T]) -> T | None:
        """Run a read; a denied read becomes `Unchecked` instead of an error."""
        try:
            return fn()
        except AwsError as exc:
            if exc.__cause__ is not None and is_access_denied(exc.__cause__):
                log.warning("observe.denied", what=what, code=exc.code)
                self.unchecked.append(Unchecked(what=what, reason=f"{exc.code} on {exc.operation}"))
                return None
            raise

    def submit(self, what: str, fn: Callable[[], T]) -> Future[T | None]:
        return self.pool.submit(self.guarded, what, fn)

    # -- reads ------------------------------------------------------------------------------------
    def function(self, arn: str) -> Function:
        return function_from_api(self.aws.read("lambda", "get_function_configuration", FunctionName=arn), arn)

    def cluster(self, arn: str) -> Cluster | None:
        info_f = self.pool.submit(self.aws.read, "kafka", "describe_cluster_v2", ClusterArn=arn)
        brokers = self.guarded(
            f"bootstrap brokers of {arn}",
            lambda: self.aws.read("kafka", "get_bootstrap_brokers", ClusterArn=arn),
        )
        try:
            info = info_f.result()["ClusterInfo"]
        except AwsError as exc:
            if exc.code != "NotFoundException":
                raise
            # No such cluster in this account and Region (deleted, or another account's, which a mapping
            # reaches only through a VPC connection): the checks that need it say they could not run.
            self.unchecked.append(Unchecked(what=f"MSK cluster {arn}", reason=f"{exc.code}: {exc}"))
            return None
        cluster = cluster_from_api(info, brokers)
        if not cluster.auth.scram:
            return cluster
        scram = self.guarded(
            f"SCRAM secrets of {arn}",
            lambda: tuple(
                self.aws.read_pages(
                    "kafka", "list_scram_secrets", "SecretArnList", "NextToken", "NextToken", ClusterArn=arn
                )
            ),
        )
        return cluster.model_copy(update={"scram_secret_arns": scram})

    def vpc_connection(self, arn: str) -> VpcConnection:
        """A cross-account source: the consumer's managed VPC connection, never the owner's cluster (which
        DescribeClusterV2 does not show to another account)."""
        return vpc_connection_from_api(self.aws.read("kafka", "describe_vpc_connection", Arn=arn))

    def destination(self, arn: str) -> Destination | None:
        """The on-failure destination's encryption key; a destination that cannot be read is unchecked."""
        parts = arn.split(":")
        service = parts[2] if len(parts) > 5 else ""
        try:
            if service == "sqs":
                url = self.aws.read(
                    "sqs", "get_queue_url", QueueName=parts[5], QueueOwnerAWSAccountId=parts[4]
                )
                raw = self.aws.read(
                    "sqs", "get_queue_attributes", QueueUrl=url["QueueUrl"], AttributeNames=["KmsMasterKeyId"]
                )
            elif service == "sns":
                raw = self.aws.read("sns", "get_topic_attributes", TopicArn=arn)
            elif service == "s3":
                try:
                    raw = self.aws.read("s3", "get_bucket_encryption", Bucket=parts[5])
                except AwsError as exc:
                    if exc.code != "ServerSideEncryptionConfigurationNotFoundError":
                        raise
                    raw = {}
            else:
                return None
        except AwsError as exc:
            if exc.__cause__ is not None and is_access_denied(exc.__cause__):
                raise
            self.unchecked.append(Unchecked(what=f"on-failure destination {arn}", reason=f"{exc.code}"))
            return None
        return destination_from_api(arn, service, raw)

    def secret(self, access: SourceAccess) -> Secret:
        try:
            raw = self.aws.read("secretsmanager", "describe_secret", SecretId=access.uri)
        except AwsError as exc:
            if exc.code == "ResourceNotFoundException":
                return Secret(arn=access.uri, access_type=access.type, exists=False)
            raise
        arn = raw.get("ARN", access.uri)
        return Secret(
            arn=arn,
            access_type=access.type,
            name=raw.get("Name"),
            kms_key_id=raw.get("KmsKeyId"),
            material=self.guarded(f"value of secret {arn}", lambda: self.material(arn, access.type))
            if access.type in kafka.SECRET_TYPES
            else None,
        )

    def material(self, arn: str, access_type: str) -> SecretMaterial | None:
        """Read the value (uncached: it must not outlive this call), register it for scrubbing, analyse it."""
        try:
            raw = self.aws.call("secretsmanager", "get_secret_value", SecretId=arn)
        except AwsError as exc:
            if exc.code != "DecryptionFailure":
                raise
            self.unchecked.append(Unchecked(what=f"value of secret {arn}", reason=f"{exc.code} (KMS)"))
            return None
        value = raw.get("SecretString")
        if value:
            secret_material.register_value(access_type, value)
            bundle = (
                secret_material.ca_bundle(value) if access_type == kafka.SERVER_ROOT_CA_CERTIFICATE else None
            )
            if bundle:
                self.ca_bundles.append((arn, bundle))
        return secret_material.analyse(access_type, value, binary=value is None and "SecretBinary" in raw)

    def broker_names(self, esm: Esm, network: Network | None, local: Future[LocalResolution]) -> Dns:
        """Broker names of a self-managed source: local resolution, and the VPC's private zones."""
        hosts = kafka.broker_hosts(esm.bootstrap_servers)
        vpc = network.vpc if network is not None and network.placement != "internet" else None
        zones = (
            self.guarded(
                f"Route 53 private hosted zones for {vpc.id}",
                lambda: dns.private_zones(self.aws, vpc.id, self.aws.region, hosts),
            )
            if vpc is not None and hosts
            else None
        )
        return Dns(hosts=hosts, local=local.result(), zones=zones or ())

    def role(self, arn: str) -> Role:
        name = arn.rsplit("/", 1)[-1]
        role_f = self.pool.submit(self.aws.read, "iam", "get_role", RoleName=name)
        inline_f = self.pool.submit(self._inline_policies, name)
        attached = self._attached_policies(name)
        raw = role_f.result()["Role"]
        boundary_arn = permissions_boundary_arn(raw)
        boundary = (
            self.guarded(
                f"permissions boundary {boundary_arn} of role {name}",
                lambda: NamedPolicy(
                    name=boundary_arn.rsplit("/", 1)[-1],
                    arn=boundary_arn,
                    document=self._managed(boundary_arn),
                ),
            )
            if boundary_arn
            else None
        )
        return Role(
            arn=raw.get("Arn", arn),
            name=name,
            trust_policy=policy_document(raw.get("AssumeRolePolicyDocument", {})),
            inline_policies=inline_f.result(),
            attached_policies=attached,
            permissions_boundary_arn=boundary_arn,
            permissions_boundary=boundary,
        )

    def _managed(self, arn: str) -> dict[str, Any]:
        """The default version of a managed policy (GetPolicy, then GetPolicyVersion)."""
        version = self.aws.read("iam", "get_policy", PolicyArn=arn)["Policy"]["DefaultVersionId"]
        raw = self.aws.read("iam", "get_policy_version", PolicyArn=arn, VersionId=version)
        return policy_document(raw["PolicyVersion"]["Document"])

    def _inline_policies(self, role: str) -> tuple[NamedPolicy, ...]:
        names = list(
            self.aws.read_pages("iam", "list_role_policies", "PolicyNames", "Marker", "Marker", RoleName=role)
        )
        docs = list(
            self.pool.map(
                lambda n: self.aws.read("iam", "get_role_policy", RoleName=role, PolicyName=n), names
            )
        )
        return tuple(
            NamedPolicy(name=str(n), document=policy_document(d["PolicyDocument"]))
            for n, d in zip(names, docs, strict=True)
        )

    def _attached_policies(self, role: str) -> tuple[NamedPolicy, ...]:
        attached = list(
            self.aws.read_pages(
                "iam", "list_attached_role_policies", "AttachedPolicies", "Marker", "Marker", RoleName=role
            )
        )

        docs = self.pool.map(self._managed, [p["PolicyArn"] for p in attached])
        return tuple(
            NamedPolicy(name=p["PolicyName"], arn=p["PolicyArn"], document=d)
            for p, d in zip(attached, docs, strict=True)
        )

    def network(self, placement: str, subnet_ids: tuple[str, ...], group_ids: tuple[str, ...]) -> Network:
        if placement == "internet":
            return Network(placement="internet")
        subnets_raw = self.aws.read("ec2", "describe_subnets", SubnetIds=sorted(subnet_ids))["Subnets"]
        subnets = tuple(subnet_from_api(s) for s in subnets_raw)
        vpc_id = subnets[0].vpc_id
        by_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
        read = self.aws.read
        futures = {
            "vpc": self.pool.submit(read, "ec2", "describe_vpcs", VpcIds=[vpc_id]),
            "dns_support": self.pool.submit(
                read, "ec2", "describe_vpc_attribute", VpcId=vpc_id, Attribute="enableDnsSupport"
            ),
            "dns_hostnames": self.pool.submit(
                read, "ec2", "describe_vpc_attribute", VpcId=vpc_id, Attribute="enableDnsHostnames"
            ),
            "groups": self.pool.submit(read, "ec2", "describe_security_groups", Filters=by_vpc),
            "routes": self.pool.submit(read, "ec2", "describe_route_tables", Filters=by_vpc),
            "nacls": self.pool.submit(read, "ec2", "describe_network_acls", Filters=by_vpc),
            "nats": self.pool.submit(read, "ec2", "describe_nat_gateways", Filter=by_vpc),
            "endpoints": self.pool.submit(read, "ec2", "describe_vpc_endpoints", Filters=by_vpc),
        }
        r = {k: f.result() for k, f in futures.items()}
        return Network(
            placement=placement,  # type: ignore[arg-type]
            vpc=vpc_from_api(r["vpc"]["Vpcs"][0], r["dns_support"], r["dns_hostnames"]),
            subnets=subnets,
            source_security_group_ids=group_ids,
            security_groups=tuple(security_group_from_api(g) for g in r["groups"]["SecurityGroups"]),
            route_tables=tuple(route_table_from_api(t) for t in r["routes"]["RouteTables"]),
            nacls=tuple(nacl_from_api(n) for n in r["nacls"]["NetworkAcls"]),
            nat_gateways=tuple(nat_gateway_from_api(n) for n in r["nats"]["NatGateways"]),
            endpoints=tuple(vpc_endpoint_from_api(e) for e in r["endpoints"]["VpcEndpoints"]),
        )


def read_esm(aws: Aws, esm_id: str) -> dict[str, Any]:
    """The raw ESM; InputError when it does not exist in this account and region."""
    uuid = parse_esm_id(esm_id)
    try:
        return aws.read("lambda", "get_event_source_mapping", UUID=uuid)
    except AwsError as exc:
        if exc.code == "ResourceNotFoundException":
            raise InputError(f"no event source mapping {uuid} in {aws.region}") from None
        raise


def observe(
    aws: Aws,
    esm_id: str,
    *,
    max_workers: int = 8,
    raw_esm: dict[str, Any] | None = None,
    probe_timeout: float | None = None,
) -> Facts:
    """Everything the checks need about one ESM, read in as few sequential round trips as possible.

    `raw_esm` is the mapping as ListEventSourceMappings already returned it (a scan): the same
    configuration GetEventSourceMapping would return, so it is not read again. `probe_timeout`
    turns on the active TLS probe of the brokers (`diagnose --probe`), each step bounded by it.
    """
    esm = esm_from_api(raw_esm if raw_esm is not None else read_esm(aws, esm_id))
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="observe") as pool:
        obs = _Observer(aws, pool)
        local_f = (
            pool.submit(dns.resolve_all, kafka.broker_hosts(esm.bootstrap_servers))
            if esm.source_kind == "self-managed"
            else None
        )
        function_f = obs.submit(f"function {esm.function_arn}", lambda: obs.function(esm.function_arn))
        cross_account = kafka.is_vpc_connection(esm.event_source_arn)

        def read_cluster() -> Cluster | None:
            return obs.cluster(str(esm.event_source_arn))

        def read_destination() -> Destination | None:
            return obs.destination(str(esm.on_failure_destination))

        cluster_f = (
            pool.submit(obs.guarded, f"MSK cluster {esm.event_source_arn}", read_cluster)
            if esm.source_kind == "msk" and not cross_account
            else None
        )
        connection_f = (
            obs.submit(
                f"VPC connection {esm.event_source_arn}",
                lambda: obs.vpc_connection(str(esm.event_source_arn)),
            )
            if cross_account
            else None
        )
        destination_f = (
            pool.submit(obs.guarded, f"on-failure destination {esm.on_failure_destination}", read_destination)
            if esm.on_failure_destination
            else None
        )
        secret_fs = [
            obs.submit(f"secret {a.uri}", lambda a=a: obs.secret(a))  # type: ignore[misc]
            for a in esm.source_access
            if a.type in kafka.SECRET_TYPES
        ]
        function = function_f.result()
        role_f = (
            obs.submit(f"execution role {function.role_arn}", lambda: obs.role(function.role_arn))
            if function and function.role_arn
            else None
        )
        cluster = cluster_f.result() if cluster_f else None
        connection = connection_f.result() if connection_f else None
        if esm.source_kind == "msk" and connection is not None:
            # The pollers reach a cross-account cluster through the connection's interfaces in this
            # account's VPC (multi-VPC private connectivity).
            placement, subnets, groups = "cluster", connection.subnet_ids, connection.security_group_ids
        elif esm.source_kind == "msk":
            placement, subnets, groups = (
                ("cluster", cluster.subnet_ids, cluster.security_group_ids)
                if cluster
                else ("cluster", (), ())
            )
        elif esm.access(kafka.VPC_SUBNET):
            placement = "source-access"
            subnets = tuple(u.removeprefix("subnet:") for u in esm.access(kafka.VPC_SUBNET))
            groups = tuple(u.removeprefix("security_group:") for u in esm.access(kafka.VPC_SECURITY_GROUP))
        else:
            placement, subnets, groups = "internet", (), ()
        network = (
            obs.guarded(f"network of {placement}", lambda: obs.network(placement, subnets, groups))
            if placement == "internet" or subnets
            else None
        )
        names = obs.broker_names(esm, network, local_f) if local_f is not None else None
        role = role_f.result() if role_f else None
        secrets = tuple(s for s in (f.result() for f in secret_fs) if s is not None)
        destination = destination_f.result() if destination_f else None
    facts = Facts(
        region=aws.region,
        esm=esm,
        function=function,
        cluster=cluster,
        vpc_connection=connection,
        destination=destination,
        network=network,
        role=role,
        secrets=secrets,
        dns=names,
        unchecked=tuple(obs.unchecked),
    )
    if probe_timeout is None:
        return facts
    servers = kafka.bootstrap_servers(facts.esm, facts.cluster)
    ca_arn, ca_pem = obs.ca_bundles[0] if obs.ca_bundles else (None, None)
    probes = probe.probe_all(
        servers,
        tls=kafka.uses_tls(facts.esm, facts.cluster),
        ca_pem=ca_pem,
        ca_source=f"the CA bundle in secret {ca_arn}" if ca_arn else "the system trust store",
        timeout=probe_timeout,
    )
    return facts.model_copy(update={"tls_probes": probes})
