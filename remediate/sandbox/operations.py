"""Which AWS service and operation an incoming HTTP request is.

The call log and the fault rules both need it, and they must agree, so it lives in one function. The service
is
the signing name in the SigV4 credential scope (``lambda``, ``ec2``, ``kafka``, ``iam``...). The operation
comes
from the ``X-Amz-Target`` header (JSON protocols), the ``Action`` parameter (query/EC2 protocols), or, for
REST
protocols such as Lambda and Kafka, from matching method and path against the botocore model via moto's router
(e.g. ``GET /2015-03-31/event-source-mappings/{UUID}`` is ``GetEventSourceMapping``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Final, Literal
from urllib.parse import parse_qs

from botocore.exceptions import UnknownServiceError
from moto.core.request import Request
from moto.core.routing import get_service_router
from werkzeug.exceptions import HTTPException

__all__ = ["UNKNOWN", "Protocol", "RequestInfo", "identify", "is_control_request"]

UNKNOWN: Final = "Unknown"

Protocol = Literal["json", "query", "ec2", "rest-json", "rest-xml"]

# Signing names that differ from botocore's service names (only REST routing needs the botocore name).
_BOTOCORE_NAMES: Final[Mapping[str, str]] = {
    "monitoring": "cloudwatch",
    "states": "stepfunctions",
    "email": "ses",
}


_REST_XML: Final = frozenset({"route53", "s3"})
"""Signing names of REST services whose wire format is XML (botocore model metadata `protocol`)."""


class RequestInfo:
    """The identity of one request: service signing name, operation name and wire protocol."""

    __slots__ = ("operation", "protocol", "service")

    def __init__(self, service: str, operation: str, protocol: Protocol) -> None:
        self.service = service
        self.operation = operation
        self.protocol = protocol

    def as_tuple(self) -> tuple[str, str]:
        return (self.service, self.operation)

    def __repr__(self) -> str:
        return f"RequestInfo({self.service!r}, {self.operation!r}, {self.protocol!r})"


def is_control_request(environ: Mapping[str, Any]) -> bool:
    """moto's own endpoints (reset, seed, dashboard) are not AWS traffic: never logged, never faulted."""
    path = str(environ.get("PATH_INFO", ""))
    return path.startswith("/moto-api") or path == "/favicon.ico"


def _service_from_authorization(header: str) -> str | None:
    # AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/lambda/aws4_request, SignedHeaders=...,
    # Signature=...
    for part in header.replace(",", " ").split():
        if part.startswith("Credential="):
            scope = part.removeprefix("Credential=").split("/")
            if len(scope) >= 5:
                return scope[3].lower()
    return None


def _action_from(environ: Mapping[str, Any], body: bytes) -> str | None:
    query = parse_qs(str(environ.get("QUERY_STRING", "")))
    if query.get("Action"):
        return query["Action"][0]
    if str(environ.get("CONTENT_TYPE", "")).startswith("application/x-www-form-urlencoded") and body:
        form = parse_qs(body.decode("utf-8", errors="replace"))
        if form.get("Action"):
            return form["Action"][0]
    return None


@functools.cache
def _router(service: str) -> Any:
    return get_service_router(_BOTOCORE_NAMES.get(service, service))


def _rest_operation(service: str, environ: Mapping[str, Any], body: bytes) -> str | None:
    host = str(environ.get("HTTP_HOST", "localhost"))
    path = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/"))
    if "?" not in path and environ.get("QUERY_STRING"):
        path = f"{path}?{environ['QUERY_STRING']}"
    headers = {
        key[5:].replace("_", "-").title(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = str(environ["CONTENT_TYPE"])
    request = Request.from_primitives(
        str(environ.get("REQUEST_METHOD", "GET")), f"http://{host}{path}", headers, body
    )
    try:
        operation, _params = _router(service).match(request)
    except (HTTPException, NotImplementedError, UnknownServiceError):
        return None
    return str(operation.name)


def identify(environ: Mapping[str, Any], body: bytes) -> RequestInfo:
    """Identify a request from its WSGI environ and (already read) body; never raises."""
    service = _service_from_authorization(str(environ.get("HTTP_AUTHORIZATION", ""))) or UNKNOWN
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return RequestInfo(service, str(target).rsplit(".", 1)[-1], "json")
    action = _action_from(environ, body)
    if action:
        return RequestInfo(service, action, "ec2" if service == "ec2" else "query")
    operation = _rest_operation(service, environ, body) if service != UNKNOWN else None
    return RequestInfo(service, operation or UNKNOWN, "rest-xml" if service in _REST_XML else "rest-json")
