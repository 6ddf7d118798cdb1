"""KMS key policies as AWS guards them: what moto's PutKeyPolicy accepts without looking.

moto stores any key policy it is given. AWS refuses two kinds that matter to a tool that edits key
policies, and the sandbox refuses them too (KMS API reference, PutKeyPolicy, the Policy parameter):

* "If you don't set BypassPolicyLockoutSafetyCheck to true, the key policy must allow the principal that is
  making the PutKeyPolicy request to make a subsequent PutKeyPolicy request on the KMS key";
* "Each statement in the key policy must contain one or more principals. The principals in the key policy
  must exist and be visible to AWS KMS."

Both are MalformedPolicyDocumentException. The sandbox's callers are the account's root (moto's
credentials), so the first rule asks for an Allow of kms:PutKeyPolicy to the account or to everyone; for the
second, role ARNs of the account must name roles that exist.

And a symmetric key has no public key: GetPublicKey "returns the public key of an asymmetric KMS key" (KMS
API reference, GetPublicKey), and refuses others with UnsupportedOperationException ("a specified resource
is not valid for this operation", same page, Errors); moto answered with the RSA key it makes for every
key. This module imports nothing of the engine.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.kms import models as _kms_models
from moto.kms import responses as _kms_responses
from moto.kms.utils import KeySpec

LOCKOUT_MESSAGE = "The new key policy will not allow you to update the key policy in the future."
PRINCIPAL_MESSAGE = "Policy contains a statement with one or more invalid principals."


ASYMMETRIC_SPECS = frozenset(s.value for s in KeySpec if s.value.startswith(("RSA_", "ECC_", "SM2")))
"""The key specs of asymmetric keys (KMS developer guide, "Key spec reference"): the only ones with a
public key."""


class UnsupportedOperation(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("UnsupportedOperationException", message)


class MalformedPolicyDocument(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("MalformedPolicyDocumentException", message)


def as_list(value: Any) -> list[Any]:
    """A policy element that may be one value or a list of them, as a list."""
    return value if isinstance(value, list) else [value]


def aws_principals(stmt: dict[str, Any]) -> list[str]:
    """The statement's AWS principals (`*` for a bare wildcard); service principals are not callers here."""
    block = stmt.get("Principal")
    if block == "*":
        return ["*"]
    if not isinstance(block, dict):
        return []
    return [str(v) for kind, values in block.items() if kind == "AWS" for v in as_list(values)]


def _allows_caller_put(policy: dict[str, Any], account: str) -> bool:
    caller = {"*", account, f"arn:aws:iam::{account}:root"}
    for stmt in as_list(policy.get("Statement", [])):
        if not isinstance(stmt, dict) or stmt.get("Effect") != "Allow" or "Condition" in stmt:
            continue
        actions = [str(a).lower() for a in as_list(stmt.get("Action", []))]
        if caller & set(aws_principals(stmt)) and any(
            fnmatch.fnmatchcase("kms:putkeypolicy", a) for a in actions
        ):
            return True
    return False


def check(policy_text: str, account: str, bypass: bool) -> None:
    """Raise what AWS raises for a key policy it would refuse."""
    try:
        policy = json.loads(policy_text)
    except ValueError:
        raise MalformedPolicyDocument("The policy is not valid JSON.") from None
    iam = iam_backends[account]["global"]
    for stmt in as_list(policy.get("Statement", [])):
        if not isinstance(stmt, dict) or ("Principal" not in stmt and "NotPrincipal" not in stmt):
            raise MalformedPolicyDocument(PRINCIPAL_MESSAGE)
        for principal in aws_principals(stmt):
            if principal.startswith(f"arn:aws:iam::{account}:role/"):
                try:
                    iam.get_role_by_arn(principal)
                except NotFoundException:
                    raise MalformedPolicyDocument(PRINCIPAL_MESSAGE) from None
    if not bypass and not _allows_caller_put(policy, account):
        raise MalformedPolicyDocument(LOCKOUT_MESSAGE)


def _put_key_policy(self: Any) -> str:
    bypass = bool(self._get_param("BypassPolicyLockoutSafetyCheck", False))
    check(self._get_param("Policy") or "", self.current_account, bypass)
    original: Callable[[Any], str] = _ORIGINAL["put_key_policy"]
    return original(self)


def _get_public_key(self: Any, key_id: str) -> Any:
    key = self.describe_key(key_id)
    if key.key_spec not in ASYMMETRIC_SPECS:
        raise UnsupportedOperation(
            f"{key.arn} is a {key.key_spec} key: only asymmetric keys have a public key."
        )
    return _ORIGINAL["get_public_key"](self, key_id)


_ORIGINAL: dict[str, Any] = {}


def patch(replace: Callable[[type[Any], str, Any], None]) -> None:
    """Install the checks through the sandbox's one patch registry (`patches._replace`)."""
    _ORIGINAL["put_key_policy"] = _kms_responses.KmsResponse.__dict__["put_key_policy"]
    replace(_kms_responses.KmsResponse, "put_key_policy", _put_key_policy)
    _ORIGINAL["get_public_key"] = _kms_models.KmsBackend.__dict__["get_public_key"]
    replace(_kms_models.KmsBackend, "get_public_key", _get_public_key)
