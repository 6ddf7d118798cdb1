"""Checks on the execution role: its trust, its permissions, and how the cluster authenticates it.

Every check evaluates the documents observation read with `remediate.policy` against the needs in
`remediate.needs`; a need whose answer depends on a condition the evaluator cannot decide becomes a
COULD_NOT_CHECK finding instead of a guess. Kafka ACLs cannot be read through AWS APIs, so the ACL
case of CLUSTER_AUTHZ_FAILED is reported only when AWS's own error text points at authorization.
"""

from __future__ import annotations

from typing import Any, Literal

from remediate import kafka, required_access
from remediate.checks.base import check
from remediate.error_text import hints_for
from remediate.evidence import (
    ClusterAuthzAcl,
    ClusterAuthzIam,
    CouldNotCheck,
    RoleMissingPermissions,
    RoleNotAssumable,
    SaslIam,
    SaslScram,
)
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.policy import evaluate, statements
from remediate.required_access import Need

_AUTHZ_HINTS = frozenset({"cluster-authz", "authorization"})


def undecided(facts: Facts, what: str, items: list[Need]) -> list[Finding]:
    """One COULD_NOT_CHECK finding per need the evaluator cannot decide (shared with endpoint checks)."""
    return [
        Finding(
            code="COULD_NOT_CHECK",
            summary=(
                f"could not decide whether {what} allows {n.primary.action} on {n.primary.resource}: "
                "a condition depends on request context remediate cannot know"
            ),
            evidence=CouldNotCheck(what=what, request=n.primary.to_json()),
        )
        for n in items
    ]


def _missing(facts: Facts, items: list[Need]) -> tuple[list[Need], list[Need], list[Need]]:
    """(implicitly missing, explicitly denied, undecidable) needs of the execution role."""
    docs = required_access.role_documents(facts)
    out: dict[str, list[Need]] = {"implicit": [], "deny": [], "unknown": []}
    for n in items:
        decision = required_access.decide(docs, n)
        if decision != "allow":
            out[decision].append(n)
    return out["implicit"], out["deny"], out["unknown"]


def _requests(items: list[Need]) -> tuple[dict[str, Any], ...]:
    return tuple({**n.primary.to_json(), "why": n.why} for n in items)


@check("role_trust", "EXECUTION_ROLE_NOT_ASSUMABLE", "COULD_NOT_CHECK")
def role_trust(facts: Facts) -> list[Finding]:
    """Lambda must be able to assume the role: trust, no source identity, the STS endpoint policy."""
    need = required_access.trust_need(facts)
    if need is None or facts.role is None:
        return []
    found: list[Finding] = []
    trust = facts.role.trust_policy
    decision = required_access.decide([trust], need)
    blocked_endpoints = []
    undecided_endpoints = []
    for endpoint in required_access.routed_endpoints(facts):
        if required_access.endpoint_service(endpoint) != "sts":
            continue
        for n in required_access.endpoint_needs(facts, endpoint):
            d = required_access.decide([required_access.endpoint_document(endpoint)], n)
            if d in ("deny", "implicit"):
                blocked_endpoints.append(endpoint.id)
            elif d == "unknown":
                undecided_endpoints.append(n)
    if decision in ("deny", "implicit") or blocked_endpoints:
        reasons = []
        if decision in ("deny", "implicit"):
            reasons.append(_trust_reason(trust, need, decision))
        if blocked_endpoints:
            reasons.append(
                f"the STS endpoint policy of {', '.join(blocked_endpoints)} does not let "
                f"{required_access.LAMBDA_SERVICE} call sts:AssumeRole"
            )
        found.append(
            Finding(
                code="EXECUTION_ROLE_NOT_ASSUMABLE",
                summary=f"Lambda cannot assume {facts.role.arn}: " + "; ".join(reasons),
                evidence=RoleNotAssumable(
                    role=facts.role.arn,
                    trust_policy=decision,
                    endpoints=tuple(sorted(set(blocked_endpoints))),
                ),
            )
        )
    if decision == "unknown":
        found += undecided(facts, f"the trust policy of {facts.role.name}", [need])
    found += undecided(facts, "the STS endpoint policy", undecided_endpoints)
    return found


def _trust_reason(trust: dict[str, Any], need: Need, decision: str) -> str:
    if decision == "deny":
        return "a Deny statement in the trust policy blocks lambda.amazonaws.com"
    # The seed's second cause: a statement trusts Lambda but only with a source identity set.
    req = need.primary
    source_identity = [
        s.get("Sid", "(no Sid)")
        for s in statements(trust)
        if s.get("Effect") == "Allow"
        and "sts:sourceidentity" in str(s.get("Condition", "")).lower()
        and evaluate({"Statement": [{k: v for k, v in s.items() if k != "Condition"}]}, req).allowed
    ]
    if source_identity:
        return (
            f"the trust policy requires a source identity (statement {', '.join(source_identity)}), "
            "which Lambda never sets"
        )
    return "the trust policy does not trust lambda.amazonaws.com for sts:AssumeRole"


