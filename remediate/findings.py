"""Findings and their codes.

The codes are part of the user-facing contract (docs/contract.md): scripts and runbooks branch on them,
so they are declared once here and a playbook naming any other code fails validation.
"""

from __future__ import annotations

from typing import Any

from pydantic import SerializeAsAny, field_validator, model_validator

from remediate.evidence import EVIDENCE, Evidence, parse
from remediate.facts import Model

CODES: dict[str, str] = {
    "BROKER_TIMEOUT": "connection errors while the brokers show measured trouble (disk, CPU, partitions...)",
    "BROKER_PORTS_BLOCKED": "security groups or NACLs block the broker port or 443",
    "SERVICE_ENDPOINTS_UNREACHABLE": "no NAT gateway and missing VPC endpoints for required services",
    "VPC_DNS_DISABLED": "VPC DNS support or hostnames off where private-DNS endpoints need them",
    "EXECUTION_ROLE_NOT_ASSUMABLE": "Lambda cannot assume the execution role",
    "ENDPOINT_POLICY_DENIES_INVOKE": "a Lambda VPC endpoint policy blocks lambda:InvokeFunction",
    "ENDPOINT_POLICY_DENIES_SECRET": "a Secrets Manager endpoint policy blocks GetSecretValue",
    "ENDPOINT_POLICY_DENIES_DESTINATION": "the on-failure destination's endpoint policy blocks delivery",
    "EXECUTION_ROLE_MISSING_PERMISSIONS": "the execution role lacks permissions the ESM needs",
    "SECRET_NOT_PEM": "a certificate or key secret is not valid PEM or does not match",
    "PRIVATE_KEY_PBES2": "the encrypted private key uses PBES2; Lambda needs PBES1",
    "SASL_AUTH_FAILED": "SASL/SCRAM or IAM authentication cannot succeed",
    "BROKER_DNS_UNRESOLVABLE": "bootstrap broker names do not resolve where the ESM runs",
    "SERVER_AUTH_FAILED": "the broker's TLS certificate does not match its name or the root CA",
    "CLUSTER_AUTHZ_FAILED": "the cluster does not authorize the consumer",
    "ESM_DISABLED": "the mapping is disabled and nothing else blocks it",
    "CLUSTER_NOT_ACTIVE": "the MSK cluster is not ACTIVE (or the cross-account VPC connection not AVAILABLE)",
    "COULD_NOT_CHECK": "a read was denied, so some checks could not run",
    "BROKER_STORAGE_FULL": "a broker's data-log disk is at or over 85% (KafkaDataLogsDiskUsed)",
    "BROKER_CPU_SATURATED": "a broker's CPU (user + system) is at or over 60%",
    "BROKER_CONNECTIONS_EXHAUSTED": "a broker's connections are near the IAM access control quota",
    "FUNCTION_CANNOT_RUN": "the function cannot be invoked: its state, a failed update, or reserved "
    "concurrency 0",
    "FUNCTION_THROTTLED": "the function was throttled in the metrics window",
    "FUNCTION_FAILING": "most of the function's invocations in the metrics window returned an error",
    # issue 15
    "CONSUMER_GROUP_SHARED": "another mapping on the same source and topic joins the same consumer group",
    "KMS_KEY_DENIES": "a customer managed key's policy keeps the execution role from a secret or destination",
    "SCHEMA_REGISTRY_DENIED": "the execution role may not read the Glue schema registry",
    "SCHEMA_REGISTRY_UNREACHABLE": "the schema registry is missing or out of the pollers' reach",
    # issue 25
    "RETRIES_UNBOUNDED": "the function fails and the mapping retries failed batches forever (a poison record "
    "blocks its partition)",
    "FUNCTION_TIMEOUT_RISK": "the function's timeout is over Kafka's 14-minute limit or close to its longest "
    "observed run",
    "FILTERS_DROP_RECORDS": "the mapping's filters match no Kafka record, or dropped every record polled",
    "SECRET_SCHEDULED_FOR_DELETION": "a secret the mapping authenticates with is scheduled for deletion",
    "OFFSET_LAG_GROWING": "OffsetLag kept growing since the mapping's last change: the pollers fall behind",
    # issue 21
    "CONNECTION_UNEXPLAINED": "connection error not explained by the configuration, and no broker trouble "
    "measured",
    "ESM_SECRET_MISSING": "the MSK cluster offers only SASL/SCRAM or mTLS and the mapping names no secret",
    "TOPIC_NOT_FOUND": "the mapping's topic does not exist on the MSK cluster",
    "TOPIC_REPLICATION_FACTOR_ONE": "the mapping's topic has one replica: consumers stall while MSK "
    "patches its broker",
    "STRAY_MAPPING": "the mapping's MSK cluster or its function no longer exists, or it has been disabled "
    "longer than stray_disabled_days: a stray mapping",
    # issue 22
    "CLIENT_CERT_REJECTED": "the brokers reject the mapping's mTLS client certificate (measured by a probe)",
    # issue 24
    "CLIENT_CERTIFICATE_UNTRUSTED": "the mapping's mTLS client certificate does not chain to any private CA "
    "the MSK cluster trusts",
    "SECRET_ACCESS_BLOCKED": "the secret's resource policy or AWS managed key keeps the execution role from "
    "reading it (a Deny, or another account's secret without an Allow or a customer managed key)",
    # issue 25, item 8 (only when monitoring is asked for)
    "CONSUMER_GROUP_RESET": "the mapping started a new consumer group while a deleted mapping's group is "
    "still on its topic: records were skipped (LATEST) or read again (TRIM_HORIZON)",
    "MONITORING_MISSING": "no alarm on the function's OffsetLag or Errors, or the mapping publishes no "
    "metrics",
}


assert EVIDENCE.keys() == CODES.keys(), "every finding code has its evidence type"


class Finding(Model):
    code: str
    summary: str
    evidence: SerializeAsAny[Evidence]
    """The code's own evidence model (`remediate.evidence`); a plain object in JSON."""
    playbook: str = ""

    @field_validator("code")
    @classmethod
    def _known(cls, code: str) -> str:
        if code not in CODES:
            raise ValueError(f"unknown finding code {code!r}")
        return code

    @model_validator(mode="before")
    @classmethod
    def _typed(cls, data: Any) -> Any:
        """Read the evidence as the model of its code, whether given as a model or as JSON."""
        if isinstance(data, dict) and data.get("code") in EVIDENCE:
            return {**data, "evidence": parse(data["code"], data.get("evidence", {}))}
        return data

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
