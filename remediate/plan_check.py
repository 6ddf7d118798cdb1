"""What a saved plan file may approve: only what the engine itself would plan, and never a rule no plan
may carry.

A plan file's digest is an unkeyed hash: anyone who edits the file can recompute it, so the digest
only catches accidents. What makes a file safe to apply is that its changes are the engine's own:
`apply FILE` re-plans from live state and requires the file's changes to equal that plan's (same ids,
actions, targets, kinds and attribute values), refusing in one line that names the first difference.

Some rules no plan may carry whatever made it, checked before any AWS call (`forbidden`):

- a security group rule open to every address (a CIDR of prefix length 0: 0.0.0.0/0, ::/0); the tool
  names security groups as peers, or at most the VPC's CIDR for a self-managed broker;
- a policy statement it adds that allows every action (`"Action": "*"`);
- a statement it adds to an identity policy (a role's inline policy) that allows a write on every
  resource (`"Resource": "*"` with an action other than Get/List/Describe). Resource policies are left
  out of this rule: in a VPC endpoint policy and a key policy `"Resource": "*"` is what AWS documents
  (the endpoint's services; "this KMS key").

Statements already in the document before the change are the owner's own and are not judged here.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from remediate.errors import PlanFileError
from remediate.plan import Change, Plan

IDENTITY_POLICY_ACTIONS = frozenset({"put_role_policy"})
_CIDR_KEYS = ("CidrIp", "CidrIpv4", "CidrIpv6")
_READS = ("Get", "List", "Describe")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    return [s for s in _listed(document.get("Statement")) if isinstance(s, dict)]


def _open_cidr(value: Any) -> str | None:
    """The first CIDR of prefix length 0 anywhere in `value`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _CIDR_KEYS and isinstance(item, str):
                try:
                    if ipaddress.ip_network(item, strict=False).prefixlen == 0:
                        return item
                except ValueError:
                    continue
            found = _open_cidr(item)
            if found:
                return found
    if isinstance(value, list):
        for item in value:
            found = _open_cidr(item)
            if found:
                return found
    return None


def _forbidden_statement(change: Change) -> str | None:
    document = change.after.get("PolicyDocument")
    own = {json.dumps(s, sort_keys=True) for s in _statements((change.before or {}).get("PolicyDocument"))}
    for statement in _statements(document):
        if json.dumps(statement, sort_keys=True) in own or statement.get("Effect") != "Allow":
            continue
        acts = [str(a) for a in _listed(statement.get("Action", []))]
        if "*" in acts:
            return 'allows "Action": "*"'
        resources = [str(r) for r in _listed(statement.get("Resource", []))]
        writes = [a for a in acts if not a.split(":")[-1].startswith(_READS)]
        if change.action in IDENTITY_POLICY_ACTIONS and "*" in resources and writes:
            return f'allows {writes[0]} on "Resource": "*"'
    return None


def forbidden(plan: Plan, source: str) -> None:
    """PlanFileError, one line, if any change carries a rule that no plan may carry."""
    for change in plan.changes:
        cidr = _open_cidr(change.after)
        what = f"opens a security group to {cidr}" if cidr else _forbidden_statement(change)
        if what:
            raise PlanFileError(
                f"{source} is refused: {change.id} {change.action} on {change.resource} {what}, "
                "which no remediate plan may carry"
            )


def _first_difference(mine: Any, theirs: Any, path: str) -> str | None:
    if isinstance(mine, dict) and isinstance(theirs, dict):
        for key in sorted(set(mine) | set(theirs), key=str):
            found = _first_difference(mine.get(key), theirs.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs):
        for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            found = _first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if mine == theirs else path


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def difference(saved: Plan, fresh: Plan) -> str | None:
    """The first way the saved plan's changes differ from the engine's fresh plan, in a few words."""
    for i in range(max(len(saved.changes), len(fresh.changes))):
        if i >= len(saved.changes):
            c = fresh.changes[i]
            return f"it lacks {c.id} {c.action} on {c.resource}, which remediate plans now"
        mine = saved.changes[i]
        if i >= len(fresh.changes):
            return f"{mine.id} {mine.action} on {mine.resource} is not a change remediate plans"
        theirs = fresh.changes[i]
        for field in ("id", "action", "resource", "kind"):
            a, b = getattr(mine, field), getattr(theirs, field)
            if a != b:
                return f"change {i + 1} has {field} {_short(a)}, remediate plans {_short(b)}"
        for field in ("before", "after"):
            a, b = getattr(mine, field), getattr(theirs, field)
            where = _first_difference(a, b, field)
            if where is not None:
                return (
                    f"{mine.id} {mine.action} on {mine.resource}: {where} differs from what remediate "
                    "plans now"
                )
    return None
