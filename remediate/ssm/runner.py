"""A local interpreter of the Automation runbook, step by step, so the runbook itself can be tested.

Nothing emulates Automation executions (moto has no StartAutomationExecution), so this runs the
generated document the way the Systems Manager user guide describes it, and refuses what SSM refuses:

- At creation: schemaVersion 0.3, unique step names, known actions, every `{{ ref }}` resolvable (a
  parameter, an earlier step's output, or an automation variable), `nextStep`/`onFailure`/`onCancel`
  targets that exist (failure and cancel jumps go to subsequent steps), the python3.11 runtime and at
  most 600 s for script steps, the attachment declared in `files`, aws:approve with 1 to 10 approvers
  and `MinRequiredApprovals` no more than their number.
- At start: parameter types, `allowedValues`, `allowedPattern`, required parameters; then the document's
  `assumeRole` is assumed (sts:AssumeRole), and every step and native call runs with those credentials;
  a role that cannot be assumed fails the execution before any step.
- `aws:executeScript`: each step in a fresh interpreter (`python -I -S`) whose import path holds only
  the bundle and, as the SSM runtime provides it, boto3 with its dependencies: a bundle missing a
  dependency fails here as it would in SSM. The InputPayload is `events`; what the handler returns is
  the Payload, of which SSM returns at most 100 KB (past that it is cut off, and outputs that cannot be
  read from it fail the step); outputs by `$.Payload.Name` selectors and their declared types.
- `aws:executeAwsApi` and `aws:waitForAwsResourceProperty` (boto3, `$.Field` selectors), `aws:branch`,
  `aws:approve` (decisions per approver, counted against MinRequiredApprovals; decisions of principals
  not among the Approvers do not count), `aws:sleep`.
- `onFailure` (Abort, Continue, step:NAME), `onCancel`, `isCritical`, `isEnd`, `nextStep`, `maxAttempts`;
  an execution whose critical step failed ends Failed even when a later step handled it.
- Time: `time_scale` shrinks every limit and duration by the same ratio (600 s becomes 600 * scale,
  told to the step in REMEDIATE_SSM_STEP_SECONDS), so tests keep SSM's proportions without its waits.
- Its own executions and document (issue 27, D5): `ssm GetAutomationExecution` of the running
  execution and `ssm DescribeDocument` of the document it runs are answered as SSM would, from the
  name and versions the runner is given (`Versions`: which version runs, which is the default).
- Progress: each step's start and end, and a heartbeat while a step runs, go to `progress`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from remediate.errors import InputError
from remediate.ssm.limits import (
    CANCEL_WINDOW,
    MAX_APPROVERS,
    MESSAGE_LIMIT,
    PAYLOAD_LIMIT,
    PYTHON_RUNTIME,
    STEP_SECONDS_ENV,
    STEP_TIMEOUT,
)

Decision = tuple[str, bool]
Approver = Callable[[str, str, Sequence[str], int], Sequence[Decision]]
"""(step name, message, approvers, MinRequiredApprovals) -> (principal, approved?) decisions."""
Progress = Callable[[str], None]

ACTIONS = frozenset(
    {
        "aws:executeScript",
        "aws:executeAwsApi",
        "aws:waitForAwsResourceProperty",
        "aws:branch",
        "aws:approve",
        "aws:sleep",
    }
)
"""The actions this runner interprets; a document using another is refused at creation."""
APPROVE_TIMEOUT = 604800
APPROVE_MAX_TIMEOUT = 2592000
VARIABLES = frozenset(
    {"global:REGION", "global:ACCOUNT_ID", "global:AWS_PARTITION", "automation:EXECUTION_ID"}
)
PARAMETER_TYPES = frozenset({"String", "StringList", "Integer", "Boolean", "MapList", "StringMap"})
_REF = re.compile(r"\{\{\s*([A-Za-z0-9_.:]+)\s*\}\}")
_STEP_MAIN = """
import importlib, json, sys, traceback
sys.path[:0] = [sys.argv[1], sys.argv[2]]
module, _, name = sys.argv[3].rpartition(".")
events = json.load(sys.stdin)
try:
    result = getattr(importlib.import_module(module), name)(events, None)
    out = {"ok": True, "payload": json.dumps(result, default=str)}
except BaseException as exc:
    traceback.print_exc()
    out = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
with open(sys.argv[4], "w") as fh:
    json.dump(out, fh)
