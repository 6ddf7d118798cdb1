"""The execution role's documents: its trust policy and its inline permission policies.

update_assume_role_policy makes the trust policy let lambda.amazonaws.com assume the role without a
source identity. put_role_policy grants the missing permissions in one inline policy that remediate
owns (`remediate-esm-access`, one statement per group of actions sharing resources), and narrows an
inline Deny that blocks a needed call in the policy that holds it. A Deny in a managed policy is not
the role's to edit, and a permissions boundary is never edited (it is what an administrator set to cap
the role): both become manual steps, so a plan never claims to fix what a boundary still denies. Both
actions plan from all the role's needs, not only the finding's, so findings about the same document plan
the same change and the engine merges them. Apply writes only if the document is still the one the plan
was made from, and sends the compact text whose size was checked (`policy.to_text`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from remediate import required_access
from remediate.actions.base import Action, ApplyContext, Draft, register
from remediate.errors import AwsError
from remediate.evidence import RoleNotAssumable
from remediate.facts import Facts, Role
from remediate.findings import Finding
from remediate.plan import Change, ManualStep
from remediate.policy import (
    INLINE_ROLE_POLICY_LIMIT,
    TRUST_POLICY_LIMIT,
    Document,
    PolicyError,
    Request,
    narrow,
    parse,
    patch,
    size,
    statement_matches,
    statements,
    to_text,
)

POLICY_NAME = "remediate-esm-access"
ROLE_POLICY_SID = "RemediateEsmAccess"
TRUST_SID = "RemediateLambdaTrust"


def _stale(resource: str) -> AwsError:
    return AwsError(
        f"{resource} changed since the plan was made; run `remediate plan` again", code="PolicyChanged"
    )


@register
class UpdateAssumeRolePolicy(Action):
    """Let lambda.amazonaws.com assume the execution role (the fix for EXECUTION_ROLE_NOT_ASSUMABLE)."""

    name = "update_assume_role_policy"
    accepts = (RoleNotAssumable,)
    order = 50
    permissions = ("iam:GetRole", "iam:UpdateAssumeRolePolicy")

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        need = required_access.trust_need(facts)
        if need is None or facts.role is None:
            return []
        trust = facts.role.trust_policy
        if required_access.decide([trust], need) not in ("deny", "implicit"):
            return []
        try:
            new = patch(trust, [need.primary], sid=TRUST_SID, limit=TRUST_POLICY_LIMIT, with_resource=False)
        except PolicyError as exc:
            return [
                ManualStep(because=(finding.code,), text=f"Edit the trust policy of {facts.role.arn}: {exc}")
            ]
        change = Change(
            id="",
            action=self.name,
            resource=facts.role.name,
            before={"PolicyDocument": trust},
            after={"PolicyDocument": new},
        )
        return [Draft(change)]

    def _read(self, ctx: ApplyContext, role: str) -> Document | None:
        return parse(ctx.aws.call("iam", "get_role", RoleName=role)["Role"].get("AssumeRolePolicyDocument"))

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        return bool(self._read(ctx, change.resource) == change.after["PolicyDocument"])

    def moved(self, change: Change, ctx: ApplyContext) -> str | None:
        if self._read(ctx, change.resource) == (change.before or {}).get("PolicyDocument"):
            return None
        return f"the trust policy of role {change.resource} is not the one planned from"

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        if self._read(ctx, change.resource) != (change.before or {}).get("PolicyDocument"):
            raise _stale(f"the trust policy of role {change.resource}")
        ctx.progress(f"updating the trust policy of role {change.resource}")
        ctx.aws.call(
            "iam",
            "update_assume_role_policy",
            RoleName=change.resource,
            PolicyDocument=to_text(change.after["PolicyDocument"]),
        )
        return {"previous": change.before}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        if self._read(ctx, change.resource) == change.after["PolicyDocument"]:
            return None
        return f"the trust policy of role {change.resource} is not the planned one"


def _role_changes(role: Role, requests: list[Request]) -> tuple[list[Change], list[str]]:
    """Changes to the role's inline policies that allow `requests`, and the manual steps for the rest."""
    manual: list[str] = []
    inline = {p.name: p.document for p in role.inline_policies}
    managed = list(role.attached_policies)
    wanted: list[Request] = []
    for req in requests:
        blockers = [
            p.arn or p.name
            for p in managed
            for s in statements(p.document)
            if s.get("Effect") == "Deny" and statement_matches(s, req) is True
        ]
        if blockers:
            manual.append(
                f"{req.action} on {req.resource} is denied by the managed policy {', '.join(blockers)}; "
                f"detach it from role {role.name} or exempt this call from its Deny"
            )
        else:
            wanted.append(req)
    narrowed = {name: narrow(doc, wanted) for name, doc in inline.items()}
    changes = [
        Change(
            id="",
            action=PutRolePolicy.name,
            resource=role.name,
            before={"PolicyName": name, "PolicyDocument": inline[name]},
            after={"PolicyName": name, "PolicyDocument": doc},
        )
        for name, doc in narrowed.items()
        if doc != inline[name] and name != POLICY_NAME
    ]
    others = [doc for name, doc in narrowed.items() if name != POLICY_NAME]
    current = narrowed.get(POLICY_NAME)
    others_size = sum(size(d) for d in others)
    context = [*others, *(p.document for p in managed)]
    new = patch(
        current,
        wanted,
        sid=ROLE_POLICY_SID,
        limit=INLINE_ROLE_POLICY_LIMIT - others_size,
        context=context,
    )
    if new != inline.get(POLICY_NAME):
        exists = POLICY_NAME in inline
        changes.append(
            Change(
                id="",
                action=PutRolePolicy.name,
                resource=role.name,
                kind="update" if exists else "create",
                before={"PolicyName": POLICY_NAME, "PolicyDocument": inline[POLICY_NAME]} if exists else None,
                after={"PolicyName": POLICY_NAME, "PolicyDocument": new},
            )
        )
    return changes, manual


