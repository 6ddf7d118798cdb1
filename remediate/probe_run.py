"""The probe function's life: create it where the pollers stand, invoke it once, delete it and its logs.

Deletion runs on every exit path (`finally`: success, a failed call, Ctrl-C and SIGTERM, which the CLI turns
into an exception). A run killed outright leaves a function that `sweep` finds by its name prefix and its
`remediate:probe` tag (the ESM's UUID) and removes: the next `remediate probe` of the mapping does so first,
under the mapping's lock, so it never removes a function a live run is using.

AWS rules, each from its page:
- CreateFunction (Lambda API reference): FunctionName up to 64 characters; Timeout 1-900 s; VpcConfig
  SubnetIds and SecurityGroupIds; Tags; the caller needs iam:PassRole on the execution role.
- A function's logs go to the log group `/aws/lambda/NAME`, which Lambda creates on first use and which
  deleting the function does not delete (Lambda developer guide, "Sending Lambda function logs to
  CloudWatch Logs"): the probe deletes it too (logs:DeleteLogGroup).
- A VPC function is `Pending` until its network interfaces exist; Invoke before `Active` fails
  (Lambda developer guide, "Lambda function states"); the probe waits for `Active` by reading the state.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from typing import Any, Final

from remediate.aws import Aws
from remediate.errors import AwsError, RemediateError
from remediate.probe_package import Package
from remediate.probe_request import FUNCTION_TIMEOUT_S, HANDLER, ProbeRequest

PREFIX: Final = "remediate-probe-"
PROBE_TAG: Final = "remediate:probe"
RUN_TAG: Final = "remediate:run-id"
RUNTIME: Final = "python3.12"
MEMORY_MB: Final = 256
ACTIVE_WAIT_S: Final = 300.0
"""A VPC function's interfaces may take minutes on first use of a subnet/group pair."""
_NOT_FOUND: Final = frozenset({"ResourceNotFoundException"})


class ProbeFailed(RemediateError):
    """The probe function could not be created, did not become Active, or failed as a function."""


def function_name(esm_uuid: str, run_id: str) -> str:
    """`remediate-probe-<ESM UUID>-<8 hex of the run>`: 61 characters, within Lambda's 64."""
    return f"{PREFIX}{esm_uuid}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"


def log_group(name: str) -> str:
    return f"/aws/lambda/{name}"


def leftovers(aws: Aws, esm_uuid: str, run_id: str | None = None) -> list[str]:
    """This mapping's probe functions still in the account (a killed run's): by name, then by tag; with
    `run_id`, only that run's (its `remediate:run-id` tag too: `remediate rollback` of a probe run)."""
    found: list[str] = []
    marker: str | None = None
    while True:
        params: dict[str, Any] = {"Marker": marker} if marker else {}
        page = aws.call("lambda", "list_functions", **params)
        for function in page.get("Functions", []):
            if not str(function["FunctionName"]).startswith(f"{PREFIX}{esm_uuid}-"):
                continue
            tags = aws.call("lambda", "list_tags", Resource=function["FunctionArn"]).get("Tags", {})
            if tags.get(PROBE_TAG) == esm_uuid and run_id in (None, tags.get(RUN_TAG)):
                found.append(str(function["FunctionName"]))
        marker = page.get("NextMarker")
        if not marker:
            return found


def _delete(aws: Aws, service: str, operation: str, **params: Any) -> None:
    try:
        aws.call(service, operation, **params)
    except AwsError as exc:
        if exc.code not in _NOT_FOUND:
            raise


def remove_log_group(aws: Aws, name: str) -> None:
    """Delete the function's log group, if it is there (Lambda made it on the first invocation)."""
    _delete(aws, "logs", "delete_log_group", logGroupName=log_group(name))


def remove(aws: Aws, name: str) -> None:
    """Delete the function and its log group; either may already be gone."""
    _delete(aws, "lambda", "delete_function", FunctionName=name)
    remove_log_group(aws, name)


def sweep(aws: Aws, esm_uuid: str) -> list[str]:
    """Remove what killed runs left for this mapping; returns the names removed."""
    names = leftovers(aws, esm_uuid)
    for name in names:
        remove(aws, name)
    return names


def _wait_active(aws: Aws, name: str) -> None:
    deadline = time.monotonic() + ACTIVE_WAIT_S
    delay = 0.5
    while True:
        config = aws.call("lambda", "get_function_configuration", FunctionName=name)
        state = config.get("State", "Active")
        if state == "Active":
            return
        if state == "Failed" or time.monotonic() > deadline:
            reason = config.get("StateReason") or f"still {state} after {ACTIVE_WAIT_S:g}s"
            raise ProbeFailed(f"the probe function {name} did not become Active: {reason}")
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


def create_spec(
    request: ProbeRequest, package: Package, name: str, esm_uuid: str, run_id: str
) -> dict[str, Any]:
    """CreateFunction's parameters: also what the plan shows (without the zip's bytes)."""
    spec: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": RUNTIME,
        "Role": request.role_arn,
        "Handler": HANDLER,
        "Timeout": FUNCTION_TIMEOUT_S,
        "MemorySize": MEMORY_MB,
        "Description": f"remediate probe of ESM {esm_uuid} (run {run_id}); deleted by the run",
        "Tags": {RUN_TAG: run_id, PROBE_TAG: esm_uuid},
        "Code": {"ZipFile": package.data},
    }
    if request.subnet_ids:
        spec["VpcConfig"] = {
            "SubnetIds": list(request.subnet_ids),
            "SecurityGroupIds": list(request.security_group_ids),
        }
    return spec


def run_probe(
    aws: Aws,
    request: ProbeRequest,
    package: Package,
    *,
    esm_uuid: str,
    run_id: str,
    record: Any,
) -> dict[str, Any]:
    """Create, invoke, delete. `record(event, **fields)` journals each step (the run's journal)."""
    name = function_name(esm_uuid, run_id)
    record("probe-create", function=name, package_sha256=package.sha256)
    try:
        try:
            aws.call("lambda", "create_function", **create_spec(request, package, name, esm_uuid, run_id))
        except AwsError as exc:
            raise ProbeFailed(f"could not create the probe function {name}: {exc}") from exc
        _wait_active(aws, name)
        record("probe-invoke", function=name)
        answer = aws.call("lambda", "invoke", FunctionName=name, Payload=json.dumps(request.event).encode())
        payload = answer["Payload"].read().decode()
        if answer.get("FunctionError"):
            error = json.loads(payload) if payload.startswith("{") else {}
            kind, message = error.get("errorType", "error"), error.get("errorMessage", "")
            raise ProbeFailed(f"the probe function failed: {kind}: {message}")
        result: dict[str, Any] = json.loads(payload)
        return result
    finally:
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C must not skip the deletion
            remove(aws, name)
        record("probe-deleted", function=name)
