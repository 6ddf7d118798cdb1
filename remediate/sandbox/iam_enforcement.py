"""moto's IAM enforcement of identity policies, switched on for a block of requests (issue 27).

moto can check every request against the caller's IAM policies (`INITIAL_NO_AUTH_ACTION_COUNT`, which
`POST /moto-api/reset-auth` sets in server mode). The sandbox runs moto in this process, so `enforced()`
sets it directly and restores it. Three moto gaps would turn correct policies into false denials, and are
closed here, each against AWS's pages:
- moto names the action by the request's signing name, and CloudWatch signs as `monitoring`: its
  actions are `cloudwatch:*` ("Actions, resources, and condition keys for Amazon CloudWatch").
- MSK's topic APIs are authorized as `kafka-cluster:*` actions (`AUTHORIZED_AS`).
- moto's SigV4 check hashes bodyless REST requests (Lambda, MSK GETs) differently from botocore, so
  every such request fails with SignatureDoesNotMatch; the signature is not checked (the access key still
  is: an unknown key fails).
Not modelled (moto 5.2): resource ARNs for most services (moto passes "*", so a policy must name "*" to
be tested this way, as `iam-policy` without --account does), conditions on most keys, dependent actions,
resource-based policies.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

_LOCK = threading.Lock()
_DENIED: list[tuple[str, str]] = []
"""(action, resource) of every request refused while enforcement is on."""
SERVICE_PREFIX = {"monitoring": "cloudwatch"}
"""Signing name -> the IAM service prefix, where they differ (Service Authorization Reference)."""
AUTHORIZED_AS = {
    "kafka:ListTopics": ("kafka-cluster:Connect", "kafka-cluster:DescribeTopic"),
    "kafka:DescribeTopic": ("kafka-cluster:Connect", "kafka-cluster:DescribeTopic"),
}
"""Operations IAM authorizes as other actions: MSK's topic APIs need kafka-cluster:Connect and
kafka-cluster:DescribeTopic (MSK developer guide, "Topic Operations"; the project encodes the same in
remediate/iam_policy.py)."""


def _patched() -> None:
    from moto.iam import access_control

    base: Any = access_control.IAMRequestBase
    if getattr(base, "_remediate_patched", False):
        return
    original_init = base.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        service, _, action = self._action.partition(":")
        self._action = f"{SERVICE_PREFIX.get(service, service)}:{action}"

    original_check = base.check_action_permitted

    def check_action_permitted(self: Any, resource: str) -> None:
        for action in AUTHORIZED_AS.get(self._action, (self._action,)):
            self._action = action
            try:
                original_check(self, resource)
            except Exception:
                _DENIED.append((action, resource))
                raise

    base.__init__ = __init__
    base.check_action_permitted = check_action_permitted
    base.check_signature = lambda self: None
    base._remediate_patched = True


@contextlib.contextmanager
def enforced() -> Iterator[list[tuple[str, str]]]:
    """Every request in the block is authorized against its caller's identity policies; yields the
    list of (action, resource) refused, filled as the block runs (a denied read that the tool turns
    into COULD_NOT_CHECK shows here although the command succeeds)."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    _patched()
    with _LOCK:
        before = settings.INITIAL_NO_AUTH_ACTION_COUNT
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0
        _DENIED.clear()
        try:
            yield _DENIED
        finally:
            settings.INITIAL_NO_AUTH_ACTION_COUNT = before