"""
_TYPES: dict[str, Callable[[Any], bool]] = {
    "String": lambda v: isinstance(v, str),
    "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Boolean": lambda v: isinstance(v, bool),
    "StringList": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    "StringMap": lambda v: isinstance(v, dict),
    "MapList": lambda v: isinstance(v, list) and all(isinstance(i, dict) for i in v),
}


class StepFailed(Exception):
    """A step failed the way SSM would fail it; the message is the step's FailureMessage."""


class StepTimedOut(StepFailed):
    """The step ran past its timeoutSeconds."""


class Cancelled(Exception):
    """The execution was cancelled while this step ran."""


@dataclass
class StepResult:
    name: str
    action: str
    status: str
    outputs: dict[str, Any] = field(default_factory=dict)
    failure: str = ""
    seconds: float = 0.0


@dataclass
class Execution:
    execution_id: str
    status: str = "InProgress"
    steps: list[StepResult] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    failure: str = ""

    def step(self, name: str) -> StepResult | None:
        """The step's latest run."""
        return next((s for s in reversed(self.steps) if s.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "AutomationExecutionId": self.execution_id,
            "AutomationExecutionStatus": self.status,
            "FailureMessage": self.failure,
            "Outputs": self.outputs,
            "StepExecutions": [
                {
                    "StepName": s.name,
                    "Action": s.action,
                    "StepStatus": s.status,
                    "Outputs": s.outputs,
                    "FailureMessage": s.failure,
                    "Seconds": round(s.seconds, 3),
                }
                for s in self.steps
            ],
        }


# -- create-time validation -----------------------------------------------------------------------


def _refs(value: Any) -> set[str]:
    return set(_REF.findall(json.dumps(value, default=str)))


def validate(doc: Mapping[str, Any], *, attachments: bool = True) -> None:
    """Refuse, with one line, a document SSM would not accept or this runner cannot run faithfully.

    `attachments=False`: the handlers come from the installed package, so `files` is not checked.
    """
    if str(doc.get("schemaVersion")) != "0.3":
        raise InputError("only Automation documents (schemaVersion 0.3) can be run")
    steps: list[Mapping[str, Any]] = list(doc.get("mainSteps") or [])
    if not steps:
        raise InputError("the document has no mainSteps")
    names = [s.get("name", "") for s in steps]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"step name {dupes[0]} is used twice")
    for name, spec in doc.get("parameters", {}).items():
        kind = str(spec.get("type", ""))
        if kind not in PARAMETER_TYPES and not kind.startswith("AWS::"):
            raise InputError(f"parameter {name}: type {kind!r} is not an Automation parameter type")
    known = set(doc.get("parameters", {})) | VARIABLES
    position = {n: i for i, n in enumerate(names)}
    for i, spec in enumerate(steps):
        where = f"step {spec['name']}"
        action = spec.get("action")
        if action not in ACTIONS:
            raise InputError(f"{where}: action {action!r} is not one this runner (or SSM) knows")
        missing = sorted(_refs(spec.get("inputs", {})) - known)
        if missing:
            raise InputError(f"{where}: {{{{ {missing[0]} }}}} is neither a parameter nor an earlier output")
        for prop in ("onFailure", "onCancel"):
            target = str(spec.get(prop, ""))
            if target.startswith("step:"):
                if target[5:] not in position:
                    raise InputError(f"{where}: {prop} names no step {target[5:]}")
                if position[target[5:]] <= i:
                    raise InputError(f"{where}: {prop} must go to a subsequent step, not {target[5:]}")
        choices = spec.get("inputs", {}).get("Choices", [])
        jumps: list[Any] = [spec.get("nextStep"), *[c.get("NextStep") for c in choices]]
        jumps.append(spec.get("inputs", {}).get("Default") if action == "aws:branch" else None)
        for target in jumps:
            if target is not None and target not in position:
                raise InputError(f"{where}: no step named {target}")
        _validate_action(doc, spec, where, attachments)
        known |= {f"{spec['name']}.{o['Name']}" for o in spec.get("outputs", [])}
        if action == "aws:approve":
            known |= {f"{spec['name']}.ApprovalStatus", f"{spec['name']}.ApproverDecisions"}
    for ref in doc.get("outputs", []):
        if ref not in known:
            raise InputError(f"document output {ref} is no step's output")


