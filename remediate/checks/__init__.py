"""The check registry. A check is a pure function `Facts -> list[Finding]`: it never calls AWS.

Checks register by name with the codes they can emit; playbooks name the checks they run, so the
registry is what `remediate playbooks validate` resolves names against. Importing this package
imports every check module, which is what registers them.
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


def registry() -> dict[str, Check]:
    return dict(_REGISTRY)


def run_check(name: str, facts: Facts) -> list[Finding]:
    chk = _REGISTRY[name]
    findings = chk.fn(facts)
    stray = [f.code for f in findings if f.code not in chk.codes]
    if stray:
        raise AssertionError(f"check {name} emitted undeclared code(s) {stray}")
    return findings


def _register_all() -> None:
    """Import every module of this package: importing a module is what registers its checks."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_register_all()
