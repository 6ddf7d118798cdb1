"""Customer managed KMS keys of the mapping's secrets and on-failure destination: does the key policy let
the execution role use them?

A key policy is the primary control of a KMS key: "Unless the key policy explicitly allows it, you cannot
use IAM policies to allow access to a KMS key"; the default key policy's statement for the account's root
principal is what "enables IAM policies" to grant access (KMS developer guide, "Default key policy",
https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html). So the role may use the key
when the key policy allows the role itself (or everyone), or allows the account, and then the role's IAM
policies must allow it too, which `role_permissions` checks from the same needs
(`required_access.role_needs`). A Deny in the key policy wins over both. The needs (kms:Decrypt for a
secret, kms:GenerateDataKey and kms:Decrypt for an SQS or SNS destination, kms:GenerateDataKey for an S3
one) come from `required_access`, evaluated with `remediate.policy`; a key policy that could not be read
is reported by `unchecked_reads`.
"""

from __future__ import annotations

from remediate import required_access
from remediate.checks.base import check
from remediate.checks.iam import undecided
from remediate.evidence import KmsKeyDenies
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.policy import Request, evaluate, statements
from remediate.required_access import Need


def key_request(facts: Facts, action: str) -> Request | None:
    """The role's use of a key as its key policy sees it: "*" is the key itself in a key policy."""
    principal = required_access.role_principal(facts)
    return Request.make(action, "*", principal) if principal is not None else None


@check("kms_key_policy", "KMS_KEY_DENIES", "COULD_NOT_CHECK")
def kms_key_policy(facts: Facts) -> list[Finding]:
    """Each customer managed key's policy must allow (or delegate to IAM) the role's use of it."""
    found: list[Finding] = []
    for key, used_for, action in required_access.key_uses(facts):
        req = key_request(facts, action)
        if key.policy is None or req is None:
            continue  # not read: unchecked_reads says so
        found += _role_denies(facts, key.arn, used_for, action)
        ev = evaluate(key.policy, req)
        if ev.decision == "unknown":
            found += undecided(facts, f"the key policy of {key.arn}", [Need((req,), f"use {key.arn}")])
            continue
        if ev.decision == "allow":
            continue
        stmts = statements(key.policy)
        sids = tuple(str(stmts[i].get("Sid", f"#{i + 1}")) for i in ev.denies)
        why = (
            f"statement {', '.join(sids)} denies it"
            if ev.decision == "deny"
            else "no statement allows the role or the account"
        )
        found.append(
            Finding(
                code="KMS_KEY_DENIES",
                summary=f"the key policy of {key.arn}, which encrypts {used_for}, keeps "
                f"{req.principal.id if req.principal else 'the role'} from {action}: {why}",
                evidence=KmsKeyDenies(
                    key=key.arn,
                    used_for=used_for,
                    action=action,
                    principal=req.principal.id if req.principal else "",
                    decision="deny" if ev.decision == "deny" else "implicit",
                    statements=sids,
                ),
            )
        )
    return found


def _role_denies(facts: Facts, key: str, used_for: str, action: str) -> list[Finding]:
    """An explicit Deny of the key's use in one of the role's own policies (it wins over any Allow)."""
    principal = required_access.role_principal(facts)
    if principal is None:
        return []
    req = Request.make(action, key)
    sids: list[str] = []
    for policy in (*facts.role.inline_policies, *facts.role.attached_policies) if facts.role else ():
        ev = evaluate(policy.document, req)
        stmts = statements(policy.document)
        sids += [f"{policy.name}:{stmts[i].get('Sid', f'#{i + 1}')}" for i in ev.denies]
    if not sids:
        return []
    return [
        Finding(
            code="KMS_KEY_DENIES",
            summary=f"the policies of {principal.id} deny {action} on {key}, which encrypts {used_for} "
            f"({', '.join(sids)})",
            evidence=KmsKeyDenies(
                key=key,
                used_for=used_for,
                action=action,
                principal=principal.id,
                decision="deny",
                statements=tuple(sids),
                policy="role",
            ),
        )
    ]
