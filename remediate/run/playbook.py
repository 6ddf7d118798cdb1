"""Playbooks: YAML that declares which checks detect a failure class and which actions fix it.

Python implements checks and actions; YAML only names them, so a playbook can be read and reviewed
by someone who does not read Python. Loading validates strictly (`extra="forbid"`), resolves every
name against the registries and every action's parameters against its schema, so a typo fails
`remediate playbooks validate` instead of a run.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from remediate import actions, checks
from remediate.errors import ConfigError
from remediate.evidence import EVIDENCE, accepts
from remediate.findings import CODES


def _shipped_dir() -> Path:
    """Where the shipped playbooks are: beside the package in a checkout or an SSM bundle, else where a
    wheel installs them (`<prefix>/share/remediate/playbooks`, see pyproject's data-files)."""
    beside = Path(__file__).resolve().parents[2] / "playbooks"
    installed = Path(sys.prefix) / "share" / "remediate" / "playbooks"
    return beside if beside.is_dir() or not installed.is_dir() else installed


SHIPPED_DIR = _shipped_dir()


class ActionRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    action: str
    params: dict[str, Any] = Field(default_factory=dict)


class Playbook(BaseModel):
    """One failure class: what detects it, what fixes it, and when it does not apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    seed_section: str = ""
    findings: tuple[str, ...] = Field(min_length=1)
    checks: tuple[str, ...] = Field(min_length=1)
    actions: tuple[ActionRef, ...] = ()
    unless: tuple[str, ...] = Field(
        (), description="finding codes that explain the same symptom better: if any is found, skip"
    )
    exclusive: bool = Field(False, description="applies only when no other failure is found")
    alternatives: dict[str, tuple[ActionRef, ...]] = Field(
        default_factory=dict,
        description="fixes used instead of `actions` only when chosen with `--fix-with NAME`; a plan that "
        "does not choose one lists what it would change",
    )
    enable_disabled_esm: bool = Field(
        True,
        description="when its changes fix a disabled ESM, also enable it (AWS disables an ESM that keeps "
        "failing; fixing the cause does not enable it again)",
    )


@dataclass(frozen=True)
class PlaybookError:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _problems(pb: Playbook) -> list[str]:
    out: list[str] = []
    check_reg = checks.registry()
    action_reg = actions.registry()
    for code in (*pb.findings, *pb.unless):
        if code not in CODES:
            out.append(f"unknown finding code {code!r}")
    emitted: set[str] = set()
    for name in pb.checks:
        chk = check_reg.get(name)
        if chk is None:
            out.append(f"unknown check {name!r} (registered: {', '.join(sorted(check_reg))})")
        else:
            emitted.update(chk.codes)
    for code in pb.findings:
        if code in CODES and check_reg.keys() >= set(pb.checks) and code not in emitted:
            out.append(f"finding {code} is emitted by none of its checks")
    for name in pb.alternatives:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
            out.append(f"alternative {name!r}: names are lower-case words joined by '-'")
    for ref in (*pb.actions, *(r for refs in pb.alternatives.values() for r in refs)):
        act = action_reg.get(ref.action)
        if act is None:
            out.append(f"unknown action {ref.action!r} (registered: {', '.join(sorted(action_reg))})")
            continue
        try:
            act.Params.model_validate(ref.params)
        except ValidationError as exc:
            err = exc.errors()[0]
            out.append(f"action {ref.action}: parameter {'.'.join(map(str, err['loc']))}: {err['msg']}")
        out += [
            f"action {ref.action} cannot read the evidence of {code} "
            f"({' or '.join(t.__name__ for t in EVIDENCE[code])}; it reads "
            f"{', '.join(t.__name__ for t in act.accepts)})"
            for code in pb.findings
            if code in CODES and not accepts(act.accepts, code)
        ]
    return out


# libyaml's safe loader where PyYAML was built with it (its wheels are): every command loads every
# playbook, and the pure-Python loader takes about ten times as long for the same safe subset.
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml_error(exc: yaml.YAMLError) -> str:
    """A YAML error in one line (issue 23, operator-hunt N26): what is wrong and where, not PyYAML's
    several lines with the offending text quoted under a caret."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    context = getattr(exc, "context", None)
    return f"invalid YAML{where}: {problem}" + (f" ({context})" if context else "")


def load_dir(directory: Path) -> tuple[list[Playbook], list[PlaybookError]]:
    """Every `*.yaml` in `directory`, validated; errors are collected, not raised, for `validate`."""
    books: list[Playbook] = []
    errors: list[PlaybookError] = []
    if not directory.is_dir():
        return [], [PlaybookError(str(directory), "not a directory")]
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
            pb = Playbook.model_validate(data)
        except yaml.YAMLError as exc:
            errors.append(PlaybookError(str(path), _yaml_error(exc)))
            continue
        except UnicodeDecodeError as exc:
            errors.append(PlaybookError(str(path), f"not UTF-8 text (byte {exc.start})"))
            continue
        except ValidationError as exc:
            err = exc.errors()[0]
            errors.append(PlaybookError(str(path), f"{'.'.join(map(str, err['loc']))}: {err['msg']}"))
            continue
        if pb.name != path.stem:
            errors.append(PlaybookError(str(path), f"name {pb.name!r} must match the file name"))
        errors.extend(PlaybookError(str(path), p) for p in _problems(pb))
        books.append(pb)
    names = [b.name for b in books]
    errors.extend(
        PlaybookError(str(directory), f"duplicate playbook {n!r}") for n in set(names) if names.count(n) > 1
    )
    return books, errors


def load(extra_dir: Path | None = None) -> list[Playbook]:
    """The shipped playbooks (plus `extra_dir`'s); raise ConfigError on the first invalid one."""
    books, errors = load_dir(SHIPPED_DIR)
    if extra_dir is not None:
        more, more_errors = load_dir(extra_dir)
        books += more
        errors += more_errors
    if errors:
        raise ConfigError(f"invalid playbook: {errors[0]}")
    return books
