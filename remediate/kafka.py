"""Facts about Kafka event sources that observe, checks, actions and the probe all rely on.

One home for each: the source-access configuration types, which broker string and port Lambda uses
for each authentication mode, and how bootstrap servers are parsed. Pure: no AWS calls, no I/O.

Sources (the rule each constant encodes names its page):
- Lambda API reference, `SourceAccessConfiguration`:
  https://docs.aws.amazon.com/lambda/latest/api/API_SourceAccessConfiguration.html
- Lambda developer guide, "Configuring Amazon MSK cluster authentication methods in Lambda", section
  "How Lambda chooses a bootstrap broker": https://docs.aws.amazon.com/lambda/latest/dg/msk-cluster-auth.html
- MSK developer guide, "Port information": https://docs.aws.amazon.com/msk/latest/developerguide/port-info.html
- MSK developer guide, "Understand MSK Provisioned cluster states":
  https://docs.aws.amazon.com/msk/latest/developerguide/msk-cluster-states.html
- Lambda developer guide, "Creating cross-account event source mappings in Lambda":
  https://docs.aws.amazon.com/lambda/latest/dg/msk-cross-account.html
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Final, Literal

from remediate.facts import Cluster, Esm, VpcConnection

# --- source access configuration types (API_SourceAccessConfiguration) ----------------------------
BASIC_AUTH: Final = "BASIC_AUTH"
SASL_SCRAM_256_AUTH: Final = "SASL_SCRAM_256_AUTH"
SASL_SCRAM_512_AUTH: Final = "SASL_SCRAM_512_AUTH"
CLIENT_CERTIFICATE_TLS_AUTH: Final = "CLIENT_CERTIFICATE_TLS_AUTH"
SERVER_ROOT_CA_CERTIFICATE: Final = "SERVER_ROOT_CA_CERTIFICATE"
VPC_SUBNET: Final = "VPC_SUBNET"
VPC_SECURITY_GROUP: Final = "VPC_SECURITY_GROUP"

SCRAM_TYPES: Final = frozenset({SASL_SCRAM_256_AUTH, SASL_SCRAM_512_AUTH})
CREDENTIAL_TYPES: Final = frozenset({BASIC_AUTH, *SCRAM_TYPES})
"""Secrets holding a username and password."""
SECRET_TYPES: Final = frozenset({*CREDENTIAL_TYPES, CLIENT_CERTIFICATE_TLS_AUTH, SERVER_ROOT_CA_CERTIFICATE})
"""Types whose URI is a Secrets Manager secret."""
NETWORK_TYPES: Final = frozenset({VPC_SUBNET, VPC_SECURITY_GROUP})
"""Types that place a self-managed source's pollers in a VPC (URIs `subnet:ID`, `security_group:ID`)."""
TLS_TYPES: Final = frozenset({CLIENT_CERTIFICATE_TLS_AUTH, SERVER_ROOT_CA_CERTIFICATE, *CREDENTIAL_TYPES})
"""Self-managed Kafka: Lambda speaks SSL with a client certificate or a root CA, and SASL_SSL with SCRAM
or PLAIN credentials; without any of these it speaks PLAINTEXT."""

# --- MSK: which listener Lambda connects to ---------------------------------------------------------
AuthMode = Literal["mtls", "scram", "iam", "tls", "plaintext"]
"""How Lambda authenticates to an MSK cluster: mTLS, SASL/SCRAM, SASL/IAM, unauthenticated TLS, plaintext."""

BROKER_STRING: Final[dict[AuthMode, str]] = {
    "mtls": "BootstrapBrokerStringTls",
    "scram": "BootstrapBrokerStringSaslScram",
    "iam": "BootstrapBrokerStringSaslIam",
    "tls": "BootstrapBrokerStringTls",
    "plaintext": "BootstrapBrokerString",
}
"""The GetBootstrapBrokers field holding the brokers of each mode's listener."""

PORT: Final[dict[AuthMode, int]] = {"mtls": 9094, "scram": 9096, "iam": 9098, "tls": 9094, "plaintext": 9092}
"""Broker ports for access from within AWS (MSK "Port information"; public access uses 9194/9196/9198)."""

PORT_IPV6: Final[dict[AuthMode, int]] = {
    "mtls": 20094,
    "scram": 20096,
    "iam": 20098,
    "tls": 20094,
    "plaintext": 20092,
}
"""Broker ports for clients that connect over IPv6 (MSK "Port information": 20092 plaintext, 20094 TLS,
20096 SASL/SCRAM, 20098 IAM). Only a cluster of network type DUAL has IPv6 listeners: "Amazon MSK
provides IPv6 support through dual-stack network type, not as IPv6-only", and "By default, clients
connect to Amazon MSK clusters using the IPv4 network type" (MSK developer guide, "Configure
dual-stack network type"); its IPv6 brokers are in the `...Ipv6` fields of GetBootstrapBrokers."""

