"""The check registry: `@check(name, *codes)` registers a pure function `Facts -> list[Finding]`.

Checks register by name with the codes they can emit; playbooks name the checks they run, so the
registry is what `remediate playbooks validate` resolves names against. The package `remediate.checks`
imports every check module explicitly, which is what fills the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from remediate.facts import Facts
from remediate.findings import CODES, Finding

CheckFn = Callable[[Facts], list[Finding]]


@dataclass(frozen=True)
class Check:
    name: str
    codes: tuple[str, ...]
    fn: CheckFn
    doc: str


_REGISTRY: dict[str, Check] = {}


def check(name: str, *codes: str) -> Callable[[CheckFn], CheckFn]:
    """Register a check under `name`, declaring the finding codes it may emit."""
    unknown = [c for c in codes if c not in CODES]
    if unknown:
        raise ValueError(f"check {name}: unknown finding code(s) {unknown}")

    def register(fn: CheckFn) -> CheckFn:
        if name in _REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        _REGISTRY[name] = Check(
            name, codes, fn, (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        )
        return fn

    return register


def registered() -> dict[str, Check]:
    return dict(_REGISTRY)


def run_check(name: str, facts: Facts) -> list[Finding]:
    chk = _REGISTRY[name]
    findings = chk.fn(facts)
    stray = [f.code for f in findings if f.code not in chk.codes]
    if stray:
        raise AssertionError(f"check {name} emitted undeclared code(s) {stray}")
    return findings
