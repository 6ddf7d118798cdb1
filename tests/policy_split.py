"""What a narrowed policy may add besides Remediate* Allows (issue 23, operator-hunt N28)."""

from __future__ import annotations

from typing import Any


def split_off_deny(added: dict[str, Any], old: list[dict[str, Any]], new: list[dict[str, Any]]) -> bool:
    """issue 23 (N28): an added Deny is the blocked action split off a user's Deny that listed it beside
    others: that statement, unchanged but for the one action now missing from its list."""
    if added.get("Effect") != "Deny" or not isinstance(added.get("Action"), str):
        return False
    for was, now in zip(old, new, strict=False):
        listed = was.get("Action") if isinstance(was.get("Action"), list) else []
        rest = [a for a in listed if a.lower() != added["Action"].lower()]  # actions ignore case
        if was.get("Effect") == "Deny" and len(rest) < len(listed) and rest:
            same = {k: v for k, v in was.items() if k not in ("Sid", "Action", "Condition", "NotPrincipal")}
            mine = {k: v for k, v in added.items() if k not in ("Sid", "Action", "Condition", "NotPrincipal")}
            if same == mine and now.get("Action") in (rest, rest[0] if len(rest) == 1 else None):
                return True
    return False
