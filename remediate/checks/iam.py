"""Checks on the execution role: its trust, its permissions, and how the cluster authenticates it.

Every check evaluates the documents observation read with `remediate.policy` against the needs in
`remediate.required_access`; a need whose answer depends on a condition the evaluator cannot decide
becomes a COULD_NOT_CHECK finding instead of a guess. A need is met only when the role's identity
policies and its permissions boundary both allow it. Kafka ACLs, a cross-account cluster's policy and
the organization's service control policies cannot be read from the consumer's account, so what they
decide is reported only when AWS's own error text points at authorization.
"""

from __future__ import annotations

from typing import Any, Literal

from remediate import kafka, required_access
from remediate.checks.base import check
from remediate.error_text import hints_for
from remediate.evidence import (
    ClusterAuthzAcl,
    ClusterAuthzCrossAccount,
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
_DENIED_HINTS = frozenset({"authorization"})
"""Error texts that say an AWS call was refused: with every need allowed, an SCP is what is left unread
(as for "Cluster failed to authorize Lambda" under IAM auth in the cluster's own account; under SCRAM or
mTLS it is the Kafka ACLs, across accounts the owner's side)."""


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


def _decisions(facts: Facts, items: list[Need]) -> dict[str, list[Need]]:
    """The role's needs by decision (`required_access.RoleDecision`), allowed ones left out."""
    out: dict[str, list[Need]] = {
        "implicit": [],
        "deny": [],
        "unknown": [],
        "boundary": [],
        "boundary-unknown": [],
    }
    for n in items:
        decision = required_access.decide_role(facts, n)
        if decision != "allow":
            out[decision].append(n)
    return out


def _missing(facts: Facts, items: list[Need]) -> tuple[list[Need], list[Need], list[Need]]:
    """(missing: not allowed or stopped by the boundary, explicitly denied, undecidable) needs."""
    out = _decisions(facts, items)
    return [*out["implicit"], *out["boundary"]], out["deny"], out["unknown"]


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
    perimeter: list[str] = []
    for endpoint in required_access.routed_endpoints(facts):
        if required_access.endpoint_service(endpoint) != "sts":
            continue
        for n in required_access.endpoint_needs(facts, endpoint):
            document = required_access.endpoint_document(endpoint)
            d = required_access.decide([document], n)
            if d in ("deny", "implicit"):
                blocked_endpoints.append(endpoint.id)
                perimeter += required_access.perimeter_statements(document, n.primary)
            elif d == "unknown":
                undecided_endpoints.append(n)
    if decision in ("deny", "implicit") or blocked_endpoints:
        reasons = []
        if decision in ("deny", "implicit"):
            reasons.append(_trust_reason(trust, need, decision))
        if blocked_endpoints:
            reasons.append(
                f"the STS endpoint policy of {', '.join(blocked_endpoints)} does not let "
                f'{required_access.LAMBDA_SERVICE} call sts:AssumeRole on "*"'
                + (
                    f" (statement {', '.join(perimeter)} is limited to the organization, and the Lambda "
                    "service principal belongs to none)"
                    if perimeter
                    else ""
                )
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
    if not found and decision == "allow" and _reports_role_assume(facts):
        # issue 24 (N11): everything readable lets Lambda assume the role, yet AWS says it cannot: an
        # organization policy is what is left unread. Resource control policies apply to AWS STS among
        # others ("Individual RCP controls apply to specific resources associated with the following AWS
        # services: Amazon S3, AWS Security Token Service (STS), AWS Key Management Service KMS), Amazon
        # Simple Queue Service (SQS), AWS Secrets Manager", AWS Control Tower controls reference, "Controls
        # implemented with resource control policies (RCPs)").
        found.append(
            Finding(
                code="COULD_NOT_CHECK",
                summary=f"AWS reports that Lambda cannot assume {facts.role.arn}, yet its trust policy and "
                "the STS endpoint policies allow it: a resource control policy on sts:AssumeRole or a "
                "service control policy of the organization (neither readable from this account) may deny it",
                evidence=CouldNotCheck(
                    what="resource and service control policies on sts:AssumeRole",
                    reason="RCPs and SCPs are not read by remediate",
                ),
            )
        )
    return found


def _reports_role_assume(facts: Facts) -> bool:
    """Whether the mapping's error text says Lambda could not assume the execution role."""
    esm = facts.esm
    return any(
        h.kind == "role-assume" for h in hints_for(esm.last_processing_result, esm.state_transition_reason)
    )


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
    """The role's inline and attached policies, within its permissions boundary, must allow everything
    this ESM's pollers call."""
    role = facts.role
    if role is None:
        return []
    out = _decisions(facts, required_access.role_needs(facts))
    implicit, denied = out["implicit"], out["deny"]
    # Needs the boundary stops, whether or not the policies allow them yet: granting changes nothing.
    boundary = [
        *out["boundary"],
        *(n for n in (*implicit, *denied) if required_access.boundary_blocks(facts, n.primary)),
    ]
    found = undecided(facts, f"the policies of role {role.name}", out["unknown"])
    if out["boundary-unknown"]:
        actions = ", ".join(sorted({n.primary.action for n in out["boundary-unknown"]}))
        found.append(
            Finding(
                code="COULD_NOT_CHECK",
                summary=f"could not decide whether the permissions boundary {role.permissions_boundary_arn} "
                f"of role {role.name} allows {actions}, which its policies allow",
                evidence=CouldNotCheck(
                    what=f"the permissions boundary of role {role.name}",
                    reason=str(role.permissions_boundary_arn),
                ),
            )
        )
    if implicit or denied or boundary:
        parts = []
        if implicit or denied:
            parts.append("lacks " + ", ".join(sorted({n.primary.action for n in (*implicit, *denied)})))
        if boundary:
            parts.append(
                f"is kept by its permissions boundary {role.permissions_boundary_arn} from "
                + ", ".join(sorted({n.primary.action for n in boundary}))
            )
        found.append(
            Finding(
                code="EXECUTION_ROLE_MISSING_PERMISSIONS",
                summary=f"role {role.name} " + "; ".join(parts),
                evidence=RoleMissingPermissions(
                    role=role.arn,
                    missing=_requests(implicit),
                    explicitly_denied=_requests(denied),
                    blocked_by_boundary=_requests(boundary),
                    boundary=role.permissions_boundary_arn,
                ),
            )
        )
    elif not any(out.values()) and _reports_denial(facts):
        found.append(
            Finding(
                code="COULD_NOT_CHECK",
                summary=f"AWS reports a refused call, yet the policies of role {role.name} allow every call "
                "the ESM needs: the organization's service control policies, or its resource control "
                "policies on STS, KMS, Secrets Manager, SQS or S3 (issue 24, N11; neither readable from "
                "this account) may deny it",
                evidence=CouldNotCheck(
                    what="service and resource control policies",
                    reason="SCPs and RCPs are not read by remediate",
                ),
            )
        )
    return found


def _reports_denial(facts: Facts) -> bool:
    esm = facts.esm
    kinds = {h.kind for h in hints_for(esm.last_processing_result, esm.state_transition_reason)}
    same_account_iam = required_access.uses_iam_auth(facts) and not kafka.is_vpc_connection(
        esm.event_source_arn
    )
    return bool(kinds & _DENIED_HINTS) or ("cluster-authz" in kinds and same_account_iam)


def _kafka_cluster_missing(facts: Facts) -> list[Need]:
    implicit, denied, _ = _missing(facts, required_access.kafka_cluster_needs(facts))
    return [*implicit, *denied]


@check("cluster_authz", "CLUSTER_AUTHZ_FAILED")
def cluster_authz(facts: Facts) -> list[Finding]:
    """The cluster must authorize the consumer: IAM policies (readable) or Kafka ACLs (not readable);
    for a cross-account cluster also the owner's cluster policy (not readable from here)."""
    esm = facts.esm
    kinds = {h.kind for h in hints_for(esm.last_processing_result, esm.state_transition_reason)}
    if required_access.uses_iam_auth(facts):
        missing = [n for n in _kafka_cluster_missing(facts) if n.primary.action != required_access.CONNECT]
        if not missing or facts.role is None:
            return _owner_side(facts) if kinds & _AUTHZ_HINTS else []
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
    if kafka.is_vpc_connection(esm.event_source_arn):
        return _owner_side(facts) if kinds & _AUTHZ_HINTS else []
    # The ACLs are those of the principal Lambda authenticates as: on MSK the documented order decides
    # (an mTLS secret before a SCRAM one); a self-managed source has no such order on record.
    mode = required_access.auth_mode(facts)
    wanted = {
        "mtls": frozenset({kafka.CLIENT_CERTIFICATE_TLS_AUTH}),
        "scram": kafka.SCRAM_TYPES,
    }.get(mode or "", frozenset({kafka.CLIENT_CERTIFICATE_TLS_AUTH, *kafka.SCRAM_TYPES}))
    if esm.source_kind == "msk" and mode not in ("scram", "mtls"):
        wanted = frozenset()
    acl_auth = [a for a in esm.source_access if a.type in wanted]
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


def _owner_side(facts: Facts) -> list[Finding]:
    """A cross-account cluster refuses the consumer while everything the consumer's account can read
    allows it: the cluster policy or the Kafka ACLs in the owner's account decide (Lambda developer guide,
    "Creating cross-account event source mappings in Lambda"; MSK multi-VPC private connectivity)."""
    esm = facts.esm
    arn = esm.event_source_arn
    if not kafka.is_vpc_connection(arn):
        return []
    assert arn is not None
    connection = facts.vpc_connection
    owner = kafka.vpc_connection_owner(arn)
    cluster = kafka.source_cluster_arn(esm, connection)
    mode = required_access.auth_mode(facts)
    return [
        Finding(
            code="CLUSTER_AUTHZ_FAILED",
            summary=(
                f"AWS reports an authorization failure for the cross-account cluster "
                f"{cluster or '(target not read)'} of account {owner or '?'}, and the consumer's own "
                "policies allow every call: the cluster policy or the Kafka ACLs in the owner's account "
                "must authorize this account"
            ),
            evidence=ClusterAuthzCrossAccount(
                auth="cross-account",
                connection=arn,
                owner_account=owner,
                cluster=cluster,
                mode=mode,
                group=esm.group_id,
                topics=esm.topics,
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
    if facts.esm.source_kind != "msk" or required_access.auth_mode(facts) != "scram":
        return found  # SCRAM only when Lambda uses it: a SCRAM secret decides, after an mTLS one
    if kafka.is_vpc_connection(facts.esm.event_source_arn):
        # The secret may live in the function's account, synced with the cluster's: association and its
        # naming rules are the owner's side ("Creating cross-account event source mappings in Lambda").
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
