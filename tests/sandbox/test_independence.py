"""The sandbox is an independent witness: it imports nothing of remediate outside remediate.sandbox.

If a scenario took its IAM actions (or any other AWS rule) from the engine's tables, a wrong table would make
scenario and check agree and no test could notice. So every module under remediate/sandbox is parsed and each
import, module-level or inside a function, relative or absolute, or a literal ``importlib.import_module`` /
``__import__`` call, must stay inside ``remediate.sandbox``. See docs/sandbox.md.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import remediate.sandbox

SANDBOX_DIR = Path(remediate.sandbox.__file__).resolve().parent
SANDBOX_PACKAGE = "remediate.sandbox"
_ROOT = "remediate"


def _allowed(module: str) -> bool:
    """Whether importing ``module`` keeps the sandbox independent of the engine."""
    if module != _ROOT and not module.startswith(_ROOT + "."):
        return True  # the standard library, moto, boto3, cryptography...
    return module == SANDBOX_PACKAGE or module.startswith(SANDBOX_PACKAGE + ".")


def _package_of(path: Path) -> str:
    """The package a module under remediate/sandbox belongs to (what relative imports resolve against)."""
    parts = path.resolve().relative_to(SANDBOX_DIR).parent.parts
    return ".".join((SANDBOX_PACKAGE, *parts))


def _resolve(node: ast.ImportFrom, package: str) -> str:
    if node.level == 0:
        return node.module or ""
    base = package.split(".")
    if node.level - 1 >= len(base):
        return ""  # beyond the top-level package: not an import of remediate
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _literal_import_target(node: ast.Call) -> str | None:
    """``importlib.import_module("x")``, ``import_module("x")`` or ``__import__("x")`` with a literal name."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def violations(source: str, package: str = SANDBOX_PACKAGE, filename: str = "<source>") -> list[str]:
    """Every import in ``source`` that reaches remediate outside remediate.sandbox, as ``file:line: what``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found += [
                f"{filename}:{node.lineno}: import {alias.name}"
                for alias in node.names
                if not _allowed(alias.name)
            ]
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(node, package)
            dots = "." * node.level
            if module == _ROOT:
                # ``from remediate import X`` (or ``from .. import X``): each name is a module of remediate.
                found += [
                    f"{filename}:{node.lineno}: from {dots}{node.module or ''} import {alias.name}"
                    for alias in node.names
                    if not _allowed(f"{_ROOT}.{alias.name}")
                ]
            elif not _allowed(module):
                names = ", ".join(alias.name for alias in node.names)
                found.append(f"{filename}:{node.lineno}: from {dots}{node.module or ''} import {names}")
        elif isinstance(node, ast.Call):
            target = _literal_import_target(node)
            if target is not None and not _allowed(target):
                found.append(f"{filename}:{node.lineno}: dynamic import of {target}")
    return found


def _sandbox_modules() -> list[Path]:
    return sorted(SANDBOX_DIR.rglob("*.py"))


def test_every_sandbox_module_is_checked() -> None:
    names = {path.name for path in _sandbox_modules()}
    assert {"__init__.py", "scenarios.py", "patches.py", "server.py", "faults.py"} <= names


@pytest.mark.parametrize("path", _sandbox_modules(), ids=lambda path: path.name)
def test_sandbox_module_imports_nothing_from_the_engine(path: Path) -> None:
    name = str(path.relative_to(SANDBOX_DIR))
    found = violations(path.read_text(encoding="utf-8"), _package_of(path), name)
    assert not found, (
        "remediate/sandbox must not import remediate outside remediate.sandbox (it is an independent "
        "witness: state AWS's rules literally from the documentation, see docs/sandbox.md):\n"
        + "\n".join(found)
    )


@pytest.mark.parametrize(
    "source",
    [
        "from remediate.needs import NETWORK_ACTIONS",
        "import remediate.policy",
        "import remediate",
        "from remediate import needs",
        "from remediate import sandbox, engine",
        "from .. import needs",
        "from ..needs import NETWORK_ACTIONS",
        "def f():\n    from remediate.needs import NETWORK_ACTIONS\n    return NETWORK_ACTIONS",
        "class C:\n    def m(self):\n        import remediate.facts as facts",
        "import importlib\nimportlib.import_module('remediate.engine')",
        "__import__('remediate.needs')",
    ],
)
def test_the_check_catches_an_engine_import(source: str) -> None:
    assert violations(textwrap.dedent(source)), source


@pytest.mark.parametrize(
    "source",
    [
        "from remediate.sandbox.server import Sandbox",
        "from remediate.sandbox import patches",
        "from remediate import sandbox",
        "import remediate.sandbox.faults",
        "from . import patches",
        "from .operations import identify",
        "import json\nfrom moto.kafka import models",
        "def f():\n    from cryptography import x509",
    ],
)
def test_the_check_allows_sandbox_and_third_party_imports(source: str) -> None:
    assert violations(source) == []


def test_importing_the_sandbox_loads_no_engine_module() -> None:
    """The same rule at run time, in a fresh interpreter (catches imports the parser cannot see)."""
    probe = (
        "import sys, remediate.sandbox, remediate.sandbox.__main__\n"
        "print('\\n'.join(m for m in sys.modules if m == 'remediate' or m.startswith('remediate.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(result.stdout.split())
    assert loaded, result.stderr
    assert {m for m in loaded if not _allowed(m) and m != _ROOT} == set()
