"""What `remediate probe` asks its short-lived function to measure, and where the function stands (issue 22).

Pure: from `Facts` to a `ProbeRequest` (the function's event, its placement and its role). Nothing is read
here; the secrets are named by ARN and read by the function itself, so their values never pass through
this process.

Placement is where the pollers connect from, the same place `Network` already describes (observe/reads.py):
- MSK: "Lambda creates a hyperplane ENI in the private subnet that contains your MSK cluster ... [it] uses
  the subnet and security group configuration of your MSK cluster, not your Lambda function" (Lambda
  developer guide, "Creating a Lambda event source mapping for an Amazon MSK event source",
  https://docs.aws.amazon.com/lambda/latest/dg/msk-esm-create.html).
- Self-managed Kafka: the VPC_SUBNET and VPC_SECURITY_GROUP source access configurations ("VPC information
  or authentication credentials", Lambda developer guide, "All self-managed Apache Kafka event source
  configuration parameters in Lambda", https://docs.aws.amazon.com/lambda/latest/dg/kafka-esm-parameters.html);
  without them the pollers reach the brokers over the internet, and so does a function without VpcConfig.
- Provisioned mode (issue 22): the same place. The brokers are polled the same way in both modes (the
  network pages make only the calls to AWS services depend on the mode), so the probe stands in the
  same subnets and security groups. What differs: "AWS PrivateLink VPC endpoints are required for
  functions with event source mappings that use the default (on-demand) mode for event pollers. If
  your event source mapping uses provisioned mode, you don't need to configure AWS PrivateLink VPC
  endpoints" (Lambda developer guide, "Configuring your self-managed Apache Kafka cluster and network
  for Lambda", https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-cluster-network.html; the MSK
  page, with-msk-cluster-network.html, alike; `poller_paths.reaches_services_from_vpc`). Provisioned
  pollers in a VPC do not read the secrets from there; the probe does, so its reading of them is not
  the pollers' path (`ProbeRequest.secrets_read_like_pollers`), and a failed read there says nothing
  about the mapping.
The role is the function's execution role, which the pollers use for the cluster's network interfaces,
its secrets and IAM authentication. The consumer group is `Esm.group_id` (the configured one, else the
mapping's UUID). How Lambda speaks to the brokers per authentication mode is `remediate.kafka`'s.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from remediate import kafka, poller_paths
from remediate.facts import Facts

HANDLER = "remediate_probe.handler.handler"
"""The function's handler inside the zip (remediate/probe_package.py lays the module out there)."""
DEADLINE_S = 20.0
"""The probe's own deadline: its steps stop by then and it returns what it measured."""
FUNCTION_TIMEOUT_S = 25
"""The function's Timeout: above the deadline (reading the secrets, returning partial results) and, with
Lambda's init phase, under the 30 s read timeout of the tool's clients (remediate/aws.py), so Invoke
answers before the client gives up. Lambda allows 1 to 900 seconds (Lambda API reference, CreateFunction)."""

Protocol = Literal["PLAINTEXT", "SSL", "SASL_SSL"]


class ProbeRequest(BaseModel):
    """The probe function's event and where it runs. Holds secret ARNs, never secret values."""

    model_config = ConfigDict(frozen=True)

    event: dict[str, Any]
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    role_arn: str
    pollers_mode: Literal["on-demand", "provisioned"] = "on-demand"  # issue 22
    secrets_read_like_pollers: bool = True
    """Whether the pollers read the mapping's secrets from where the probe stands (not in provisioned
    mode in a VPC: they call Secrets Manager outside it)."""


class NotProbeable(ValueError):
    """The facts lack what a probe needs (no function or role read, no brokers): said in plain words."""


_MSK_MECHANISM: dict[kafka.AuthMode, tuple[Protocol, str | None]] = {
    "mtls": ("SSL", None),
    "scram": ("SASL_SSL", "SCRAM-SHA-512"),
    "iam": ("SASL_SSL", "AWS_MSK_IAM"),
    "tls": ("SSL", None),
    "plaintext": ("PLAINTEXT", None),
}
"""MSK's SASL/SCRAM is SCRAM-SHA-512 only (MSK developer guide, "Sign-in credentials authentication with
AWS Secrets Manager"); IAM is MSK's AWS_MSK_IAM SASL mechanism; mTLS and unauthenticated TLS are SSL."""

_SELF_MANAGED_MECHANISM = {
    kafka.SASL_SCRAM_512_AUTH: "SCRAM-SHA-512",
    kafka.SASL_SCRAM_256_AUTH: "SCRAM-SHA-256",
    kafka.BASIC_AUTH: "PLAIN",
}


def _auth(facts: Facts) -> tuple[Protocol, dict[str, Any]]:
    esm = facts.esm
    types = kafka.access_types(esm)
    ca = esm.access(kafka.SERVER_ROOT_CA_CERTIFICATE)
    auth: dict[str, Any] = {"ca_secret_arn": ca[0] if ca else None}
    if esm.source_kind == "msk":
        mode = kafka.msk_auth_mode(esm, facts.cluster)
        if mode is None:
            raise NotProbeable("the cluster was not read, so how Lambda authenticates to it is unknown")
        protocol, mechanism = _MSK_MECHANISM[mode]
        auth.update(kind=mode, mechanism=mechanism)
    elif kafka.CLIENT_CERTIFICATE_TLS_AUTH in types:
        protocol = "SSL"
        auth.update(kind="mtls", mechanism=None)
    elif types & kafka.CREDENTIAL_TYPES:
        [kind] = sorted(types & kafka.CREDENTIAL_TYPES)[:1]
        protocol = "SASL_SSL"
        auth.update(
            kind="scram" if kind in kafka.SCRAM_TYPES else "plain", mechanism=_SELF_MANAGED_MECHANISM[kind]
        )
    else:
        protocol = "SSL" if kafka.uses_tls(esm, facts.cluster) else "PLAINTEXT"
        auth.update(kind="tls" if protocol == "SSL" else "plaintext", mechanism=None)
    if auth["kind"] == "mtls":
        auth["secret_arn"] = esm.access(kafka.CLIENT_CERTIFICATE_TLS_AUTH)[0]
    elif auth["kind"] in ("scram", "plain"):
        auth["secret_arn"] = next(a.uri for a in esm.source_access if a.type in kafka.CREDENTIAL_TYPES)
    return protocol, auth


def probe_request(facts: Facts) -> ProbeRequest:
    """The probe for this mapping: its brokers, authentication, topics and group, placed like its pollers."""
    if facts.function is None:
        raise NotProbeable("the mapping's function was not read, so its execution role is unknown")
    if facts.network is None:
        raise NotProbeable("where the mapping's pollers run was not read")
    servers = kafka.bootstrap_servers(facts.esm, facts.cluster)
    if not servers:
        raise NotProbeable("the mapping has no bootstrap brokers to probe")
    protocol, auth = _auth(facts)
    network = facts.network
    vpc = network.placement != "internet"
    return ProbeRequest(
        event={
            "bootstrap": list(servers),
            "security_protocol": protocol,
            "auth": auth,
            "topics": list(facts.esm.topics),
            "group": facts.esm.group_id,
            "deadline_s": DEADLINE_S,
        },
        subnet_ids=tuple(s.id for s in network.subnets) if vpc else (),
        security_group_ids=network.source_security_group_ids if vpc else (),
        role_arn=facts.function.role_arn,
        pollers_mode="provisioned" if facts.esm.provisioned_pollers else "on-demand",
        secrets_read_like_pollers=not vpc or poller_paths.reaches_services_from_vpc(facts),
    )