@check("role_permissions", "EXECUTION_ROLE_MISSING_PERMISSIONS", "COULD_NOT_CHECK")
def role_permissions(facts: Facts) -> list[Finding]:
    """The role's inline and attached policies must allow everything this ESM's pollers call."""
    if facts.role is None:
        return []
    implicit, denied, unknown = _missing(facts, required_access.role_needs(facts))
    found = undecided(facts, f"the policies of role {facts.role.name}", unknown)
    if implicit or denied:
        actions = sorted({n.primary.action for n in (*implicit, *denied)})
        found.append(
            Finding(
                code="EXECUTION_ROLE_MISSING_PERMISSIONS",
                summary=f"role {facts.role.name} lacks {', '.join(actions)}",
                evidence=RoleMissingPermissions(
                    role=facts.role.arn, missing=_requests(implicit), explicitly_denied=_requests(denied)
                ),
            )
        )
    return found


def _kafka_cluster_missing(facts: Facts) -> list[Need]:
    implicit, denied, _ = _missing(facts, required_access.kafka_cluster_needs(facts))
    return [*implicit, *denied]


@check("cluster_authz", "CLUSTER_AUTHZ_FAILED")
def cluster_authz(facts: Facts) -> list[Finding]:
    """The cluster must authorize the consumer: IAM policies (readable) or Kafka ACLs (not readable)."""
    esm = facts.esm
    if required_access.uses_iam_auth(facts):
        missing = [n for n in _kafka_cluster_missing(facts) if n.primary.action != required_access.CONNECT]
        if not missing or facts.role is None:
            return []
        return [
            Finding(
                code="CLUSTER_AUTHZ_FAILED",
                summary=(
                    f"MSK IAM auth: role {facts.role.name} may not "
                    + ", ".join(sorted({n.primary.action for n in missing}))
                    + f" (topic {', '.join(esm.topics)}, group {esm.group_id})"
                ),
                evidence=ClusterAuthzIam(auth="iam", missing=_requests(missing), group=esm.group_id),
            )
        ]
    kinds = {h.kind for h in hints_for(esm.last_processing_result, esm.state_transition_reason)}
    acl_auth = [
        a
        for a in esm.source_access
        if a.type in kafka.SCRAM_TYPES or a.type == kafka.CLIENT_CERTIFICATE_TLS_AUTH
    ]
    if not (kinds & _AUTHZ_HINTS) or not acl_auth:
        return []
    auth: Literal["scram", "mtls"] = "scram" if acl_auth[0].type in kafka.SCRAM_TYPES else "mtls"
    return [
        Finding(
            code="CLUSTER_AUTHZ_FAILED",
            summary=(
                f"AWS reports an authorization failure and the ESM authenticates with {auth.upper()}: the "
                f"Kafka ACLs must allow Describe/Read on topic {', '.join(esm.topics)} and group "
                f"{esm.group_id}, and DescribeConfigs on the cluster"
            ),
            evidence=ClusterAuthzAcl(
                auth=auth, secret=acl_auth[0].uri, group=esm.group_id, topics=esm.topics
            ),
        )
    ]


@check("sasl_auth", "SASL_AUTH_FAILED")
def sasl_auth(facts: Facts) -> list[Finding]:
    """SCRAM: the secret exists, is named AmazonMSK_*, uses a customer-managed key and is associated.
    IAM: the role may kafka-cluster:Connect. (The secret's JSON shape is checked with the secret values.)"""
    found: list[Finding] = []
    if required_access.uses_iam_auth(facts):
        if (
            any(n.primary.action == required_access.CONNECT for n in _kafka_cluster_missing(facts))
            and facts.role
        ):
            found.append(
                Finding(
                    code="SASL_AUTH_FAILED",
                    summary=f"MSK IAM auth: role {facts.role.name} may not kafka-cluster:Connect",
                    evidence=SaslIam(auth="iam", missing=(required_access.CONNECT,)),
                )
            )
        return found
    if facts.esm.source_kind != "msk":
        return found
    cluster = facts.cluster
    for access in facts.esm.source_access:
        if access.type not in kafka.SCRAM_TYPES:
            continue
        secret = next((s for s in facts.secrets if s.arn == access.uri or s.name == access.uri), None)
        problems = required_access.scram_secret_problems(facts, access.uri)
        if problems:
            found.append(
                Finding(
                    code="SASL_AUTH_FAILED",
                    summary=f"SCRAM secret {secret.name if secret and secret.name else access.uri}: "
                    + "; ".join(problems.values()),
                    evidence=SaslScram(
                        auth="scram",
                        secret=access.uri,
                        problems=tuple(sorted(problems)),
                        cluster=cluster.arn if cluster else facts.esm.event_source_arn,
                    ),
                )
            )
    return found