BROKER_STRING_IPV6: Final[dict[AuthMode, str]] = {
    "mtls": "BootstrapBrokerStringTlsIpv6",
    "scram": "BootstrapBrokerStringSaslScramIpv6",
    "iam": "BootstrapBrokerStringSaslIamIpv6",
    "tls": "BootstrapBrokerStringTlsIpv6",
    "plaintext": "BootstrapBrokerStringIpv6",
}
"""The GetBootstrapBrokers field holding the IPv6 brokers of each mode's listener (MSK API reference)."""

TLS_ENCRYPTIONS: Final = frozenset({"TLS", "TLS_PLAINTEXT"})

# --- MSK: cluster and VPC connection states -----------------------------------------------------------
CLUSTER_ACTIVE: Final = "ACTIVE"
CLUSTER_STATES: Final = frozenset(
    {"ACTIVE", "CREATING", "DELETING", "FAILED", "HEALING", "MAINTENANCE", "REBOOTING_BROKER", "UPDATING"}
)
"""ClusterInfo.State (MSK API reference, DescribeClusterV2: "The possible states are ACTIVE, CREATING,
DELETING, FAILED, HEALING, MAINTENANCE, REBOOTING_BROKER, and UPDATING"). What each allows is in
CLUSTER_SERVING_STATES (clients) and `updates_refused` (MSK update operations)."""
# issue 24 (N7): MSK DG, "Understand MSK Provisioned cluster states"
# (https://docs.aws.amazon.com/msk/latest/developerguide/msk-cluster-states.html): in HEALING, MAINTENANCE,
# REBOOTING_BROKER and UPDATING "You can still use the Provisioned cluster to produce and consume data", but
# cannot "perform Amazon MSK API or AWS CLI update operations on the cluster until it returns to the ACTIVE
# state"; in CREATING you "must wait for the cluster to reach the ACTIVE state before you can use it to
# produce or consume data"; in DELETING and FAILED you "cannot use the cluster to produce or consume data".
CLUSTER_SERVING_STATES: Final = frozenset(
    {"ACTIVE", "HEALING", "MAINTENANCE", "REBOOTING_BROKER", "UPDATING"}
)
"""The states in which clients (the trigger's pollers among them) can still produce and consume."""
VPC_CONNECTION_AVAILABLE: Final = "AVAILABLE"
"""VpcConnectionState: AVAILABLE, CREATING, DEACTIVATING, DELETING, FAILED, INACTIVE, REJECTED, REJECTING
(MSK API model, VpcConnectionState); only an AVAILABLE connection carries traffic."""
"""ClientBroker encryption settings that open a TLS listener (MSK API `EncryptionInTransit`)."""


def access_types(esm: Esm) -> frozenset[str]:
    return frozenset(a.type for a in esm.source_access)


def msk_auth_mode(esm: Esm, cluster: Cluster | None) -> AuthMode | None:
    """The listener Lambda uses, in the documented order, strongest first.

    "How Lambda chooses a bootstrap broker": a secret for mTLS or SASL/SCRAM selects that method; with
    no secret, SASL/IAM if IAM auth is active, else unauthenticated TLS if active, else plaintext. Lambda
    never falls back to a weaker listener, and never uses SCRAM without a secret. None when the cluster
    was not read and no secret decides it, or when the cluster offers nothing a mapping without a secret
    can use (SCRAM or mTLS only: `checks/listeners.py` reports the missing secret).
    """
    types = access_types(esm)
    if CLIENT_CERTIFICATE_TLS_AUTH in types:
        return "mtls"
    if types & SCRAM_TYPES:
        return "scram"
    if cluster is None:
        return None
    if cluster.auth.iam:
        return "iam"
    # An unset ClientBroker is MSK's default, which opens a TLS listener either way: the MSK API model
    # says TLS_PLAINTEXT, the developer guide TLS (MSK API reference, EncryptionInTransit).
    if cluster.auth.unauthenticated and (cluster.client_broker_encryption or "TLS") in TLS_ENCRYPTIONS:
        return "tls"
    # issue 21: with ClientBroker TLS ("client-broker communication is enabled with TLS only", MSK API
    # reference, EncryptionInTransit) there is no plaintext listener, so a cluster that offers only
    # SASL/SCRAM or mTLS has nothing a secret-less mapping can use ("store the authentication credentials
    # ... in a Secrets Manager secret, and reference this secret when configuring your event source
    # mapping", Lambda DG, "Configuring Amazon MSK cluster authentication methods in Lambda"): None,
    # never 9092.
    if cluster.client_broker_encryption == "TLS":
        return None
    return "plaintext"


