"""What a narrowed policy may add besides Remediate* Allows (issue 23, operator-hunt N28)."""

from __future__ import annotations

from typing import Any

_MAY_DIFFER = ("Sid", "Action", "Condition", "NotPrincipal")


def _shape(stmt: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in stmt.items() if k not in _MAY_DIFFER}


def split_off_deny(added: dict[str, Any], old: list[dict[str, Any]], new: list[dict[str, Any]]) -> bool:
    """issue 23 (N28): an added Deny is a blocked action split off a user's Deny that listed it beside
    others: that statement, unchanged but for the actions split off (one added Deny each) now missing
    from its list."""
    if added.get("Effect") != "Deny" or not isinstance(added.get("Action"), str):
        return False
    splits = [s for s in new[len(old) :] if s.get("Effect") == "Deny" and isinstance(s.get("Action"), str)]
    for was, now in zip(old, new, strict=False):
        listed = was.get("Action") if isinstance(was.get("Action"), list) else []
        if was.get("Effect") != "Deny" or _shape(was) != _shape(added):
            continue
        if added["Action"].lower() not in {a.lower() for a in listed}:  # actions ignore case
            continue
        off = {s["Action"].lower() for s in splits if _shape(s) == _shape(was)}
        rest = [a for a in listed if a.lower() not in off]
        if (
            rest
            and _shape(now) == _shape(was)
            and now.get("Action") in (rest, rest[0] if len(rest) == 1 else None)
        ):
            return True
    return False
