"""The plan: ordered `Change`s and manual steps, saved as JSON and refused when stale.

A plan is data, never code: each change names a registered action, the resource, the attributes
before and after, and the findings it answers. `fingerprint` is the hash of the observed facts the
plan was computed from; `apply FILE` re-observes and refuses the plan when it differs. `digest` is a
hash of the plan's own content, so a hand-edited or truncated file is rejected instead of applied.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from remediate.errors import InputError, PlanFileError
from remediate.facts import Model
from remediate.findings import Finding

PLAN_SCHEMA = "remediate/plan@1"
_REF = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\.([A-Za-z0-9_]+)\}")


class Change(Model):
    id: str
    action: str
    resource: str
    kind: Literal["create", "update", "delete"] = "update"
    before: dict[str, Any] | None = None
    after: dict[str, Any] = Field(default_factory=dict)
    because: tuple[str, ...] = ()

    def key(self) -> str:
        """What the change does, independent of plan, run and change ids: two drafts with the same key
        are one change (the engine merges them), and it is the unit `scan --fix` approves."""
        return json.dumps([self.action, self.resource, self.after], sort_keys=True, default=str)


class ManualStep(Model):
    because: tuple[str, ...]
    text: str


class Target(Model):
    esm_uuid: str
    esm_arn: str
    function_arn: str
    source_kind: str
    cluster_arn: str | None = None
    bootstrap_servers: tuple[str, ...] = ()
    network: str | None = None
    region: str


class Plan(Model):
    schema_: str = Field(PLAN_SCHEMA, alias="schema")
    plan_id: str
    created_at: str
    target: Target
    findings: tuple[Finding, ...] = ()
    changes: tuple[Change, ...] = ()
    manual_steps: tuple[ManualStep, ...] = ()
    alternatives: tuple[ManualStep, ...] = ()
    """Fixes a playbook offers instead of its own, listed but not planned (`--fix-with NAME` plans one)."""
    fingerprint: str

    model_config = Model.model_config | {"populate_by_name": True}

    @property
    def counts(self) -> dict[str, int]:
        return {k: sum(1 for c in self.changes if c.kind == k) for k in ("create", "update", "delete")}

    def summary(self) -> str:
        if not self.changes:
            return "No changes." if not self.manual_steps else "No changes (manual steps only)."
        c = self.counts
        return f"Plan: {c['create']} to add, {c['update']} to change, {c['delete']} to destroy."

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", by_alias=True)
        data["digest"] = _digest(data)
        return data


def new_plan_id() -> str:
    return "p-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest(data: dict[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k != "digest"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def check_writable_target(path: Path, what: str = "--out") -> None:
    """InputError (one line) unless `path` is absent or a regular file (issue 23, N1).

    A plan (or report) is written next to the target and renamed over it: over a device node
    (`/dev/null`), a symbolic link or a directory that would replace the entry itself (as root, a
    regular file where `/dev/null` was), so anything but a regular file is refused, never replaced."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"{what} {path}: {exc.strerror or exc}") from None
    if stat.S_ISREG(mode):
        return
    kind = (
        "a symbolic link"
        if stat.S_ISLNK(mode)
        else "a directory"
        if stat.S_ISDIR(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "not a regular file"
    )
    raise InputError(f"{what} {path} is {kind}; give the name of a regular file (it is never replaced)")


def save(plan: Plan, path: Path) -> None:
    """Write atomically, so a crash never leaves half a plan behind, and only ever a regular file.

    The text goes to a temp file of this process's own (`mkstemp`: a new name, O_CREAT|O_EXCL, mode
    0600) in the target's directory, is fsynced, and is renamed over the target; a `PATH.tmp` someone
    else owns is never touched. A target that is not a regular file is refused first."""
    check_writable_target(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(plan.to_json(), indent=2, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load(path: Path) -> Plan:
    """Read a plan file; raise PlanFileError with one line for anything that is not a sound plan."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanFileError(f"cannot read plan file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise PlanFileError(f"plan file {path} is not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            f"plan file {path} is not valid JSON (truncated?): {exc.msg} at line {exc.lineno}"
        ) from None
    return from_json(data, f"plan file {path}")


def from_json(data: Any, source: str) -> Plan:
    """Validate a plan document (a file's or a journal's): schema, digest, then every field."""
    if not isinstance(data, dict):
        raise PlanFileError(f"{source} is not a JSON object")
    schema = data.get("schema")
    if schema != PLAN_SCHEMA:
        raise PlanFileError(f"{source} has schema {schema!r}; this remediate reads {PLAN_SCHEMA!r}")
    if data.get("digest") != _digest(data):
        raise PlanFileError(f"{source} was modified after it was written (digest mismatch)")
    body = {k: v for k, v in data.items() if k != "digest"}
    try:
        return Plan.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise PlanFileError(f"{source} is malformed at {where}: {err['msg']}") from None


def resolve_refs(value: Any, outputs: dict[str, dict[str, Any]]) -> Any:
    """Replace `${cN.Output}` in a change's parameters with outputs of changes applied before it."""
    if isinstance(value, str):
        whole = _REF.fullmatch(value)
        if whole:
            return outputs[whole.group(1)][whole.group(2)]
        return _REF.sub(lambda m: str(outputs[m.group(1)][m.group(2)]), value)
    if isinstance(value, dict):
        return {k: resolve_refs(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v, outputs) for v in value]
    return value


def rename_refs(value: Any, names: dict[str, str]) -> Any:
    """Rename the change a reference points at: drafts refer to each other by draft key
    (`${vpce-sg.GroupId}`), plans by change id (`${c1.GroupId}`)."""
    if isinstance(value, str):
        return _REF.sub(lambda m: "${" + names.get(m.group(1), m.group(1)) + "." + m.group(2) + "}", value)
    if isinstance(value, dict):
        return {k: rename_refs(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [rename_refs(v, names) for v in value]
    return value


def referenced_changes(value: Any) -> set[str]:
    """The change ids whose outputs `value` refers to (`${c1.GroupId}` -> {"c1"}); issue 23 `--target`."""
    return set(re.findall(r"\$\{([A-Za-z0-9_.:-]+)\.[A-Za-z0-9_]+\}", json.dumps(value, default=str)))
