"""Lambda's event filter grammar, as it applies to Kafka mappings (issue 25). Pure; the rules and their pages
are in `remediate.health`.

A pattern is a JSON object whose leaves are arrays of values or comparison objects, optionally combined with
"$or"; a Kafka record offers only its `value` to the pattern, so a pattern that names any other top-level key
matches no record and the mapping commits the offsets of what it dropped.
"""

from __future__ import annotations

import json
from typing import Any

from remediate import health


def _leaf_problems(path: str, value: Any) -> list[str]:
    if isinstance(value, dict):
        out = []
        for key, inner in value.items():
            if key == "$or":
                if not isinstance(inner, list) or not all(isinstance(p, dict) for p in inner):
                    out.append(f"{path}.$or is not an array of patterns")
                else:
                    for i, p in enumerate(inner):
                        out += _leaf_problems(f"{path}.$or[{i}]", p)
            else:
                out += _leaf_problems(f"{path}.{key}" if path else key, inner)
        return out
    if not isinstance(value, list):
        return [f"{path} is not an array of values"]
    for item in value:
        if isinstance(item, dict):
            unknown = set(item) - health.FILTER_OPERATORS
            if unknown:
                return [f"{path} uses {', '.join(sorted(unknown))}, not a filter operator"]
        elif isinstance(item, list):
            return [f"{path} nests an array"]
    return []


def pattern_problems(pattern: str) -> list[str]:
    """Why Lambda's filter grammar refuses `pattern` (empty: it is well formed)."""
    if len(pattern) > health.FILTER_PATTERN_MAX:
        return [f"the pattern is {len(pattern)} characters, over {health.FILTER_PATTERN_MAX}"]
    try:
        parsed = json.loads(pattern)
    except ValueError:
        return ["the pattern is not JSON"]
    if not isinstance(parsed, dict):
        return ["the pattern is not a JSON object"]
    return _leaf_problems("", parsed)


def off_value_keys(pattern: str) -> list[str]:
    """The top-level keys of a well-formed pattern other than `value` (a Kafka record offers no other)."""
    try:
        parsed = json.loads(pattern)
    except ValueError:
        return []
    if not isinstance(parsed, dict):
        return []
    keys: list[str] = []
    for key, inner in parsed.items():
        if key == "$or" and isinstance(inner, list):
            keys += [k for p in inner if isinstance(p, dict) for k in p if k != health.KAFKA_FILTER_KEY]
        elif key != health.KAFKA_FILTER_KEY:
            keys.append(key)
    return sorted(set(keys))
