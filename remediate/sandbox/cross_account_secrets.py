"""Secrets of another account (issue 24, N8), which moto looks up only in the caller's own account.

Secrets Manager user guide, "Access AWS Secrets Manager secrets from a different account"
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html): "To allow
users in one account to access secrets in another account (cross-account access), you must allow access both
in a resource policy and in an identity policy"; cross-account permission is effective for DescribeSecret,
GetResourcePolicy and GetSecretValue among others; "you can't use the AWS managed key (aws/secretsmanager)
for cross-account access". "Determine who has permissions to your AWS Secrets Manager secrets": "If the
identity and the secret are in two different accounts, there must be an allow in both the resource policy
for the secret and the policy attached to the identity, otherwise AWS denies the request."

So a read that names a secret by the ARN of another account is served from that account's secrets only when
the secret's resource policy allows the caller (its account, its root, or its role ARN; the sandbox's callers
have no identity policies to refuse it), and GetSecretValue of such a secret under the AWS managed key is
refused with the message AWS support's knowledge-center article quotes ("You can't access a secret from a
different AWS account if you encrypt the secret with the default KMS service key."). The error code of both
refusals is not on the pages reached; AccessDeniedException is used. This module imports nothing of the
engine.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.secretsmanager import responses as _sm_responses
from moto.secretsmanager.models import secretsmanager_backends
from moto.sts.models import sts_backends

from remediate.sandbox.key_policies import as_list, aws_principals

READS = {
    "describe_secret": "secretsmanager:DescribeSecret",
    "get_resource_policy": "secretsmanager:GetResourcePolicy",
    "get_secret_value": "secretsmanager:GetSecretValue",
}
DEFAULT_KEY_MESSAGE = (
    "You can't access a secret from a different AWS account if you encrypt the secret with the default KMS "
    "service key."
)


class AccessDenied(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("AccessDeniedException", message)


def _caller(response: Any, account: str) -> set[str]:
    """The principal values that name the caller in a resource policy."""
    names = {"*", account, f"arn:aws:iam::{account}:root"}
    key = response.get_access_key()
    for backend in sts_backends[account].values():
        assumed = backend.get_assumed_role_from_access_key(key)
        if assumed is not None:
            names.add(assumed.role_arn)
    return names


def allows(policy_text: str | None, action: str, caller: set[str]) -> bool:
    """An Allow of `action` to the caller without conditions, and no Deny of it to the caller."""
    if not policy_text:
        return False
    policy = json.loads(policy_text)
    allowed = False
    for stmt in as_list(policy.get("Statement", [])):
        if not isinstance(stmt, dict) or not caller & set(aws_principals(stmt)):
            continue
        actions = [str(a).lower() for a in as_list(stmt.get("Action", []))]
        if not any(fnmatch.fnmatchcase(action.lower(), a) for a in actions):
            continue
        if stmt.get("Effect") == "Deny":
            return False
        allowed = allowed or "Condition" not in stmt
    return allowed


def _read(operation: str) -> Callable[[Any], str]:
    def handler(self: Any) -> str:
        secret_id = str(self._get_param("SecretId") or "")
        parts = secret_id.split(":")
        owner = parts[4] if secret_id.startswith("arn:") and len(parts) > 6 else self.current_account
        if owner == self.current_account:
            return str(_ORIGINAL[operation](self))
        backend = secretsmanager_backends[owner][self.region]
        secret = backend.describe_secret(secret_id=secret_id)
        if not allows(getattr(secret, "policy", None), READS[operation], _caller(self, self.current_account)):
            raise AccessDenied(
                f"User is not authorized to perform: {READS[operation]} on resource: {secret_id} because no "
                "resource-based policy allows the action"
            )
        if operation == "get_secret_value" and not getattr(secret, "kms_key_id", None):
            raise AccessDenied(DEFAULT_KEY_MESSAGE)
        original = _ORIGINAL[operation]
        mine = self.current_account
        try:
            self.current_account = owner
            return str(original(self))
        finally:
            self.current_account = mine

    return handler


_ORIGINAL: dict[str, Any] = {}


def patch(replace: Callable[[type[Any], str, Any], None]) -> None:
    """Install through the sandbox's one patch registry (`patches._replace`)."""
    for operation in READS:
        _ORIGINAL.setdefault(operation, _sm_responses.SecretsManagerResponse.__dict__[operation])
        replace(_sm_responses.SecretsManagerResponse, operation, _read(operation))
