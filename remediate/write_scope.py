"""What a deployed remediate role may rewrite: the roles, keys and secrets the deployer names (issue 27, D1).

The fixes that edit an execution role (its trust policy, its inline policy) or a key policy are, in IAM
terms, the power to take over whatever they are allowed on: a role that may rewrite any role's trust can
make an administrator role trust itself and assume it (IAM user guide, "Policy evaluation for requests
within a single account": a trust policy naming the principal suffices). So the generated policies
allow those writes only where the deployer said so:

- roles under a path (`role_path`, e.g. `/service-role/`, where the Lambda console creates execution
  roles; the path is part of the role ARN: IAM user guide, "IAM identifiers") or carrying the tag
  `remediate:fixable` with a given value (`role_tag`; "Controlling access to and for IAM users and roles
  using tags", IAM user guide: control access to roles by their tags with `aws:ResourceTag/key-name`);
- never the privileged roles of `PRIVILEGED_ROLES` nor the automation roles themselves (an explicit
  Deny, which no Allow overrides: "Policy evaluation logic", IAM user guide);
- key policies only of the keys named (`key_arns`);
- secret values only of MSK SCRAM secrets, whose names must begin with `AmazonMSK_` (Amazon MSK
  developer guide, "Sign-in credentials authentication with AWS Secrets Manager"), and of the secrets
  named (`secrets`).

Without a role scope (or key list) the policies carry no such write, and a plan made by the runbook
turns those changes into manual steps (`manual_reason`), so an approver never approves a change the
role would be denied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from remediate.errors import InputError
from remediate.facts import Facts
from remediate.plan import Change
from remediate.policy import wildcard

TAG_KEY = "remediate:fixable"
"""The tag a role carries when the deployer lets the runbook fix it (its value: `role_tag`)."""
ROLE_WRITES = ("iam:DeleteRolePolicy", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy")
"""The role writes remediate's actions make (actions/role_policy.py)."""
KEY_WRITES = ("kms:PutKeyPolicy",)
SECRET_READS = ("secretsmanager:GetSecretValue",)
SCOPED = frozenset({*ROLE_WRITES, *KEY_WRITES, *SECRET_READS})
"""Actions whose resources come from the deployer's scope, not from `iam_policy.RESOURCES`."""
MSK_SECRET_PATTERN = "AmazonMSK_*"  # noqa: S105 - a secret name pattern
PRIVILEGED_ROLES = (
    "OrganizationAccountAccessRole",
    "AWSReservedSSO_*",
    "AWS-SystemsManager-*",
    "stacksets-exec-*",
    "cdk-*",
    "Remediate*",
)
"""Role names never rewritten, at any path: the Organization's admin role, IAM Identity Center's roles,
Systems Manager's multi-account roles, StackSets' execution roles, CDK's bootstrap roles, and remediate's
own roles (whatever the deployer named its automation role is added per template)."""
PATH_PATTERN = r"^/([A-Za-z0-9+=,.@_-]+/)+$"
"""A role path other than "/" (IAM: "/" followed by names, ending in "/"); "/" would be every role."""
SECRET_SUFFIX = "-??????"  # noqa: S105 - an ARN wildcard
"""Secrets Manager appends a hyphen and six characters to a secret's name in its ARN."""


@dataclass(frozen=True)
class WriteScope:
    role_path: str = ""
    role_tag: str = ""
    key_arns: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    """Secret ARNs or names whose values may be read besides the AmazonMSK_ ones."""
    own_roles: tuple[str, ...] = ()
    """Further role names never rewritten (the automation role, the operator's own role)."""

    def check(self) -> WriteScope:
        if self.role_path and not re.fullmatch(PATH_PATTERN, self.role_path):
            raise InputError(f"role path {self.role_path!r} must look like /service-role/ (not /)")
        for arn in self.key_arns:
            if not re.fullmatch(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-fA-F-]{36}", arn):
                raise InputError(f"{arn!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)")
        return self

    def role_arns(self, partition: str, account: str) -> list[str]:
        return [f"arn:{partition}:iam::{account}:role{self.role_path}*"] if self.role_path else []

    def secret_arns(self, partition: str, account: str) -> list[str]:
        base = f"arn:{partition}:secretsmanager:*:{account}:secret:"
        named = [s if s.startswith("arn:") else f"{base}{s}{SECRET_SUFFIX}" for s in self.secrets]
        return [f"{base}{MSK_SECRET_PATTERN}", *named]

    def privileged(self, name: str) -> bool:
        return any(wildcard(p, name) for p in (*PRIVILEGED_ROLES, *self.own_roles))

    def role_reason(self, facts: Facts) -> str | None:
        """Why the runbook's role may not rewrite the ESM's execution role; None if it may."""
        role = facts.role
        if role is None:
            return "the execution role was not read"
        if self.privileged(role.name):
            return f"role {role.name} is a privileged role remediate never rewrites"
        path = role.arn.split(":role", 1)[-1].rsplit("/", 1)[0] + "/"
        if self.role_path and path.startswith(self.role_path):
            return None
        if self.role_tag and dict(role.tags).get(TAG_KEY) == self.role_tag:
            return None
        if not self.role_path and not self.role_tag:
            return "this deployment lets it rewrite no role (FixableRolePath / FixableRoleTag unset)"
        return (
            f"role {role.name} is neither under {self.role_path or '(no path)'} nor tagged "
            f"{TAG_KEY}={self.role_tag or '(no tag)'}"
        )

    def manual_reason(self, facts: Facts, change: Change) -> str | None:
        """The manual step a change becomes when the runbook's role may not make it; None if it may."""
        from remediate import actions

        writes = set(actions.get(change.action).permissions)
        why = None
        if writes & set(ROLE_WRITES):
            why = self.role_reason(facts)
        elif writes & set(KEY_WRITES) and change.resource not in self.key_arns:
            why = f"key {change.resource} is not one of this deployment's FixableKeyArns"
        if why is None:
            return None
        return (
            f"{change.action} on {change.resource} is not the runbook's to make: {why}. Make it with your "
            f"own credentials (`remediate apply --esm {facts.esm.uuid}`), or deploy the runbook with a scope "
            "that covers it (docs/ssm.md, 'What the role may change')."
        )
