"""A local interpreter of the Automation runbook, step by step, so the runbook itself can be tested.

Nothing emulates Automation executions (moto has no StartAutomationExecution), so this runs the
generated document the way SSM does, for the actions it uses: `aws:executeScript` (the handler is
imported from the bundle, or from the installed package, in a fresh interpreter per step, with the
InputPayload as `events`), `aws:branch`, `aws:approve` (answered by a callback: the operator or a test),
`aws:sleep`; `{{ Parameter }}`, `{{ step.Output }}`, `{{ global:REGION }}` and
`{{ automation:EXECUTION_ID }}` substitution; `nextStep`, `isEnd`, `onFailure`; step outputs by
`$.Payload.Name` selectors and their declared types; SSM's limits of 600 s per script step and 100 KB
per returned payload. The bundle's sha256 is checked against the document's `files` section.
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
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from remediate.errors import InputError
from remediate.ssm.bundle import entry_module
from remediate.ssm.document import ENTRY_MODULE
from remediate.ssm.limits import PAYLOAD_LIMIT, STEP_TIMEOUT

Approver = Callable[[str, str], bool]
"""(step name, approval message) -> approved?"""

_REF = re.compile(r"\{\{\s*([A-Za-z0-9_.:]+)\s*\}\}")
_STEP_MAIN = """
import importlib, json, sys, traceback
sys.path.insert(0, sys.argv[1])
module, _, name = sys.argv[2].rpartition(".")
events = json.load(sys.stdin)
try:
    result = getattr(importlib.import_module(module), name)(events, None)
    out = {"ok": True, "payload": result}
except BaseException as exc:
    traceback.print_exc()
    out = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
with open(sys.argv[3], "w") as fh:
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
        return next((s for s in self.steps if s.name == name), None)

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