def _validate_action(doc: Mapping[str, Any], spec: Mapping[str, Any], where: str, attachments: bool) -> None:
    inputs = spec.get("inputs", {})
    action = spec["action"]
    if action == "aws:executeScript":
        if inputs.get("Runtime") != PYTHON_RUNTIME:
            raise InputError(
                f"{where}: runtime {inputs.get('Runtime')!r} is not supported ({PYTHON_RUNTIME})"
            )
        if float(spec.get("timeoutSeconds", STEP_TIMEOUT)) > STEP_TIMEOUT:
            raise InputError(f"{where}: an executeScript step runs at most {STEP_TIMEOUT} seconds")
        attachment = inputs.get("Attachment")
        if attachment and attachments and attachment not in doc.get("files", {}):
            raise InputError(f"{where}: attachment {attachment} is not in the document's files section")
        if not attachment and "Script" not in inputs:
            raise InputError(f"{where}: an executeScript step needs Script or Attachment")
    elif action == "aws:approve":
        approvers = inputs.get("Approvers")
        if isinstance(approvers, list):
            if not 1 <= len(approvers) <= MAX_APPROVERS:
                raise InputError(f"{where}: Approvers must name 1 to {MAX_APPROVERS} principals")
            minimum = inputs.get("MinRequiredApprovals", 1)
            if isinstance(minimum, int) and not 1 <= minimum <= len(approvers):
                raise InputError(
                    f"{where}: MinRequiredApprovals {minimum} must be between 1 and the "
                    f"{len(approvers)} approver(s)"
                )
        # issue 27, D13: "The default timeout for this action is 7 days (604800 seconds) and the maximum
        # value is 30 days" (automation-action-approve.html).
        if float(spec.get("timeoutSeconds", APPROVE_TIMEOUT)) > APPROVE_MAX_TIMEOUT:
            raise InputError(
                f"{where}: an aws:approve step waits at most {APPROVE_MAX_TIMEOUT} seconds (30 days)"
            )
        topic = inputs.get("NotificationArn")
        if isinstance(topic, str) and "{{" not in topic and not topic.split(":")[-1].startswith("Automation"):
            raise InputError(f"{where}: the SNS topic's name must start with Automation")
    elif action in ("aws:executeAwsApi", "aws:waitForAwsResourceProperty"):
        if not inputs.get("Service") or not inputs.get("Api"):
            raise InputError(f"{where}: Service and Api are required")
        if action == "aws:waitForAwsResourceProperty":
            if "PropertySelector" not in inputs or "DesiredValues" not in inputs:
                raise InputError(f"{where}: PropertySelector and DesiredValues are required")
            if "timeoutSeconds" not in spec:
                raise InputError(
                    f"{where}: give the wait a timeoutSeconds (the runner never waits unbounded)"
                )


# -- parameters ------------------------------------------------------------------------------------


def _coerce(name: str, spec: Mapping[str, Any], value: Any) -> Any:
    """A parameter value as SSM types it (StartAutomationExecution passes lists of strings)."""
    kind = spec.get("type", "String")
    if kind == "StringList":
        return [str(v) for v in (value if isinstance(value, list) else [value])]
    if isinstance(value, list):
        if len(value) != 1:
            raise InputError(f"parameter {name} takes one value, got {len(value)}")
        value = value[0]
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        if str(value).lower() not in ("true", "false"):
            raise InputError(f"parameter {name} must be true or false, not {value!r}")
        return str(value).lower() == "true"
    if kind == "Integer":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise InputError(f"parameter {name} must be an integer, not {value!r}") from None
    text = str(value)
    if kind == "AWS::IAM::Role::Arn" and not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/.+", text):
        raise InputError(f"parameter {name}: {text!r} is not an IAM role ARN")
    if "allowedValues" in spec and text not in spec["allowedValues"]:
        raise InputError(f"parameter {name}: {text!r} is not one of {spec['allowedValues']}")
    if "allowedPattern" in spec and not re.fullmatch(spec["allowedPattern"], text):
        raise InputError(f"parameter {name}: {text!r} does not match {spec['allowedPattern']}")
    return text


