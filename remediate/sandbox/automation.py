"""SSM's StartAutomationExecution in the sandbox (issue 23, operator-hunt N23), which moto lacks.

Only the request's acceptance is emulated, not the execution: the runbook's steps are proven by
`remediate ssm-run --local`. The rules, from the SSM API reference, "StartAutomationExecution":

* `DocumentName` names an existing Automation runbook, else AutomationDefinitionNotFoundException
  ("An Automation runbook with the specified name couldn't be found");
* `Parameters` must be among the runbook's parameters, else InvalidAutomationExecutionParametersException
  ("The supplied parameters ... may not match the set of parameters permitted for the specified
  Automation runbook");
* the answer is `{"AutomationExecutionId": ...}`, 36 characters.

Not confirmed: the wording of each refusal, and the checks of TargetLocations (not emulated).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import yaml
from moto.core.responses import ActionResult
from moto.ssm import responses as _ssm_responses
from moto.ssm.exceptions import SSMException

__all__ = ["patch"]


class _NotFound(SSMException):
    def __init__(self, name: str) -> None:
        super().__init__(
            "AutomationDefinitionNotFoundException", f"An Automation runbook named {name} couldn't be found."
        )


class _BadParameters(SSMException):
    def __init__(self, names: list[str]) -> None:
        super().__init__(
            "InvalidAutomationExecutionParametersException",
            f"Parameters {names} are not among those the runbook takes.",
        )


def _start_automation_execution(self: Any) -> ActionResult:
    name = self._get_param("DocumentName")
    documents = self.ssm_backend._documents.get(name)
    if documents is None:
        raise _NotFound(name)
    document = documents.get_default_version()
    if document.document_type != "Automation":
        raise _NotFound(name)
    loads = json.loads if document.document_format == "JSON" else yaml.safe_load
    declared = set((loads(document.content) or {}).get("parameters") or {})
    unknown = sorted(set(self._get_param("Parameters") or {}) - declared)
    if unknown:
        raise _BadParameters(unknown)
    return ActionResult({"AutomationExecutionId": str(uuid.uuid4())})


def patch(replace: Callable[[Any, str, Any], None]) -> None:
    replace(
        _ssm_responses.SimpleSystemManagerResponse, "start_automation_execution", _start_automation_execution
    )
