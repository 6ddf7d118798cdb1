"""Issue 21 (item 4) in the sandbox: FilterLogEvents' filter patterns with `?` (any of the terms).

moto evaluates a pattern of plain words or one quoted phrase and lets every event through for anything else,
so `?"Failed authentication" ?"No space left on device"` would return the whole log group. CloudWatch Logs
user guide, "Filter pattern syntax for metric filters, subscription filters, filter log events, and Live
Tail" (FilterAndPatternSyntax.html), for unstructured log events: terms are case-sensitive; a term in double
quotes is an exact phrase; space-separated terms must all appear; `?TERM ?TERM` returns the events that hold
any of them (the Lightsail GetContainerLog reference states the same form: "To return log events that
contain the ERROR or the Exception term, specify a filter pattern of "?ERROR ?Exception"").

Only patterns made entirely of `?` terms are evaluated here; every other pattern stays moto's.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Final

from moto.logs import models as _logs_models

__all__ = ["any_of", "patch"]

_TERM: Final = re.compile(r'\?("([^"]*)"|(\S+))')
_LOCK = threading.Lock()
_PRIOR: dict[str, Any] = {}


def any_of(pattern: str) -> tuple[str, ...] | None:
    """The terms of a pattern made only of `?` terms (quoted phrases unquoted), else None."""
    text = pattern.strip()
    if not text.startswith("?"):
        return None
    terms = []
    position = 0
    for match in _TERM.finditer(text):
        if text[position : match.start()].strip():
            return None
        terms.append(match.group(2) if match.group(2) is not None else match.group(3))
        position = match.end()
    if text[position:].strip() or not terms:
        return None
    return tuple(terms)


class _AnyOf:
    def __init__(self, terms: tuple[str, ...]) -> None:
        self.terms = terms

    def matches(self, message: str) -> bool:
        return any(term in message for term in self.terms)


def _filter(pattern: str) -> Any:
    terms = any_of(pattern or "")
    return _AnyOf(terms) if terms is not None else _PRIOR["EventMessageFilter"](pattern)


def patch() -> None:
    """Install once per process: moto's log stream looks `EventMessageFilter` up in its models module."""
    with _LOCK:
        if _PRIOR:
            return
        _PRIOR["EventMessageFilter"] = _logs_models.EventMessageFilter  # type: ignore[attr-defined]
        _logs_models.EventMessageFilter = _filter  # type: ignore[attr-defined,assignment]
