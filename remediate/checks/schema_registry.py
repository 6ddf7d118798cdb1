"""The mapping's schema registry (SchemaRegistryConfig of its Kafka event source config).

A Glue registry is read with the execution role: "If you're working with an AWS Glue schema registry, ...
ensure that your execution role has the required permissions"; a Confluent registry is reached over the
network with the secrets of AccessConfigs: "If you're working with a Confluent schema registry, choose the
authentication method in the Type field, and provide the AWS Secrets Manager secret ARN in the URI field"
(Lambda API reference, KafkaSchemaRegistryAccessConfig). Schema registries work only in provisioned mode
(Lambda developer guide, "Using schema registries with Kafka event sources in Lambda"), whose pollers run in
the event source's network: a Confluent registry outside the VPC is reached through its way out, which
`remediate.egress` models for the pollers' subnets.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from remediate import egress, kafka, required_access
from remediate.checks.base import check
from remediate.checks.iam import undecided
from remediate.evidence import SchemaRegistryDenied, SchemaRegistryUnreachable
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.required_access import Need


def _requests(items: list[Need]) -> tuple[dict[str, Any], ...]:
    return tuple({**n.primary.to_json(), "why": n.why} for n in items)


@check("schema_registry_access", "SCHEMA_REGISTRY_DENIED", "COULD_NOT_CHECK")
def schema_registry_access(facts: Facts) -> list[Finding]:
    """The execution role must be allowed to read the Glue registry and its schema versions."""
    role = facts.role
    needs = required_access.schema_registry_needs(facts)
    if role is None or not needs:
        return []
    decided = [(n, required_access.decide_role(facts, n)) for n in needs]
    missing = [n for n, d in decided if d in ("implicit", "boundary")]
    denied = [n for n, d in decided if d == "deny"]
    found = undecided(facts, f"the policies of role {role.name}", [n for n, d in decided if d == "unknown"])
    if missing or denied:
        actions = ", ".join(sorted({n.primary.action for n in (*missing, *denied)}))
        found.append(
            Finding(
                code="SCHEMA_REGISTRY_DENIED",
                summary=f"role {role.name} may not {actions} on the Glue schema registry "
                f"{facts.esm.schema_registry_uri}",
                evidence=SchemaRegistryDenied(
                    registry=str(facts.esm.schema_registry_uri),
                    role=role.arn,
                    missing=_requests(missing),
                    explicitly_denied=_requests(denied),
                ),
            )
        )
    return found


@check("schema_registry_reachable", "SCHEMA_REGISTRY_UNREACHABLE")
def schema_registry_reachable(facts: Facts) -> list[Finding]:
    """The registry exists (Glue), and a Confluent registry's secrets exist, its name resolves and the
    pollers have a way out of their subnets to reach it."""
    registry = facts.schema_registry
    if registry is None:
        return []

    def finding(cause: Any, detail: str) -> list[Finding]:
        return [
            Finding(
                code="SCHEMA_REGISTRY_UNREACHABLE",
                summary=f"schema registry {registry.uri}: {detail}",
                evidence=SchemaRegistryUnreachable(
                    kind=registry.kind, registry=registry.uri, cause=cause, detail=detail
                ),
            )
        ]

    if registry.kind == "glue":
        return (
            finding("not-found", "no such Glue registry in this account") if registry.exists is False else []
        )
    access = {a.uri for a in facts.esm.schema_registry_access}
    missing = [s.arn for s in facts.secrets if s.arn in access and not s.exists]
    if missing:
        return finding("secret-missing", f"its access secret {', '.join(missing)} does not exist")
    resolution = registry.resolution
    zones = facts.network.zones if facts.network else None
    private = any(registry.host and registry.host.endswith("." + z.name.rstrip(".")) for z in zones or ())
    if resolution is not None and not resolution.resolved and not private:
        return finding(
            "unresolvable",
            f"{registry.host} does not resolve ({resolution.error or 'no address'}) from this machine, and "
            "no private hosted zone of the pollers' VPC covers it",
        )
    net = facts.network
    if net is None or net.placement == "internet" or private or kafka.is_ip(registry.host or ""):
        return []
    if resolution is not None and resolution.addresses and all(_private(a) for a in resolution.addresses):
        return []  # inside some private network: its path is not the pollers' way out
    closed = [s.id for s in net.subnets if egress.egress_of(net, s.id).kind == "none"]
    if closed and len(closed) == len(net.subnets):
        return finding(
            "no-egress",
            f"the pollers' subnets ({', '.join(closed)}) have no way out to {registry.host}: "
            + egress.egress_of(net, closed[0]).detail,
        )
    return []


def _private(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_private
    except ValueError:
        return False