def split_server(server: str) -> tuple[str, int | None]:
    """("host", port) of a bootstrap server "host:port" (or "[v6]:port"; the port may be absent)."""
    value = server.strip()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest.removeprefix(":")
        return host, int(port) if port.isdigit() else None
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or ":" in host:
        return value, None
    return host, int(port)


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def broker_hosts(servers: Iterable[str]) -> tuple[str, ...]:
    """The distinct host names (not IP literals) of bootstrap servers, normalised to lowercase."""
    hosts = (split_server(s)[0].rstrip(".").lower() for s in servers)
    return tuple(dict.fromkeys(h for h in hosts if h and not is_ip(h)))


def bootstrap_servers(esm: Esm, cluster: Cluster | None) -> tuple[str, ...]:
    """The servers Lambda connects to: the MSK listener of its auth mode, or the self-managed list."""
    if esm.source_kind != "msk":
        return esm.bootstrap_servers
    mode = msk_auth_mode(esm, cluster)
    brokers = cluster.bootstrap_brokers.get(BROKER_STRING[mode], "") if cluster and mode else ""
    return tuple(s for s in brokers.split(",") if s)


def broker_ports(esm: Esm, cluster: Cluster | None) -> tuple[int, ...]:
    """The broker port(s) the pollers connect to: the mode's MSK port, or the self-managed servers' ports.

    None known for a cross-account source (issue 24, N3): its pollers reach the owner's brokers through the
    managed VPC connection, on the ports of the owner's GetBootstrapBrokers `BootstrapBrokerStringVpc
    Connectivity*` strings ("DNS names ... and port pairs for VPC connectivity", MSK API reference), not on
    the cluster's 9094/9096/9098. The MSK multi-VPC pages that would give those ports (14001-14100 in public
    examples) could not be re-read, and the consumer cannot read the owner's cluster, so no port is guessed:
    `checks/esm.broker_timeout` says what was not checked instead."""
    if is_vpc_connection(esm.event_source_arn):
        return ()
    if esm.source_kind != "msk":
        return tuple(sorted({p for _, p in map(split_server, esm.bootstrap_servers) if p is not None}))
    mode = msk_auth_mode(esm, cluster)
    return (PORT[mode],) if mode else ()


def ipv6_port(esm: Esm, cluster: Cluster | None) -> int | None:
    """The IPv6 listener's port of the mode Lambda uses, when the cluster is dual-stack (else None).

    Not a port the pollers are known to use: Lambda's documented brokers are the mode's bootstrap
    string ("How Lambda chooses a bootstrap broker"), and dual-stack clusters keep their IPv4
    listeners, so the checks test `broker_ports` and only name this one.
    """
    if esm.source_kind != "msk" or cluster is None or cluster.network_type != "DUAL":
        return None
    mode = msk_auth_mode(esm, cluster)
    return PORT_IPV6[mode] if mode else None


def uses_tls(esm: Esm, cluster: Cluster | None) -> bool:
    """Whether Lambda speaks TLS to the brokers (every MSK listener but plaintext is TLS)."""
    if esm.source_kind == "msk":
        return msk_auth_mode(esm, cluster) not in (None, "plaintext")
    return bool(access_types(esm) & TLS_TYPES)


def msk_resource_arns(cluster_arn: str) -> tuple[str, str, str]:
    """The cluster, topic-prefix and group-prefix ARNs MSK IAM access control authorizes against.

    Topic and group ARNs are `arn:aws:kafka:REGION:ACCOUNT:topic/CLUSTER_NAME/CLUSTER_UUID/NAME` (MSK
    developer guide, "IAM access control", resources): they live in the cluster's account, so for a
    cross-account source they are built from the VPC connection's target cluster, never from the
    connection's own ARN (ValueError for anything but a cluster ARN).
    """
    prefix, sep, resource = cluster_arn.partition(":cluster/")
    if not sep:
        raise ValueError(f"{cluster_arn} is not an MSK cluster ARN")
    return cluster_arn, f"{prefix}:topic/{resource}", f"{prefix}:group/{resource}"


# --- cross-account sources: MSK multi-VPC connectivity ---------------------------------------------------