class Runner:
    """Runs one document; `bundle` is the attachment zip (else the installed package is imported)."""

    def __init__(
        self,
        doc: Mapping[str, Any],
        *,
        approver: Approver,
        bundle: Path | None = None,
        python: str = sys.executable,
        env: Mapping[str, str] | None = None,
        region: str | None = None,
        account_id: str = "000000000000",
        step_timeout: float = STEP_TIMEOUT,
    ) -> None:
        self.doc = doc
        self.approver = approver
        self.bundle = bundle
        self.python = python
        self.env = dict(os.environ if env is None else env)
        self.region = (
            region or self.env.get("AWS_REGION") or self.env.get("AWS_DEFAULT_REGION") or "us-east-1"
        )
        self.account_id = account_id
        self.step_timeout = min(step_timeout, STEP_TIMEOUT)
        self.values: dict[str, Any] = {}

    # -- substitution --------------------------------------------------------------------------------
    def _lookup(self, name: str, execution: Execution) -> Any:
        if name in self.values:
            return self.values[name]
        if name == "global:REGION":
            return self.region
        if name == "global:ACCOUNT_ID":
            return self.account_id
        if name == "automation:EXECUTION_ID":
            return execution.execution_id
        step, _, output = name.partition(".")
        result = execution.step(step)
        if result is None or output not in result.outputs:
            raise StepFailed(f"{{{{ {name} }}}} cannot be resolved: no such parameter or step output")
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

    # -- actions -------------------------------------------------------------------------------------
    def _code_dir(self, workdir: Path, inputs: Mapping[str, Any], step: str) -> tuple[Path, str]:
        """Where the handler's module lives, and its `module.function` name."""
        handler = str(inputs.get("Handler", ""))
        if "Script" in inputs:
            module = f"_inline_{step}"
            (workdir / f"{module}.py").write_text(str(inputs["Script"]))
            return workdir, f"{module}.{handler}"
        attachment = inputs.get("Attachment")
        if not attachment:
            raise StepFailed("an executeScript step needs Script or Attachment")
        if self.bundle is None:
            (workdir / f"{ENTRY_MODULE}.py").write_text(entry_module())
            return workdir, handler
        return self._unpacked(workdir, str(attachment)), handler

    def _unpacked(self, workdir: Path, attachment: str) -> Path:
        assert self.bundle is not None
        target = workdir / "attachment"
        if target.is_dir():
            return target
        declared = self.doc.get("files", {}).get(attachment)
        if declared is None:
            raise StepFailed(f"attachment {attachment} is not in the document's files section")
        data = self.bundle.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != declared.get("checksums", {}).get("sha256"):
            raise StepFailed(f"attachment {attachment}: sha256 {digest} does not match the document's")
        with zipfile.ZipFile(self.bundle) as zf:
            zf.extractall(target)
        return target

    def _execute_script(self, spec: Mapping[str, Any], execution: Execution, workdir: Path) -> dict[str, Any]:
        inputs = spec["inputs"]
        if inputs.get("Runtime") != "python3.11":
            raise StepFailed(f"runtime {inputs.get('Runtime')!r} is not supported (python3.11)")
        events = self.substitute(inputs.get("InputPayload", {}), execution)
        code_dir, handler = self._code_dir(workdir, inputs, spec["name"])
        result_file = workdir / f"{spec['name']}.result.json"
        timeout = min(float(spec.get("timeoutSeconds", STEP_TIMEOUT)), self.step_timeout)
        try:
            proc = subprocess.run(  # noqa: S603 - our own interpreter and stub
                [self.python, "-c", _STEP_MAIN, str(code_dir), handler, str(result_file)],
                input=json.dumps(events),
                capture_output=True,
                text=True,
                env=self.env,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise StepFailed(f"Step timed out after {timeout:g} seconds") from None
        if not result_file.exists():
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise StepFailed(f"the script did not run: {tail}")
        result = json.loads(result_file.read_text())
        if not result["ok"]:
            raise StepFailed(result["error"])
        payload = result["payload"]
        size = len(json.dumps(payload, separators=(",", ":")).encode())
        if size > PAYLOAD_LIMIT:
            raise StepFailed(f"the output payload is {size} bytes, over the {PAYLOAD_LIMIT} byte limit")
        return self._outputs(spec, {"Payload": payload})

    @staticmethod
    def _outputs(spec: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for out in spec.get("outputs", []):
            value: Any = document
            for key in out["Selector"].removeprefix("$.").split("."):
                if not isinstance(value, dict) or key not in value:
                    raise StepFailed(f"output {out['Name']}: selector {out['Selector']} matches nothing")
                value = value[key]
            if not _TYPES[out.get("Type", "String")](value):
                raise StepFailed(f"output {out['Name']} is not of type {out.get('Type', 'String')}")
            outputs[out["Name"]] = value
        return outputs

    def _approve(self, spec: Mapping[str, Any], execution: Execution) -> dict[str, Any]:
        inputs = self.substitute(spec["inputs"], execution)
        approvers = inputs.get("Approvers") or []
        if not approvers or len(approvers) > 10:
            raise StepFailed(f"Approvers must name 1 to 10 principals, got {len(approvers)}")
        message = str(inputs.get("Message", ""))
        if len(message) > 4096:
            raise StepFailed(f"the approval Message is {len(message)} characters, over 4096")
        if not self.approver(spec["name"], message):
            raise StepFailed("Step was rejected by an approver")
        return {"ApprovalStatus": "Approved"}

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
        """Start an execution; return it in a final state (Success or Failed)."""
        if str(self.doc.get("schemaVersion")) != "0.3":
            raise InputError("only Automation documents (schemaVersion 0.3) can be run")
        self.values = resolve_parameters(self.doc, parameters)
        execution = Execution(execution_id=secrets.token_hex(18))
        steps: list[Mapping[str, Any]] = list(self.doc["mainSteps"])
        index = {s["name"]: i for i, s in enumerate(steps)}
        position: int | None = 0
        with tempfile.TemporaryDirectory(prefix="remediate-ssm-run-") as tmp:
            while position is not None and position < len(steps):
                spec = steps[position]
                result = StepResult(spec["name"], spec["action"], "InProgress")
                execution.steps.append(result)
                started = time.monotonic()
                jump: str | None = None
                try:
                    jump = self._step(spec, execution, Path(tmp), result)
                    result.status = "Success"
                except StepFailed as exc:
                    result.status, result.failure = "Failed", str(exc)
                finally:
                    result.seconds = time.monotonic() - started
                if result.status == "Failed":
                    on_failure = str(spec.get("onFailure", "Abort"))
                    if on_failure.startswith("step:"):
                        position = index[on_failure[5:]]
                        continue
                    if on_failure != "Continue":
                        execution.status, execution.failure = (
                            "Failed",
                            f"Step {spec['name']}: {result.failure}",
                        )
                        break
                if _truthy(spec.get("isEnd")):
                    break
                target = jump or spec.get("nextStep")
                if target is not None and target not in index:
                    execution.status, execution.failure = "Failed", f"no step named {target}"
                    break
                position = index[target] if target is not None else position + 1
        if execution.status == "InProgress":
            execution.status = "Success"
        for ref in self.doc.get("outputs", []):  # outputs of steps that did not run are left out
            step, _, name = ref.partition(".")
            done = execution.step(step)
            if done is not None and name in done.outputs:
                execution.outputs[ref] = done.outputs[name]
        return execution

    def _step(
        self, spec: Mapping[str, Any], execution: Execution, workdir: Path, result: StepResult
    ) -> str | None:
        action = spec["action"]
        if action == "aws:executeScript":
            result.outputs = self._execute_script(spec, execution, workdir)
        elif action == "aws:approve":
            result.outputs = self._approve(spec, execution)
        elif action == "aws:branch":
            return self._branch(spec, execution)
        elif action == "aws:sleep":
            time.sleep(_duration(str(spec["inputs"].get("Duration", "PT0S"))))
        else:
            raise StepFailed(f"action {action} is not supported by the local runner")
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
