"""put_key_policy: let the execution role use a customer managed KMS key, in the key's own policy.

The key policy is the key's primary control (KMS developer guide, "Default key policy"): when it neither
allows the role nor delegates to the account's IAM policies, no role policy can help, so the fix is a
statement in the key policy (`RemediateKeyUse`, Principal the role, the one KMS action, Resource "*", which
in a key policy is the key itself). A Deny of the key policy that blocks the role is narrowed to exempt the
role, as the policy-patch helper narrows any blocking Deny (`policy.patch`); nothing else is touched.

PutKeyPolicy is sent without BypassPolicyLockoutSafetyCheck (it defaults to false), so KMS itself refuses a
policy that would keep the caller from a later PutKeyPolicy: "If you don't set BypassPolicyLockoutSafetyCheck
to true, the key policy must allow the principal that is making the PutKeyPolicy request to make a
subsequent PutKeyPolicy request on the KMS key" (KMS API reference, PutKeyPolicy). The patch only adds an
Allow or narrows a Deny, so it never removes the caller's own rights. Apply writes only if the policy is
still the planned `before`; rollback puts that exact document back.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from remediate import required_access
from remediate.actions.base import Action, ApplyContext, Draft, register
from remediate.errors import AwsError
from remediate.evidence import KmsKeyDenies
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep
from remediate.policy import Document, PolicyError, Principal, Request, parse, patch, to_text

KEY_POLICY_SID = "RemediateKeyUse"
KEY_POLICY_NAME = "default"
"""GetKeyPolicy and PutKeyPolicy take a policy name; "The only valid policy name is default" (KMS API
reference, GetKeyPolicy)."""
KEY_POLICY_LIMIT = 32_768
"""Key policy document size: "The policy size limit is 32 KiB (32768 bytes)" (KMS API reference,
PutKeyPolicy, `Policy`, as the AWS SDK for .NET API documentation of PutKeyPolicyRequest quotes it)."""


@register
class PutKeyPolicy(Action):
    """Allow the execution role the KMS action it needs in the key's policy (KMS_KEY_DENIES)."""

    name = "put_key_policy"
    accepts = (KmsKeyDenies,)
    order = 56
    permissions = ("kms:GetKeyPolicy", "kms:PutKeyPolicy")

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        if not isinstance(ev, KmsKeyDenies) or ev.policy != "key":
            return []  # a Deny in the role's own policy is put_role_policy's to narrow
        key = next((k for k in facts.keys if k.arn == ev.key), None)
        if key is None or key.policy is None:
            return []
        # Every use of this key by the role, so two findings on one key plan the same change.
        actions = sorted({ev.action, *(a for k, _, a in required_access.key_uses(facts) if k.arn == ev.key)})
        requests = [Request.make(a, "*", Principal.role(ev.principal)) for a in actions]
        try:
            new = patch(key.policy, requests, sid=KEY_POLICY_SID, limit=KEY_POLICY_LIMIT)
        except PolicyError as exc:
            return [
                ManualStep(because=(finding.code,), text=f"Edit the key policy of {key.arn} by hand: {exc}")
            ]
        if new == key.policy:
            return []
        return [
            Draft(
                Change(
                    id="",
                    action=self.name,
                    resource=key.arn,
                    before={"Policy": key.policy},
                    after={"Policy": new},
                )
            )
        ]

    def _read(self, ctx: ApplyContext, key: str) -> Document | None:
        raw = ctx.aws.call("kms", "get_key_policy", KeyId=key, PolicyName=KEY_POLICY_NAME)
        return parse(raw.get("Policy"))

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        return bool(self._read(ctx, change.resource) == change.after["Policy"])

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        if self._read(ctx, change.resource) != (change.before or {}).get("Policy"):
            raise AwsError(
                f"the key policy of {change.resource} changed since the plan was made; run `remediate plan` "
                "again",
                code="PolicyChanged",
            )
        ctx.progress(f"writing the key policy of {change.resource}")
        ctx.aws.call(
            "kms",
            "put_key_policy",
            KeyId=change.resource,
            PolicyName=KEY_POLICY_NAME,
            Policy=to_text(change.after["Policy"]),
        )
        return {"previous": change.before}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        if self._read(ctx, change.resource) == change.after["Policy"]:
            return None
        return f"the key policy of {change.resource} is not the planned one"
