"""Denied reads, logged once each with the number of mappings they affect (issue 26).

A read the role may not make is made once per scan (its failure is cached with the shared piece), but
every mapping that needs the piece reports it as "could not check": logging at that point wrote one
warning per mapping (2,000 lines for two denials in a 1,000-mapping scan). Observation notes each denial
here; one mapping's observation logs its denials when it ends, except inside `collected()` (a scan),
which counts the mappings each denial affects and logs each once when the scan is over.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from remediate.facts import Unchecked
from remediate.log import get_logger

log = get_logger(__name__)

_lock = threading.Lock()
_denials: set[tuple[str, str]] = set()  # (what, reason) of every Unchecked that a denial made
_counts: Counter[tuple[str, str]] | None = None  # inside collected(): mappings per denial


def noted(unchecked: Unchecked) -> None:
    """This Unchecked is a denied read (not, say, a cluster that no longer exists)."""
    with _lock:
        _denials.add((unchecked.what, unchecked.reason))


def met(unchecked: Iterable[Unchecked]) -> None:
    """One mapping's observation ended with these: log its denials, or count them inside `collected()`."""
    mine = sorted({(u.what, u.reason) for u in unchecked})
    with _lock:
        mine = [key for key in mine if key in _denials]
        if _counts is not None:
            _counts.update(mine)
            return
    for what, reason in mine:
        log.warning("observe.denied", what=what, reason=reason, mappings=1)


@contextmanager
def collected() -> Iterator[None]:
    """Count the denials the observations met inside, and log each once, with its mappings, at the end."""
    global _counts
    with _lock:
        outer, _counts = _counts, Counter()
    try:
        yield
    finally:
        with _lock:
            counts, _counts = _counts, outer
        for (what, reason), mappings in sorted(counts.items()):
            log.warning("observe.denied", what=what, reason=reason, mappings=mappings)
