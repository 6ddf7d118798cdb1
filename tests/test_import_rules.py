"""The package's import rules, enforced by parsing every import of `remediate/` (issue 11).

Every `import` and `from ... import` counts, wherever it is written (module level or inside a function),
except those under `if TYPE_CHECKING:`, which never run. An edge goes to the module named; `from pkg
import name` goes to `pkg.name` when that is a module. The rules (docs/architecture.md):

- no import cycle anywhere;
- only `remediate.cli` imports click or rich;
- checks import neither boto3/botocore nor the AWS access (`remediate.aws`) or observation layers;
- actions do not import checks;
- nothing outside `remediate.cli` imports the sandbox, and the sandbox imports nothing of the engine;
- nothing imports modules by computed name (`importlib.import_module`), which would hide an edge;
- the probe function (`remediate.probe_function`) imports nothing else of the package (issue 22).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "remediate"


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import node that can run: all of them but those inside `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking(node):
            yield from (n for child in node.orelse for n in _imports_in(child))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _imports(node)


@functools.cache
def _scan(source: str) -> tuple[list[tuple[int, str | None, list[str]]], list[str]]:
    """(imports as (level, module, names), computed-name import calls) of one file's text; cached by text,
    so the planted copies of the package parse only the file that differs."""
    tree = ast.parse(source)
    imports: list[tuple[int, str | None, list[str]]] = []
    for node in _imports(tree):
        if isinstance(node, ast.Import):
            imports += [(0, a.name, []) for a in node.names]
        else:
            imports.append((node.level, node.module, [a.name for a in node.names]))
    dynamic = [
        ast.unparse(call)
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "import_module"
    ]
    return imports, dynamic


def graph(root: Path = ROOT) -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, list[str]]]:
    """(edges between remediate modules, third-party top-level imports, computed-name imports) per module."""
    files = {_module_name(p, root): p for p in root.rglob("*.py")}
    edges: dict[str, set[str]] = {m: set() for m in files}
    external: dict[str, set[str]] = {m: set() for m in files}
    dynamic: dict[str, list[str]] = {m: [] for m in files}
    for module, path in files.items():
        imports, dynamic[module] = _scan(path.read_text())
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for level, module_name, imported in imports:
            if not imported:
                names: list[tuple[str, str | None]] = [(module_name or "", None)]
            else:
                base = module_name or ""
                if level:
                    parts = package.split(".")[: len(package.split(".")) - level + 1]
                    base = ".".join([*parts, *([base] if base else [])])
                names = [(base, name) for name in imported]
            for base, name in names:
                top = base.split(".")[0]
                if top != root.name:
                    external[module].add(top)
                    continue
                target = f"{base}.{name}" if name and f"{base}.{name}" in files else base
                if target in files and target != module:
                    edges[module].add(target)
    return edges, external, dynamic


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def depth(edges: dict[str, set[str]]) -> int:
    """The longest chain of imports (a module importing nothing of the package has depth 1)."""

    @functools.cache
    def of(module: str) -> int:
        return 1 + max((of(m) for m in edges[module]), default=0)

    return max(of(m) for m in edges)


def violations(root: Path = ROOT) -> list[str]:
    edges, external, dynamic = graph(root)
    pkg = root.name
    out = [f"import cycle: {' <-> '.join(c)}" for c in cycles(edges)]

    def within(module: str, package: str) -> bool:
        return module == f"{pkg}.{package}" or module.startswith(f"{pkg}.{package}.")

    for module in sorted(edges):
        if not within(module, "cli"):
            out += [
                f"{module} imports {lib} (only cli/ may)"
                for lib in sorted(external[module] & {"click", "rich"})
            ]
        out += [f"{module} imports by computed name: {call}" for call in dynamic[module]]
        if not within(module, "cli") and not within(module, "sandbox"):
            out += [
                f"{module} imports the sandbox {t}" for t in sorted(edges[module]) if within(t, "sandbox")
            ]
        if within(module, "sandbox"):
            out += [
                f"sandbox module {module} imports {t}"
                for t in sorted(edges[module])
                if not within(t, "sandbox")
            ]
        if within(module, "checks"):
            out += [
                f"check module {module} imports {lib}"
                for lib in sorted(external[module] & {"boto3", "botocore"})
            ]
            out += [
                f"check module {module} imports {t}"
                for t in sorted(edges[module])
                if t == f"{pkg}.aws" or within(t, "observe")
            ]
        if within(module, "actions"):
            out += [
                f"action module {module} imports {t}" for t in sorted(edges[module]) if within(t, "checks")
            ]
        # issue 22: the probe function's code is packaged alone into its Lambda zip.
        if within(module, "probe_function"):
            out += [
                f"probe function module {module} imports {t}"
                for t in sorted(edges[module])
                if not within(t, "probe_function")
            ]
    return out


def test_the_package_keeps_its_import_rules() -> None:
    assert violations() == []


def test_registries_import_every_module_explicitly() -> None:
    """Checks and actions register on import; each package names every module that registers one."""
    from remediate import actions, checks

    for package, decorator in ((checks, "@check("), (actions, "@register")):
        folder = Path(str(package.__file__)).parent
        registering = {p.stem for p in folder.glob("*.py") if decorator in p.read_text()} - {"base"}
        assert {m.__name__.rsplit(".", 1)[-1] for m in package.MODULES} == registering


PLANTS = {
    "cycle": ("remediate/plan.py", "from remediate.run import engine\n"),
    "click outside cli": ("remediate/run/engine.py", "def f():\n    import click\n"),
    "rich outside cli": ("remediate/ssm/handlers.py", "import rich.console\n"),
    "check reads AWS": ("remediate/checks/esm.py", "from remediate.aws import Aws\n"),
    "check imports boto3": ("remediate/checks/dns.py", "import boto3\n"),
    "check imports observe": ("remediate/checks/iam.py", "from remediate.observe import reads\n"),
    "action imports a check": ("remediate/actions/vpc.py", "from remediate.checks import esm\n"),
    "engine imports the sandbox": ("remediate/run/machine.py", "from remediate.sandbox import Sandbox\n"),
    "sandbox imports the engine": (
        "remediate/sandbox/scenarios.py",
        "from remediate import required_access\n",
    ),
    "probe function imports the package": (  # issue 22
        "remediate/probe_function/handler.py",
        "from remediate import findings\n",
    ),
    "computed import": ("remediate/actions/__init__.py", "import importlib\nimportlib.import_module('x')\n"),
}


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_planted_violation_is_caught(plant: str, tmp_path: Path) -> None:
    """The rules can fail: a copy of the package with one bad import planted in it is refused."""
    import shutil

    copy = tmp_path / "remediate"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    relative, line = PLANTS[plant]
    target = tmp_path / relative
    target.write_text(target.read_text() + "\n" + line)
    assert violations(copy) != []
    assert violations(ROOT) == []