def _boundary_step(role: Role, requests: list[Request]) -> str:
    """What a person must allow in the role's permissions boundary (remediate never edits one)."""
    calls = "; ".join(f"{r.action} on {r.resource}" for r in requests)
    return (
        f"The permissions boundary {role.permissions_boundary_arn} of role {role.name} does not allow: "
        f"{calls}. An allow needs both the role's policies and its boundary, and remediate never edits a "
        "boundary: ask its owner to add these calls to it (or to remove the boundary from the role with "
        f"`aws iam delete-role-permissions-boundary --role-name {role.name}`), then plan again."
    )


@register
class PutRolePolicy(Action):
    """Grant the execution role exactly the missing permissions, on the narrowest resources."""

    name = "put_role_policy"
    order = 55
    permissions = ("iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy")

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        role = facts.role
        if role is None:
            return []
        requests: list[Request] = []
        bounded: list[Request] = []
        for n in required_access.role_needs(facts):
            decision = required_access.decide_role(facts, n)
            if decision in ("deny", "implicit"):
                requests.append(n.primary)
            if decision == "boundary" or (
                decision in ("deny", "implicit") and required_access.boundary_blocks(facts, n.primary)
            ):
                bounded.append(n.primary)
        out: list[Draft | ManualStep] = []
        if requests:
            try:
                changes, manual = _role_changes(role, requests)
            except PolicyError as exc:
                return [
                    ManualStep(because=(finding.code,), text=f"Edit the policies of role {role.arn}: {exc}")
                ]
            out += [Draft(c) for c in changes]
            out += [ManualStep(because=(finding.code,), text=t) for t in manual]
        if bounded:
            out.append(ManualStep(because=(finding.code,), text=_boundary_step(role, bounded)))
        return out

    def _read(self, ctx: ApplyContext, role: str, policy: str) -> Document | None:
        try:
            raw = ctx.aws.call("iam", "get_role_policy", RoleName=role, PolicyName=policy)
        except AwsError as exc:
            if exc.code == "NoSuchEntity":
                return None
            raise
        return parse(raw.get("PolicyDocument"))

    def inverse(self, change: Change, outputs: dict[str, Any]) -> Change | None:
        """An inline policy this run created is deleted; one it edited gets its previous document back."""
        if change.kind != "create":
            return super().inverse(change, outputs)
        return change.model_copy(
            update={
                "id": f"undo-{change.id}",
                "kind": "delete",
                "before": change.after,
                "after": {"PolicyName": change.after["PolicyName"], "PolicyDocument": None},
            }
        )

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        current = self._read(ctx, change.resource, change.after["PolicyName"])
        return bool(current == change.after["PolicyDocument"])

    def moved(self, change: Change, ctx: ApplyContext) -> str | None:
        name = change.after["PolicyName"]
        current = self._read(ctx, change.resource, name)
        if current == (change.before or {}).get("PolicyDocument"):
            return None
        if change.before is None:
            return f"inline policy {name} of role {change.resource} now exists (it was planned as new)"
        return f"inline policy {name} of role {change.resource} is not the one planned from"

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        name = change.after["PolicyName"]
        if self._read(ctx, change.resource, name) != (change.before or {}).get("PolicyDocument"):
            raise _stale(f"inline policy {name} of role {change.resource}")
        if change.kind == "delete":
            ctx.progress(f"deleting inline policy {name} of role {change.resource}")
            ctx.aws.call("iam", "delete_role_policy", RoleName=change.resource, PolicyName=name)
            return {"previous": change.before}
        ctx.progress(f"writing inline policy {name} of role {change.resource}")
        ctx.aws.call(
            "iam",
            "put_role_policy",
            RoleName=change.resource,
            PolicyName=name,
            PolicyDocument=to_text(change.after["PolicyDocument"]),
        )
        return {"previous": change.before}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        name = change.after["PolicyName"]
        if self._read(ctx, change.resource, name) == change.after["PolicyDocument"]:
            return None
        return f"inline policy {name} of role {change.resource} is not the planned one"
