"""SQS SendMessage and SNS Publish to a queue or topic encrypted with a customer managed key (issue 24, S5).

moto accepts a message whatever the sender may do with the queue's or topic's KMS key. AWS does not: a
producer of an SSE-KMS queue or topic uses the key, so the key policy (and, where it delegates to IAM, the
producer's IAM policies) must allow it kms:GenerateDataKey and kms:Decrypt. Pages: Amazon SQS developer
guide, "Amazon SQS key management", Configuring AWS KMS permissions ("For a customer managed KMS key, you
must configure the key policy to add permissions for each queue producer and consumer ... Alternatively, you
can specify the required permissions in an IAM policy assigned to the principals that produce and consume
encrypted messages", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/
sqs-key-management.html); AWS End User Messaging SMS guide, "Amazon SNS access policy" (a publisher to an
encrypted topic needs "kms:GenerateDataKey", "kms:Decrypt" on the topic's key). The stored copies of the SQS
producer example and of the SNS key-management page were cut, so the two actions are those the SMS page
names for a publisher. The refusals are AWS's error shapes from the API models: SQS SendMessage
`KmsAccessDenied` ("The caller doesn't have the required KMS access."), SNS Publish `KMSAccessDenied` (HTTP
400, "The ciphertext references a key that doesn't exist or that you don't have access to.").

Only callers that are an assumed role are judged; the sandbox's own callers are the account's root. A
statement with a Condition decides nothing here (the sandbox cannot evaluate its keys), which makes the
sandbox stricter than AWS for such an Allow, never looser. This module imports nothing of the engine.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import ServiceException
from moto.iam.models import iam_backends
from moto.kms.models import kms_backends
from moto.sns import responses as _sns_responses
from moto.sqs import responses as _sqs_responses
from moto.sts.models import sts_backends

from remediate.sandbox.key_policies import as_list, aws_principals

PRODUCER_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


class _SqsKmsAccessDenied(ServiceException):
    code = "KmsAccessDenied"
    message = "The caller doesn't have the required KMS access."


class _SnsKmsAccessDenied(ServiceException):
    code = "KMSAccessDenied"
    message = "The ciphertext references a key that doesn't exist or that you don't have access to."


def _matches(patterns: Any, value: str) -> bool:
    return any(fnmatch.fnmatchcase(value.lower(), str(p).lower()) for p in as_list(patterns))


def _effects(
    document: str | dict[str, Any] | None, action: str, resource: str, who: set[str] | None
) -> set[str]:
    """The effects of the statements that apply to `action` on `resource` (for `who`, in a key policy)."""
    if not document:
        return set()
    policy = json.loads(document) if isinstance(document, str) else document
    found: set[str] = set()
    for stmt in as_list(policy.get("Statement", [])):
        if not isinstance(stmt, dict) or "Condition" in stmt or "Action" not in stmt:
            continue
        if not _matches(stmt["Action"], action) or not _matches(stmt.get("Resource", "*"), resource):
            continue
        if who is not None and not who & set(aws_principals(stmt)):
            continue
        found.add(str(stmt.get("Effect")))
    return found


def _role_documents(role_arn: str, account: str) -> list[Any]:
    iam = iam_backends[account]["aws"]
    try:
        role = iam.get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001 - a role deleted since: nothing allows
        return []
    managed = [getattr(p, "document", None) for p in role.managed_policies.values()]
    return [*role.policies.values(), *managed]


def may_use(role_arn: str, account: str, region: str, key_ref: str, action: str) -> bool:
    """Whether the role may `action` the key: the key policy allows the role itself, or allows the account
    (delegating to IAM) and an identity policy of the role allows it; any matching Deny wins."""
    kms = kms_backends[account][region]
    try:
        key = kms.describe_key(key_ref)
    except Exception:  # noqa: BLE001 - an unknown key: AWS refuses the send as well
        return False
    key_arn = str(key.arn)
    key_effects = _effects(key.policy, action, key_arn, {role_arn, "*"})
    delegated = _effects(key.policy, action, key_arn, {account, f"arn:aws:iam::{account}:root"})
    identity = set().union(*(_effects(d, action, key_arn, None) for d in _role_documents(role_arn, account)))
    if "Deny" in key_effects | delegated | identity:
        return False
    return "Allow" in key_effects or ("Allow" in delegated and "Allow" in identity)


def _customer_key(key_ref: str | None) -> bool:
    return bool(key_ref) and "alias/aws/" not in str(key_ref)


def _caller_role(response: Any) -> str | None:
    """The role ARN behind the request's access key, when the caller is an assumed role."""
    access_key = response.get_access_key()
    for backend in sts_backends.values():
        for partition in backend.values():
            assumed = partition.get_assumed_role_from_access_key(access_key)
            if assumed is not None:
                return str(assumed.role_arn)
    return None


def _refuse(response: Any, key_ref: str | None, error: type[ServiceException]) -> None:
    if not _customer_key(key_ref):
        return
    role = _caller_role(response)
    if role is None:
        return
    account = role.split(":")[4]
    if not all(may_use(role, account, response.region, str(key_ref), a) for a in PRODUCER_ACTIONS):
        raise error()


def _send_message(self: Any) -> Any:
    queue = self.sqs_backend.get_queue(self._get_queue_name())
    _refuse(self, getattr(queue, "kms_master_key_id", None), _SqsKmsAccessDenied)
    return _ORIGINAL["send_message"](self)


def _publish(self: Any) -> Any:
    arn = self._get_param("TargetArn") or self._get_param("TopicArn")
    topic = self.backend.topics.get(arn) if arn else None
    if topic is not None:
        _refuse(self, getattr(topic, "kms_master_key_id", None), _SnsKmsAccessDenied)
    return _ORIGINAL["publish"](self)


_ORIGINAL: dict[str, Any] = {}


def patch(replace: Callable[[type[Any], str, Any], None]) -> None:
    """Install the checks through the sandbox's one patch registry (`patches._replace`)."""
    _ORIGINAL.setdefault("send_message", _sqs_responses.SQSResponse.__dict__["send_message"])
    _ORIGINAL.setdefault("publish", _sns_responses.SNSResponse.__dict__["publish"])
    replace(_sqs_responses.SQSResponse, "send_message", _send_message)
    replace(_sns_responses.SNSResponse, "publish", _publish)