def resolve_parameters(doc: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults, required parameters, types, allowedValues and allowedPattern, as SSM checks them at start."""
    specs: Mapping[str, Any] = doc.get("parameters", {})
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise InputError(f"unknown parameter {unknown[0]}; the runbook takes {', '.join(specs)}")
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        if name in given:
            values[name] = _coerce(name, spec, given[name])
        elif "default" in spec:
            values[name] = spec["default"]
        else:
            raise InputError(f"parameter {name} is required")
    return values


# -- the SSM python runtime: boto3 and its dependencies, nothing else ------------------------------

_RUNTIME_DIR: Path | None = None
_INSTALLED_BUNDLE: Path | None = None
_CACHE_LOCK = threading.Lock()


def _scratch(prefix: str) -> Path:
    """A temporary directory removed when the process exits."""
    import atexit
    import shutil

    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path


def runtime_dir() -> Path:
    """A directory of what the SSM python runtime preinstalls (boto3 and its dependencies), linked
    from this environment's site-packages, built once per process."""
    global _RUNTIME_DIR
    from importlib import metadata

    from remediate.ssm.bundle import RUNTIME_PROVIDED

    with _CACHE_LOCK:
        if _RUNTIME_DIR is None:
            target = _scratch("remediate-ssm-runtime-")
            for name in sorted(RUNTIME_PROVIDED):
                try:
                    dist = metadata.distribution(name)
                except metadata.PackageNotFoundError:
                    continue
                for entry in dist.files or []:
                    top = entry.parts[0]
                    if top.endswith((".dist-info", "..")) or top == "__pycache__":
                        continue
                    link = target / top
                    if not link.exists():
                        link.symlink_to(Path(str(dist.locate_file(top))))
            _RUNTIME_DIR = target
        return _RUNTIME_DIR


def installed_bundle() -> Path:
    """The bundle's files from what is installed here (`ssm-bundle` without the zip), once per process."""
    global _INSTALLED_BUNDLE
    from remediate.ssm import bundle

    with _CACHE_LOCK:
        if _INSTALLED_BUNDLE is None:
            target = _scratch("remediate-ssm-bundle-")
            files = bundle.project_files()
            files.update(bundle.installed_files(bundle.dependencies()))
            for arcname, data in files.items():
                path = target / arcname
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            _INSTALLED_BUNDLE = target
        return _INSTALLED_BUNDLE


@dataclass(frozen=True)
class Versions:
    """The document as SSM keeps it: its name, the version this execution runs, the default and the
    latest (issue 27, D5: Apply refuses to run from any but the default)."""

    name: str = "Remediate-KafkaEventSourceMapping"
    running: str = "1"
    default: str = ""
    """Empty: the running version is the default."""
    latest: str = ""
    """Empty: the highest of running and default."""

    def __post_init__(self) -> None:
        for what, value in (("running", self.running), ("default", self.default), ("latest", self.latest)):
            if value and not value.isdigit() and not (what == "running" and value in ("$DEFAULT", "$LATEST")):
                raise InputError(f"document version {value!r} is not a version number")

    def describe(self) -> dict[str, Any]:
        numbered = [int(v) for v in (self.running, self.default) if v.isdigit()] or [1]
        default = self.default or (self.running if self.running.isdigit() else str(max(numbered)))
        latest = self.latest or str(max(numbered))
        return {"Document": {"Name": self.name, "DefaultVersion": default, "LatestVersion": latest}}


class Runner:
    """Runs one document; `bundle` is the attachment zip (else the installed package is bundled)."""

    def __init__(
        self,
        doc: Mapping[str, Any],
        *,
        approver: Approver,
        region: str,
        bundle: Path | None = None,
        python: str = sys.executable,
        env: Mapping[str, str] | None = None,
        account_id: str = "000000000000",
        time_scale: float = 1.0,
        poll_seconds: float = 5.0,
        heartbeat_seconds: float = 30.0,
        progress: Progress | None = None,
        versions: Versions | None = None,
    ) -> None:
        if not region:
            raise InputError("the local runner needs a region (SSM runs every automation in one)")
        validate(doc, attachments=bundle is not None)
        if bundle is not None:  # SSM checks an attachment against `files` when the document is created
            for name, declared in doc.get("files", {}).items():
                digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
                if digest != declared.get("checksums", {}).get("sha256"):
                    raise InputError(f"attachment {name}: sha256 {digest} does not match the document's")
        self.doc = doc
        self.approver = approver
        self.bundle = bundle
        self.python = python
        self.env = dict(os.environ if env is None else env)
        self.region = region
        self.account_id = account_id
        self.scale = time_scale
        self.poll = poll_seconds * time_scale
        self.heartbeat = heartbeat_seconds * time_scale
        self.progress = progress or (lambda _msg: None)
        self.versions = versions or Versions()
        self.values: dict[str, Any] = {}
        self.credentials: dict[str, str] = {}
        self._cancel = threading.Event()
        self._cancel_deadline: float | None = None

    def _left(self) -> float:
        """Seconds the cancellation workflow has left (SSM's CANCEL_WINDOW, scaled); inf before a cancel."""
        return float("inf") if self._cancel_deadline is None else self._cancel_deadline - time.monotonic()

    def _cut(self, limit: float) -> float:
        """`limit` seconds, or less when the cancellation workflow's window ends sooner."""
        return min(limit, max(self._left(), 0.0))

    def _timed_out(self, seconds: float) -> str:
        if self._left() <= 0:
            return f"the cancellation workflow ran over SSM's {CANCEL_WINDOW} s"
        return f"Step timed out after {seconds:g} seconds"

    def cancel(self) -> None:
        """Cancel the execution: the running step stops, and its onCancel step (if any) runs."""
        self._cancel.set()

    # -- substitution --------------------------------------------------------------------------------
    def _lookup(self, name: str, execution: Execution) -> Any:
        if name in self.values:
            return self.values[name]
        if name == "global:REGION":
            return self.region
        if name == "global:ACCOUNT_ID":
            return self.account_id
        if name == "global:AWS_PARTITION":  # issue 27: "aws", "aws-cn" or "aws-us-gov" by the Region
            return (
                "aws-cn" if self.region.startswith("cn-") else "aws-us-gov" if "gov" in self.region else "aws"
            )
        if name == "automation:EXECUTION_ID":
            return execution.execution_id
        step, _, output = name.partition(".")
        result = execution.step(step)
        if result is None or output not in result.outputs:
            raise StepFailed(f"{{{{ {name} }}}} cannot be resolved: step {step} has no output {output}")
        return result.outputs[output]

    def substitute(self, value: Any, execution: Execution) -> Any:
        """A lone `{{ ref }}` keeps its type (lists stay lists); inside text it is interpolated."""
        if isinstance(value, str):
            whole = _REF.fullmatch(value.strip())
            if whole:
                return self._lookup(whole.group(1), execution)
            return _REF.sub(lambda m: _text(self._lookup(m.group(1), execution)), value)
        if isinstance(value, dict):
            return {k: self.substitute(v, execution) for k, v in value.items()}
        if isinstance(value, list):
            return [self.substitute(v, execution) for v in value]
        return value

    # -- credentials ---------------------------------------------------------------------------------
    def _assume_role(self) -> None:
        """Take the document's assumeRole, as Automation does; its credentials run every step."""
        role = str(self.substitute(self.doc.get("assumeRole", ""), Execution("-")) or "")
        if not role:
            self.credentials = {}
            return
        import boto3

        session = boto3.session.Session(
            aws_access_key_id=self.env.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=self.env.get("AWS_SECRET_ACCESS_KEY"),
            aws_session_token=self.env.get("AWS_SESSION_TOKEN"),
            region_name=self.region,
        )
        from botocore.exceptions import BotoCoreError, ClientError

        sts = session.client("sts", endpoint_url=self.env.get("AWS_ENDPOINT_URL"))
        try:
            creds = sts.assume_role(RoleArn=role, RoleSessionName="remediate-local-runner")["Credentials"]
        except (ClientError, BotoCoreError) as exc:
            raise InputError(f"cannot assume the document's assumeRole {role}: {exc}") from None
        self.credentials = {
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
        }

    def _step_env(self) -> dict[str, str]:
        env = {k: v for k, v in self.env.items() if k not in ("AWS_PROFILE", "PYTHONPATH", "PYTHONHOME")}
        env.update(self.credentials)
        env.update({"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region})
        env[STEP_SECONDS_ENV] = f"{STEP_TIMEOUT * self.scale:.3f}"
        return env

    def _client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        env = {**self.env, **self.credentials}
        session = boto3.session.Session(
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
            aws_session_token=env.get("AWS_SESSION_TOKEN"),
            region_name=self.region,
        )
        return session.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.env.get("AWS_ENDPOINT_URL"),
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )

    # -- actions -------------------------------------------------------------------------------------
    def _code_dir(self, workdir: Path, inputs: Mapping[str, Any], step: str) -> tuple[Path, str]:
        """Where the handler's module lives, and its `module.function` name."""
        handler = str(inputs.get("Handler", ""))
        if "Script" in inputs:
            module = f"_inline_{step}"
            code = workdir / "inline"
            code.mkdir(exist_ok=True)
            (code / f"{module}.py").write_text(str(inputs["Script"]))
            return code, f"{module}.{handler}"
        if self.bundle is None:
            return installed_bundle(), handler
        return self._unpacked(workdir, str(inputs["Attachment"])), handler

    def _unpacked(self, workdir: Path, attachment: str) -> Path:
        assert self.bundle is not None
        target = workdir / "attachment"
        if target.is_dir():
            return target
        with zipfile.ZipFile(self.bundle) as zf:
            zf.extractall(target)
        return target

    def _timeout(self, spec: Mapping[str, Any], default: float) -> float:
        return float(spec.get("timeoutSeconds", default)) * self.scale

    def _execute_script(self, spec: Mapping[str, Any], execution: Execution, workdir: Path) -> dict[str, Any]:
        inputs = spec["inputs"]
        events = self.substitute(inputs.get("InputPayload", {}), execution)
        code_dir, handler = self._code_dir(workdir, inputs, spec["name"])
        result_file = workdir / f"{spec['name']}.{secrets.token_hex(4)}.result.json"
        timeout = self._cut(min(self._timeout(spec, STEP_TIMEOUT), STEP_TIMEOUT * self.scale))
        cmd = [self.python, "-I", "-S", "-c", _STEP_MAIN, str(code_dir), str(runtime_dir()), handler]
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and stub
            [*cmd, str(result_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self._step_env(),
        )
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(events))
        proc.stdin.close()
        started = time.monotonic()
        beat = started
        while proc.poll() is None:
            now = time.monotonic()
            if self._cancel.is_set():
                proc.kill()
                proc.wait()
                raise Cancelled()
            if now - started > timeout:
                proc.kill()
                proc.wait()
                raise StepTimedOut(self._timed_out(timeout))
            if self.heartbeat and now - beat >= self.heartbeat:
                beat = now
                self.progress(f"{spec['name']}: still running after {now - started:.0f}s")
            time.sleep(0.02)
        stderr = proc.stderr.read() if proc.stderr else ""
        if not result_file.exists():
            tail = (stderr.strip().splitlines() or ["no output"])[-1]
            raise StepFailed(f"the script did not run: {tail}")
        result = json.loads(result_file.read_text())
        if not result["ok"]:
            raise StepFailed(result["error"])
        text: str = result["payload"]
        if len(text.encode()) > PAYLOAD_LIMIT:
            cut = text.encode()[:PAYLOAD_LIMIT].decode(errors="ignore")
            if spec.get("outputs"):
                raise StepFailed(
                    f"the output payload is {len(text.encode())} bytes; SSM returns only the first "
                    f"{PAYLOAD_LIMIT}, from which the step's outputs cannot be read"
                )
            return {"Payload": cut}
        return self._outputs(spec, {"Payload": json.loads(text)})

    @staticmethod
    def _select(document: Any, selector: str) -> Any:
        """A `$.A.B` or `$.A[0].B` JSONPath selector (the forms SSM runbooks use)."""
        value = document
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", selector.removeprefix("$").lstrip(".")):
            if part.startswith("["):
                index = int(part[1:-1])
                if not isinstance(value, list) or index >= len(value):
                    raise KeyError(selector)
                value = value[index]
            else:
                if not isinstance(value, dict) or part not in value:
                    raise KeyError(selector)
                value = value[part]
        return value

    def _outputs(self, spec: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for out in spec.get("outputs", []):
            try:
                value = self._select(document, out["Selector"])
            except KeyError:
                raise StepFailed(
                    f"output {out['Name']}: selector {out['Selector']} matches nothing"
                ) from None
            if not _TYPES[out.get("Type", "String")](value):
                raise StepFailed(f"output {out['Name']} is not of type {out.get('Type', 'String')}")
            outputs[out["Name"]] = value
        return outputs

    def _api_call(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        from botocore import xform_name
        from botocore.exceptions import BotoCoreError, ClientError

        params = {
            k: v
            for k, v in inputs.items()
            if k not in ("Service", "Api", "PropertySelector", "DesiredValues")
        }
        client = self._client(str(inputs["Service"]))
        try:
            response: dict[str, Any] = getattr(client, xform_name(str(inputs["Api"])))(**params)
        except (ClientError, BotoCoreError) as exc:
            raise StepFailed(f"{inputs['Service']}:{inputs['Api']} failed: {exc}") from None
        return response

    def _own(self, inputs: Mapping[str, Any], execution: Execution) -> dict[str, Any] | None:
        """What SSM answers about this execution and its document (nothing else emulates them)."""
        if inputs.get("Service") != "ssm":
            return None
        api = inputs.get("Api")
        if api == "GetAutomationExecution" and inputs.get("AutomationExecutionId") == execution.execution_id:
            return {
                "AutomationExecution": {
                    "AutomationExecutionId": execution.execution_id,
                    "DocumentName": self.versions.name,
                    "DocumentVersion": self.versions.running,
                    "AutomationExecutionStatus": "InProgress",
                }
            }
        if api == "DescribeDocument" and inputs.get("Name") == self.versions.name:
            return self.versions.describe()
        return None

    def _execute_api(self, spec: Mapping[str, Any], execution: Execution) -> dict[str, Any]:
        inputs = self.substitute(spec["inputs"], execution)
        own = self._own(inputs, execution)
        response = own if own is not None else json.loads(json.dumps(self._api_call(inputs), default=str))
        return self._outputs(spec, response)

    def _wait_property(self, spec: Mapping[str, Any], execution: Execution) -> dict[str, Any]:
        inputs = self.substitute(spec["inputs"], execution)
        wanted = [str(v) for v in inputs["DesiredValues"]]
        deadline = time.monotonic() + self._cut(self._timeout(spec, 0))
        while True:
            response = json.loads(json.dumps(self._api_call(inputs), default=str))
            try:
                value = self._select(response, str(inputs["PropertySelector"]))
            except KeyError:
                value = None
            if str(value) in wanted:
                return self._outputs(spec, response)
            if time.monotonic() >= deadline:
                raise StepTimedOut(
                    f"{inputs['PropertySelector']} is {value}, not {'/'.join(wanted)}, at timeout"
                )
            self._pause(self.poll)

    def _pause(self, seconds: float) -> None:
        if self._cancel.wait(max(self._cut(seconds), 0.0)):
            raise Cancelled()
        if self._left() <= 0:
            raise StepTimedOut(f"the cancellation workflow ran over SSM's {CANCEL_WINDOW} s")

    def _approve(self, spec: Mapping[str, Any], execution: Execution) -> dict[str, Any]:
        inputs = self.substitute(spec["inputs"], execution)
        approvers = [str(a) for a in (inputs.get("Approvers") or [])]
        minimum = int(inputs.get("MinRequiredApprovals", 1))
        if not 1 <= len(approvers) <= MAX_APPROVERS:
            raise StepFailed(f"Approvers must name 1 to {MAX_APPROVERS} principals, got {len(approvers)}")
        if not 1 <= minimum <= len(approvers):
            raise StepFailed(
                f"MinRequiredApprovals {minimum} must be between 1 and the {len(approvers)} approver(s)"
            )
        message = str(inputs.get("Message", ""))
        if len(message) > MESSAGE_LIMIT:
            raise StepFailed(f"the approval Message is {len(message)} characters, over {MESSAGE_LIMIT}")
        decisions: dict[str, bool] = {}
        for principal, approved in self.approver(spec["name"], message, approvers, minimum):
            if principal in approvers:
                decisions.setdefault(principal, approved)
        yes = sum(decisions.values())
        no = len(decisions) - yes
        listed = [{"Approver": p, "Decision": "Approve" if d else "Reject"} for p, d in decisions.items()]
        if yes >= minimum:
            return {"ApprovalStatus": "Approved", "ApproverDecisions": listed}
        if no > len(approvers) - minimum:
            raise StepFailed("Step was rejected by an approver")
        raise StepFailed(f"only {yes} of the {minimum} required approval(s) were given")

    def _branch(self, spec: Mapping[str, Any], execution: Execution) -> str | None:
        for choice in spec["inputs"].get("Choices", []):
            if self._holds(choice, execution):
                return str(choice["NextStep"])
        default = spec["inputs"].get("Default")
        return str(default) if default else None

    def _holds(self, cond: Mapping[str, Any], execution: Execution) -> bool:
        if "And" in cond:
            return all(self._holds(c, execution) for c in cond["And"])
        if "Or" in cond:
            return any(self._holds(c, execution) for c in cond["Or"])
        if "Not" in cond:
            return not self._holds(cond["Not"], execution)
        value = self.substitute(cond["Variable"], execution)
        ops: dict[str, Callable[[Any, Any], bool]] = {
            "StringEquals": lambda v, x: str(v) == x,
            "EqualsIgnoreCase": lambda v, x: str(v).lower() == str(x).lower(),
            "StartsWith": lambda v, x: str(v).startswith(x),
            "EndsWith": lambda v, x: str(v).endswith(x),
            "Contains": lambda v, x: x in v,
            "NumericEquals": lambda v, x: float(v) == float(x),
            "NumericGreater": lambda v, x: float(v) > float(x),
            "NumericLesser": lambda v, x: float(v) < float(x),
            "NumericGreaterOrEquals": lambda v, x: float(v) >= float(x),
            "NumericLesserOrEquals": lambda v, x: float(v) <= float(x),
            "BooleanEquals": lambda v, x: (v if isinstance(v, bool) else str(v).lower() == "true") == x,
        }
        for op, test in ops.items():
            if op in cond:
                return test(value, cond[op])
        raise StepFailed(f"branch choice {dict(cond)} has no operator the runner knows")

    # -- driver --------------------------------------------------------------------------------------
    def run(self, parameters: Mapping[str, Any]) -> Execution:
        """Start an execution; return it in a final state (Success, Failed, TimedOut or Cancelled)."""
        self.values = resolve_parameters(self.doc, parameters)
        self._cancel_deadline = None
        execution = Execution(execution_id=secrets.token_hex(18))
        try:
            self._assume_role()
        except InputError as exc:
            execution.status, execution.failure = "Failed", str(exc)
            return execution
        steps: list[Mapping[str, Any]] = list(self.doc["mainSteps"])
        index = {s["name"]: i for i, s in enumerate(steps)}
        position: int | None = 0
        critical_failure = ""
        with tempfile.TemporaryDirectory(prefix="remediate-ssm-run-") as tmp:
            while position is not None and position < len(steps):
                spec = steps[position]
                result = self._attempts(spec, execution, Path(tmp))
                if result.status == "Success":
                    if _truthy(spec.get("isEnd")):
                        break
                    target = self._jump or spec.get("nextStep")
                    position = index[target] if target is not None else position + 1
                    continue
                if _truthy(spec.get("isCritical", True)) and result.status != "Cancelled":
                    critical_failure = critical_failure or f"Step {spec['name']}: {result.failure}"
                    if execution.status != "Cancelled":  # a cancelled execution stays Cancelled
                        execution.status = "TimedOut" if result.status == "TimedOut" else "Failed"
                handler = str(spec.get("onCancel" if result.status == "Cancelled" else "onFailure", "Abort"))
                if result.status == "Cancelled":
                    execution.status = "Cancelled"
                    self._cancel.clear()  # the onCancel steps run, within SSM's window:
                    self._cancel_deadline = time.monotonic() + CANCEL_WINDOW * self.scale
                if self._cancel_deadline is not None and self._left() <= 0:
                    break  # SSM stops the cancellation workflow at its window
                if handler.startswith("step:"):
                    position = index[handler[5:]]
                elif handler == "Continue" and result.status != "Cancelled":
                    position += 1
                else:
                    break
        if execution.status == "InProgress":
            execution.status = "Success"
        execution.failure = critical_failure or ("Cancelled" if execution.status == "Cancelled" else "")
        for ref in self.doc.get("outputs", []):  # outputs of steps that did not run are left out
            step, _, name = ref.partition(".")
            done = execution.step(step)
            if done is not None and name in done.outputs:
                execution.outputs[ref] = done.outputs[name]
        return execution

    def _attempts(self, spec: Mapping[str, Any], execution: Execution, workdir: Path) -> StepResult:
        attempts = max(1, int(spec.get("maxAttempts", 1)))
        result = StepResult(spec["name"], spec["action"], "InProgress")
        for _attempt in range(attempts):
            result = StepResult(spec["name"], spec["action"], "InProgress")
            execution.steps.append(result)
            self.progress(f"{spec['name']} ({spec['action']}): started")
            started = time.monotonic()
            self._jump = None
            try:
                if self._cancel.is_set():
                    raise Cancelled()
                self._jump = self._step(spec, execution, workdir, result)
                result.status = "Success"
            except Cancelled:
                result.status, result.failure = "Cancelled", "Step was cancelled"
            except StepTimedOut as exc:
                result.status, result.failure = "TimedOut", str(exc)
            except StepFailed as exc:
                result.status, result.failure = "Failed", str(exc)
            finally:
                result.seconds = time.monotonic() - started
            self.progress(
                f"{spec['name']}: {result.status} in {result.seconds:.1f}s {result.failure}".rstrip()
            )
            if result.status in ("Success", "Cancelled"):
                break
        return result

    _jump: str | None = None

    def _step(
        self, spec: Mapping[str, Any], execution: Execution, workdir: Path, result: StepResult
    ) -> str | None:
        action = spec["action"]
        if action == "aws:executeScript":
            result.outputs = self._execute_script(spec, execution, workdir)
        elif action == "aws:executeAwsApi":
            result.outputs = self._execute_api(spec, execution)
        elif action == "aws:waitForAwsResourceProperty":
            result.outputs = self._wait_property(spec, execution)
        elif action == "aws:approve":
            result.outputs = self._approve(spec, execution)
        elif action == "aws:branch":
            return self._branch(spec, execution)
        elif action == "aws:sleep":
            self._pause(_duration(str(spec["inputs"].get("Duration", "PT0S"))) * self.scale)
        return None


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _duration(text: str) -> float:
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", text)
    if not match:
        raise StepFailed(f"Duration {text!r} is not an ISO 8601 duration like PT30S")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def answer_all(answer: bool) -> Approver:
    """An approver where every listed principal gives the same answer (tests, `--approve`)."""

    def approve(step: str, message: str, approvers: Sequence[str], minimum: int) -> list[Decision]:
        return [(p, answer) for p in approvers]

    return approve
