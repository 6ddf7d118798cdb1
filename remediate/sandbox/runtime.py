"""The sandbox's Lambda runtime for Python functions packaged as a zip (issue 22).

moto runs a function only inside Docker; the sandbox instead runs a Python function's handler for real, in a
subprocess of this interpreter, with the deployment package first on its path and the invocation's event on
its standard input, as Lambda's Python runtime does. The subprocess talks to this same sandbox through
`AWS_ENDPOINT_URL` (the Host the Invoke came to), signed with the runtime's own credentials, so what the
function reads (a secret, say) is served like any call. Lambda's Python runtimes include the AWS SDK
(boto3), which the subprocess finds where this interpreter has it.

What Lambda does around the call, kept here (Lambda API reference, Invoke): the log group
`/aws/lambda/NAME` is created on the first invocation; a handler's exception is a 200 with
`X-Amz-Function-Error: Unhandled` and a payload of `errorMessage` / `errorType`; a run past the function's
`Timeout` ends as `Task timed out after N seconds`. Functions that are not a Python zip keep moto's own path.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from typing import Any, Final

from moto.awslambda import models as _lambda_models

RUNTIME_ACCESS_KEY: Final = "ASIASANDBOXFUNCTION"
"""The access key a function's calls are signed with, so the call log can tell them from the tool's."""

_RUN: Final = """
import importlib, json, sys, traceback
sys.path.insert(0, sys.argv[1])
module, function = sys.argv[2].rsplit(".", 1)
event = json.loads(sys.stdin.read() or "{}")
try:
    result = getattr(importlib.import_module(module), function)(event, None)
except Exception as exc:
    traceback.print_exc()
    print(json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}))
    sys.exit(3)
print(json.dumps(result))
"""


def _runs_here(function: Any) -> bool:
    runtime = str(getattr(function, "run_time", "") or "")
    handler = str(getattr(function, "handler", "") or "")
    code: bytes = getattr(function, "code_bytes", b"") or b""
    if not runtime.startswith("python") or "." not in handler or not code:
        return False
    module = handler.rsplit(".", 1)[0].replace(".", "/")
    try:
        names = set(zipfile.ZipFile(io.BytesIO(code)).namelist())
    except zipfile.BadZipFile:
        return False
    return f"{module}.py" in names or f"{module}/__init__.py" in names


def _environment(function: Any, host: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({str(k): str(v) for k, v in (function.environment_vars or {}).items()})
    env.update(
        AWS_ENDPOINT_URL=f"http://{host}",
        AWS_REGION=function.region,
        AWS_DEFAULT_REGION=function.region,
        AWS_ACCESS_KEY_ID=RUNTIME_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY="sandbox-function",  # noqa: S106 - the sandbox accepts any signature
        AWS_SESSION_TOKEN="sandbox-function",  # noqa: S106
        AWS_LAMBDA_FUNCTION_NAME=function.function_name,
    )
    return env


def _run(function: Any, body: str, host: str) -> tuple[bytes, bool, str]:
    """(payload, errored, log text) of one invocation."""
    with tempfile.TemporaryDirectory(prefix="sandbox-lambda-") as folder:
        package = os.path.join(folder, "package.zip")
        with open(package, "wb") as out:
            out.write(function.code_bytes)
        try:
            done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
                [sys.executable, "-I", "-c", _RUN, package, function.handler],
                input=body or "{}",
                capture_output=True,
                text=True,
                timeout=float(function.timeout),
                env=_environment(function, host),
                check=False,
            )
        except subprocess.TimeoutExpired:
            message = f"Task timed out after {float(function.timeout):.2f} seconds"
            return json.dumps({"errorMessage": message}).encode(), True, message
    lines = done.stdout.strip().splitlines()
    payload = (lines[-1] if lines else "null").encode()
    return payload, done.returncode != 0, done.stderr


def _invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> str | bytes:
    if not _runs_here(self):
        return _original_invoke(self, body, request_headers, response_headers)  # type: ignore[no-any-return]
    self.logs_backend.ensure_log_group(self.logs_group_name)
    payload, errored, logs = _run(self, body, request_headers.get("Host", "127.0.0.1"))
    if errored:
        response_headers["x-amz-function-error"] = "Unhandled"
    if request_headers.get("x-amz-log-type") == "Tail":
        response_headers["x-amz-log-result"] = base64.b64encode(logs[-4096:].encode()).decode()
    return payload


_original_invoke: Any = None


def patch(replace: Any) -> None:
    """Install the runtime through the sandbox's patch helper (patches._replace, undone with the rest)."""
    global _original_invoke
    _original_invoke = _lambda_models.LambdaFunction.invoke
    replace(_lambda_models.LambdaFunction, "invoke", _invoke)
