"""Checks on VPC endpoint policies: Lambda, Secrets Manager and the on-failure destination's service.

Only endpoints the pollers' traffic actually goes through are checked (private-DNS interface
endpoints, gateway endpoints, and none in provisioned mode); an endpoint without a policy has AWS's
default full access. The STS endpoint belongs to EXECUTION_ROLE_NOT_ASSUMABLE (checks/iam.py), since it
blocks the role's use. A policy limited to the organization is named as the cause: Lambda's service
principal is in no organization.
"""

from __future__ import annotations

from typing import Any

from remediate import required_access
from remediate.checks.base import check
from remediate.checks.iam import undecided
from remediate.evidence import EndpointPolicyDenies
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.policy import Request


def why_blocked(document: dict[str, Any], request: Request) -> str:
    """What the Lambda guide says about the cause, for the service principal's requests."""
    perimeter = required_access.perimeter_statements(document, request)
    if perimeter:
        return (
            f" (statement {', '.join(perimeter)} is limited to the organization, and the Lambda service "
            "principal belongs to none)"
        )
    if request.principal is not None and request.principal.kind == "Service":
        return ' (the Lambda guide requires "Resource": "*" in this statement)'
    return ""


_CODES = {
    "lambda": "ENDPOINT_POLICY_DENIES_INVOKE",
    "secretsmanager": "ENDPOINT_POLICY_DENIES_SECRET",
    "sns": "ENDPOINT_POLICY_DENIES_DESTINATION",
    "sqs": "ENDPOINT_POLICY_DENIES_DESTINATION",
    "s3": "ENDPOINT_POLICY_DENIES_DESTINATION",
}


@check(
    "endpoint_policies",
    "ENDPOINT_POLICY_DENIES_INVOKE",
    "ENDPOINT_POLICY_DENIES_SECRET",
    "ENDPOINT_POLICY_DENIES_DESTINATION",
    "COULD_NOT_CHECK",
)
def endpoint_policies(facts: Facts) -> list[Finding]:
    """Each endpoint policy on the path must let the right principal make the call the ESM required_access."""
    found: list[Finding] = []
    for endpoint in required_access.routed_endpoints(facts):
        code = _CODES.get(required_access.endpoint_service(endpoint))
        if code is None:
            continue
        document = required_access.endpoint_document(endpoint)
        blocked, unknown = [], []
        for n in required_access.endpoint_needs(facts, endpoint):
            decision = required_access.decide([document], n)
            if decision in ("deny", "implicit"):
                blocked.append((n, decision))
            elif decision == "unknown":
                unknown.append(n)
        found += undecided(facts, f"the policy of endpoint {endpoint.id}", unknown)
        if not blocked:
            continue
        parts = [
            f"{'explicitly denies' if d == 'deny' else 'does not allow'} {n.primary.action} on "
            f"{n.primary.resource} for {next(iter(n.primary.principal.statement_value().values()))}"
            + why_blocked(document, n.primary)
            for n, d in blocked
            if n.primary.principal is not None
        ]
        found.append(
            Finding(
                code=code,
                summary=f"the policy of {endpoint.service_name} endpoint {endpoint.id} " + "; ".join(parts),
                evidence=EndpointPolicyDenies(
                    endpoints=(endpoint.id,),
                    service=endpoint.service_name,
                    blocked=tuple({**n.primary.to_json(), "decision": d} for n, d in blocked),
                ),
            )
        )
    return found
