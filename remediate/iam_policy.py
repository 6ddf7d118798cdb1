"""The least-privilege IAM policy of the tool itself, derived from what the code declares.

Observation declares its reads (`observe.reads.PERMISSIONS`, and `observe.listing.PERMISSIONS`),
the session its account check (`aws.PERMISSIONS`),
the ESM lock its tagging calls, and each registered action declares the
calls its apply and verify make, so this policy follows the code instead of a hand-kept list.
"""

from __future__ import annotations

from typing import Any, Literal

from remediate import actions, aws
from remediate.observe import listing, reads
from remediate.run import lock


def required_actions(mode: Literal["diagnose", "apply"] | str) -> list[str]:
    needed = {*reads.PERMISSIONS, *listing.PERMISSIONS, *aws.PERMISSIONS}
    if mode == "apply":
        needed.update(lock.PERMISSIONS)
        for action in actions.registry().values():
            needed.update(action.permissions)
    return sorted(needed)


def policy_document(mode: Literal["diagnose", "apply"] | str) -> dict[str, Any]:
    reads = [a for a in required_actions(mode) if a.split(":")[1].startswith(("Get", "List", "Describe"))]
    writes = [a for a in required_actions(mode) if a not in reads]
    statements: list[dict[str, Any]] = [
        # Describe* calls of EC2 and the MSK/Lambda reads do not support resource-level scoping.
        {"Sid": "RemediateObserve", "Effect": "Allow", "Action": reads, "Resource": "*"},
    ]
    if writes:
        statements.append({"Sid": "RemediateApply", "Effect": "Allow", "Action": writes, "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}
