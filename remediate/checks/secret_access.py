"""A secret's resource policy and key, as Secrets Manager applies them to the execution role (issue 24, N8).

Secrets Manager user guide, "Determine who has permissions to your AWS Secrets Manager secrets": "If a
statement in any policy with an explicit deny matches the request action and resource: The explicit deny
overrides everything else", and "If the identity and the secret are in two different accounts, there must
be an allow in both the resource policy for the secret and the policy attached to the identity, otherwise
AWS denies the request". "Access AWS Secrets Manager secrets from a different account": "you can't use the
AWS managed key (aws/secretsmanager) for cross-account access". Lambda developer guide, "Creating
cross-account event source mappings in Lambda": the secret "must be available for cross-account access to
the Lambda function account".

The role's own IAM policies are `role_permissions`'s (the same GetSecretValue need); a resource policy that
could not be read is `unchecked_reads`'s, and a secret of another account the caller may not read at all is
named here as COULD_NOT_CHECK with what its owner must allow.
"""

from __future__ import annotations

from typing import Literal

from remediate import kafka, required_access
from remediate.checks.base import check
from remediate.checks.iam import undecided
from remediate.evidence import CouldNotCheck, SecretAccessBlocked
from remediate.facts import Facts, Secret
from remediate.findings import Finding
from remediate.policy import Request, evaluate, statements
from remediate.required_access import Need

GET_SECRET_VALUE = "secretsmanager:GetSecretValue"  # noqa: S105 - an IAM action, not a password
Cause = Literal[
    "resource-policy-denies", "no-resource-policy", "resource-policy-does-not-allow", "aws-managed-key"
]
_WHY: dict[str, str] = {
    "no-resource-policy": "it has no resource policy, and a secret of another account needs one allowing "
    "the role",
    "resource-policy-does-not-allow": "its resource policy does not allow the role, and a secret of "
    "another account needs it to",
    "aws-managed-key": "it is encrypted with the AWS managed key aws/secretsmanager, which cannot be "
    "used from another account",
}


def account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if arn.startswith("arn:") and len(parts) > 5 and parts[4] else None


def _blocked(
    secret: Secret, role: str, owner: str, cross: bool, cause: Cause, sids: tuple[str, ...] = ()
) -> Finding:
    why = _WHY.get(cause) or f"its resource policy denies it (statement {', '.join(sids)})"
    return Finding(
        code="SECRET_ACCESS_BLOCKED",
        summary=f"execution role {role} cannot read secret {secret.arn} (account {owner}): {why}",
        evidence=SecretAccessBlocked(
            secret=secret.arn, role=role, owner=owner, cross_account=cross, cause=cause, statements=sids
        ),
    )


@check("secret_access", "SECRET_ACCESS_BLOCKED", "COULD_NOT_CHECK")
def secret_access(facts: Facts) -> list[Finding]:
    """Each secret the mapping authenticates with: a Deny in its resource policy, and for another account's
    secret an Allow there and a customer managed key."""
    principal = required_access.role_principal(facts)
    if principal is None or principal.account is None:
        return []
    role, mine = principal.id, principal.account
    found: list[Finding] = []
    read = {s.arn: s for s in facts.secrets} | {s.name: s for s in facts.secrets if s.name}
    for access in facts.esm.source_access:
        if access.type not in kafka.SECRET_TYPES:
            continue
        owner = account_of(access.uri) or mine
        cross = owner != mine
        secret = read.get(access.uri)
        if secret is None or not secret.exists:
            if cross and secret is None:
                found.append(_unread(access.uri, role, owner))
            continue
        if cross and required_access.is_aws_managed_key(secret.kms_key_id):
            found.append(_blocked(secret, role, owner, cross, "aws-managed-key"))
        if not secret.resource_policy_read:
            continue  # unchecked_reads names the denied GetResourcePolicy
        req = Request.make(GET_SECRET_VALUE, secret.arn, principal)
        ev = evaluate(secret.resource_policy, req)
        if ev.decision == "deny":
            stmts = statements(secret.resource_policy)
            sids = tuple(str(stmts[i].get("Sid", f"#{i + 1}")) for i in ev.denies)
            found.append(_blocked(secret, role, owner, cross, "resource-policy-denies", sids))
        elif ev.decision == "unknown":
            found += undecided(facts, f"the resource policy of {secret.arn}", [Need((req,), "read it")])
        elif cross and ev.decision == "implicit":
            none = secret.resource_policy is None
            found.append(
                _blocked(
                    secret,
                    role,
                    owner,
                    cross,
                    "no-resource-policy" if none else "resource-policy-does-not-allow",
                )
            )
    return found


def _unread(arn: str, role: str, owner: str) -> Finding:
    what = f"cross-account secret {arn}"
    return Finding(
        code="COULD_NOT_CHECK",
        summary=f"could not read {what} (account {owner}) to check it: its owner must allow {role} "
        f"{GET_SECRET_VALUE} in the secret's resource policy and encrypt it with a customer managed key "
        "whose key policy lets the role kms:Decrypt (Secrets Manager user guide, cross-account access)",
        evidence=CouldNotCheck(what=what, reason="not readable from this account"),
    )