def source_not_ready(cluster: Cluster | None, connection: VpcConnection | None) -> str | None:
    """Why the event source cannot serve the trigger right now (a cluster in a state where clients cannot
    produce or consume: CREATING, DELETING, FAILED; a VPC connection not AVAILABLE), for the plan to wait
    instead of changing the trigger; None when it can (or is unread). A cluster in HEALING, MAINTENANCE,
    REBOOTING_BROKER or UPDATING still serves clients (CLUSTER_SERVING_STATES): Lambda-side changes go on."""
    if cluster is not None and cluster.state not in CLUSTER_SERVING_STATES:
        return f"MSK cluster {cluster.arn} is {cluster.state}, not {CLUSTER_ACTIVE}: clients cannot connect"
    if connection is not None and connection.state != VPC_CONNECTION_AVAILABLE:
        return f"VPC connection {connection.arn} is {connection.state}, not {VPC_CONNECTION_AVAILABLE}"
    return None


def updates_refused(cluster: Cluster | None) -> str | None:
    """Why MSK refuses an update operation on the cluster now (issue 24, N7): any state but ACTIVE ("you
    can't perform Amazon MSK API or AWS CLI update operations on the cluster until it returns to the ACTIVE
    state"); None when it accepts them (or the cluster is unread)."""
    if cluster is not None and cluster.state != CLUSTER_ACTIVE:
        return (
            f"MSK cluster {cluster.arn} is {cluster.state}, not {CLUSTER_ACTIVE}: "
            "MSK refuses update operations until it is"
        )
    return None


def is_vpc_connection(arn: str | None) -> bool:
    """Whether an EventSourceArn names a managed VPC connection (a cross-account cluster): "use the managed
    VPC connection ARN instead of the cluster ARN", e.g.
    `arn:aws:kafka:us-east-1:111122223333:vpc-connection/444455556666/my-cluster-name/UUID` (Lambda
    developer guide, "Creating cross-account event source mappings in Lambda")."""
    parts = (arn or "").split(":", 5)
    return len(parts) == 6 and parts[2] == "kafka" and parts[5].startswith("vpc-connection/")


def vpc_connection_owner(arn: str) -> str | None:
    """The cluster owner's account in a VPC connection ARN (`vpc-connection/OWNER/CLUSTER/UUID`)."""
    parts = arn.split(":", 5)[-1].split("/")
    return parts[1] if len(parts) > 1 and parts[1].isdigit() else None


def source_cluster_arn(esm: Esm, connection: VpcConnection | None) -> str | None:
    """The ARN of the MSK cluster the mapping reads: its EventSourceArn, or for a cross-account source the
    VPC connection's target cluster (None while that was not read)."""
    if esm.source_kind != "msk":
        return None
    if is_vpc_connection(esm.event_source_arn):
        return connection.target_cluster_arn if connection else None
    return esm.event_source_arn


CONNECTION_AUTH: Final[dict[str, AuthMode]] = {"SASL_IAM": "iam", "SASL_SCRAM": "scram", "TLS": "mtls"}
"""A VPC connection's Authentication (SASL_IAM | SASL_SCRAM | TLS: CloudFormation AWS::MSK::VpcConnection)
as the listener it connects to."""


def cross_account_auth_mode(esm: Esm, connection: VpcConnection | None) -> AuthMode | None:
    """The listener of a cross-account mapping: a secret decides as for any MSK source ("How Lambda chooses
    a bootstrap broker"); without one, only the connection's IAM authentication needs none ("When the
    cluster uses IAM role-based authentication, you don't need a SourceAccessConfiguration object")."""
    mode = msk_auth_mode(esm, None)
    if mode is not None or connection is None:
        return mode
    from_connection = CONNECTION_AUTH.get(connection.authentication or "")
    return "iam" if from_connection == "iam" else None


# --- on-failure destinations that are Kafka topics, and schema registries -----------------------------

KAFKA_DESTINATION_PREFIX: Final = "kafka://"
"""A Kafka topic as the on-failure destination: `kafka://TOPIC`, on the source's own cluster ("Use the
kafka:// prefix to specify a Kafka topic as an on-failure destination"; "The destination topic must exist
in the same Kafka cluster as your source topics", Lambda developer guide, "Using a Kafka topic as an
on-failure destination", https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html).
It is not an ARN: it names no service, Region or account."""


def kafka_destination_topic(destination: str | None) -> str | None:
    """The topic of a `kafka://TOPIC` on-failure destination; None for an ARN or nothing."""
    if not destination or not destination.startswith(KAFKA_DESTINATION_PREFIX):
        return None
    return destination[len(KAFKA_DESTINATION_PREFIX) :] or None


def is_glue_registry(uri: str | None) -> bool:
    """A SchemaRegistryURI that is an AWS Glue registry ARN (`arn:aws:glue:REGION:ACCOUNT:registry/NAME`);
    anything else is a Confluent registry's URL (Lambda API reference, KafkaSchemaRegistryConfig)."""
    parts = (uri or "").split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and parts[2] == "glue" and parts[5].startswith("registry/")
