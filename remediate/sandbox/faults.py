"""Server-side fault injection and the call log: a WSGI middleware in front of moto's application.

Faults are injected in the server rather than in the client so that the code under test sees exactly what it
would see from AWS: an HTTP error in the service's own protocol, a slow answer, or a connection closed without
an answer. And a request that fails never reaches moto, so it has no side effect, as with a real throttle.
"""

from __future__ import annotations

import io
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final, Literal

from remediate.sandbox import patches
from remediate.sandbox.operations import RequestInfo, identify, is_control_request

__all__ = ["CallLog", "ConnectionDrop", "FaultKind", "FaultMiddleware", "FaultRule", "FaultSet", "Hold"]

FaultKind = Literal["throttle", "status", "reset", "latency"]
_KINDS: Final = frozenset({"throttle", "status", "reset", "latency"})

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class FaultRule:
    """One fault: what it matches (``None`` = anything) and what it does.

    ``times`` limits the rule to its first N firings; ``probability`` fires it at random with an RNG seeded by
    ``seed`` (so a test is reproducible). With both, the rule fires at random until it has fired N times.

    ``caller`` restricts the rule to requests signed with that access key id, so that two processes given
    different keys can be slowed differently (one run's writes, another's reads). A ``latency`` rule delays
    the request before it reaches the backend (``phase="request"``: the call takes effect late) or the answer
    after the backend has handled it (``phase="response"``: the call takes effect at once, but its caller
    learns the result late, as when a read is answered by a slow network). A ``reset`` rule with
    ``phase="response"`` drops the connection after the backend has handled the request: the call took
    effect but its answer is lost, and the client's retry meets what the first attempt made.
    """

    service: str | None = None
    operation: str | None = None
    kind: FaultKind = "throttle"
    status: int = 503
    times: int | None = None
    probability: float | None = None
    latency: float = 0.0
    seed: int | None = None
    caller: str | None = None
    phase: Literal["request", "response"] = "request"

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be one of {sorted(_KINDS)}, not {self.kind!r}")
        if not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status code, not {self.status}")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.latency < 0:
            raise ValueError("latency must be >= 0")
        if self.phase not in ("request", "response"):
            raise ValueError(f"phase must be 'request' or 'response', not {self.phase!r}")
        if self.phase == "response" and self.kind not in ("latency", "reset"):
            raise ValueError("only a latency or reset rule can act on the response")

    def matches(self, info: RequestInfo, caller: str | None = None) -> bool:
        return (
            (self.service is None or self.service == info.service)
            and (self.operation is None or self.operation == info.operation)
            and (self.caller is None or self.caller == caller)
        )


class _ActiveRule:
    """A rule plus its mutable firing state (the rule itself stays a hashable value)."""

    def __init__(self, rule: FaultRule) -> None:
        self.rule = rule
        self.fired = 0
        self.rng = random.Random(rule.seed)

    def fires(self) -> bool:
        if self.rule.times is not None and self.fired >= self.rule.times:
            return False
        if self.rule.probability is not None and self.rng.random() >= self.rule.probability:
            return False
        self.fired += 1
        return True


class Hold:
    """One request kept at the server's door until the test lets it through (``FaultSet.hold``).

    A test that must act while a call is in flight (signal or kill the client mid-request) waits for
    ``arrived`` instead of slowing every call by a guessed latency and polling the call log; after
    ``release()``, ``handled`` says the backend has done the call (it takes effect even when its client
    is gone, as on AWS). A hold that is never released lets its request through after ``limit``
    seconds, so a failed test cannot wedge the server."""

    def __init__(self, calls: frozenset[tuple[str, str]], nth: int, limit: float) -> None:
        if nth < 1:
            raise ValueError("nth counts from 1")
        self.calls = calls
        self.nth = nth
        self.limit = limit
        self.seen = 0
        self.arrived = threading.Event()
        self.handled = threading.Event()
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def wait_for_release(self) -> None:
        self._released.wait(self.limit)


class FaultSet:
    """The fault rules of one sandbox (``sb.faults``); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_ActiveRule] = []
        self._holds: list[Hold] = []

    def hold(self, calls: Iterable[tuple[str, str]], nth: int = 1, limit: float = 300.0) -> Hold:
        """Hold the ``nth`` request (counted from now) whose ``(service, operation)`` is among ``calls``
        before it reaches the backend, until ``release()``; the others pass as usual."""
        hold = Hold(frozenset(calls), nth, limit)
        with self._lock:
            self._holds.append(hold)
        return hold

    def holding(self, info: RequestInfo) -> Hold | None:
        """The hold this request is the one of, if any (counting it towards every hold it matches)."""
        with self._lock:
            due = None
            for hold in self._holds:  # kept in the set once due: clear() lets it go if nobody releases it
                if hold.seen < hold.nth and info.as_tuple() in hold.calls:
                    hold.seen += 1
                    if hold.seen == hold.nth and due is None:
                        due = hold
        return due

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(_ActiveRule(rule))
        return rule

    def remove(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules = [active for active in self._rules if active.rule is not rule]

    def clear(self) -> None:
        """Remove every rule and hold; a request held now is let through."""
        with self._lock:
            self._rules.clear()
            holds, self._holds = self._holds, []
        for hold in holds:
            hold.release()

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return [active.rule for active in self._rules]

    @property
    def idle(self) -> bool:
        """No rule and no hold: every request goes straight to the backend."""
        with self._lock:
            return not self._rules and not self._holds

    def fired(self, rule: FaultRule) -> int:
        """How many times ``rule`` has fired so far."""
        with self._lock:
            return sum(active.fired for active in self._rules if active.rule is rule)

    def select(self, info: RequestInfo, caller: str | None = None) -> tuple[float, float, FaultRule | None]:
        """The latency to add before the request, the latency to add before its answer, and the first
        terminating fault (throttle/status/reset, before or after the backend) that fires, if any."""
        before = after = 0.0
        with self._lock:
            for active in self._rules:
                if not active.rule.matches(info, caller) or not active.fires():
                    continue
                if active.rule.kind == "latency":
                    if active.rule.phase == "response":
                        after += active.rule.latency
                    else:
                        before += active.rule.latency
                    continue
                return before, after, active.rule
        return before, after, None


class CallLog:
    """``(service, operation)`` of every AWS request the server received, in arrival order; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[tuple[str, str]] = []

    def record(self, call: tuple[str, str]) -> None:
        with self._lock:
            self._calls.append(call)

    def snapshot(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


class ConnectionDrop(ConnectionResetError):
    """Raised by the middleware to make the server close the TCP connection without answering.

    Werkzeug's request handler treats ConnectionError as a dropped connection; the sandbox's handler closes
    the
    socket with SO_LINGER 0 so the client sees a reset.
    """


# --- error bodies in each protocol ----------------------------------------------------------------

_STATUS_CODES: Final[Mapping[int, str]] = {
    403: "AccessDenied",
    500: "InternalFailure",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
_DENIED_CODES: Final[Mapping[str, str]] = {
    "ec2": "UnauthorizedOperation",
    "lambda": "AccessDeniedException",
    "kafka": "AccessDeniedException",
    "secretsmanager": "AccessDeniedException",
}
_QUERY_NAMESPACES: Final[Mapping[str, str]] = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "route53": "https://route53.amazonaws.com/doc/2013-04-01/",
}


def _error_response(
    info: RequestInfo, status: int, code: str, message: str
) -> tuple[str, list[tuple[str, str]], bytes]:
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    if info.protocol == "ec2":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
        headers.append(("Content-Type", "text/xml"))
    elif info.protocol in ("query", "rest-xml"):
        # Route 53 (REST-XML) answers errors in the same ErrorResponse document as the query protocol.
        namespace = _QUERY_NAMESPACES.get(info.service, f"https://{info.service}.amazonaws.com/doc/")
        fault_type = "Sender" if status < 500 else "Receiver"
        body = (
            f'<ErrorResponse xmlns="{namespace}"><Error><Type>{fault_type}</Type><Code>{code}</Code>'
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers.append(("Content-Type", "text/xml"))
    else:
        body = json.dumps({"__type": code, "message": message, "Message": message})
        headers.append(("x-amzn-ErrorType", code))
        headers.append(
            ("Content-Type", "application/x-amz-json-1.1" if info.protocol == "json" else "application/json")
        )
    raw = body.encode()
    headers.append(("Content-Length", str(len(raw))))
    return f"{status} {_reason(status)}", headers, raw


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def throttle_response(info: RequestInfo) -> tuple[str, list[tuple[str, str]], bytes]:
    """The service's own throttling error: what botocore's retry logic classifies as a throttle."""
    if info.protocol == "ec2":
        return _error_response(info, 503, "RequestLimitExceeded", "Request limit exceeded.")
    if info.protocol in ("query", "rest-xml"):
        # Route 53 throttles with Throttling, HTTP 400 (botocore retry model, _retry.json, route53).
        return _error_response(info, 400, "Throttling", "Rate exceeded")
    if info.protocol == "json":
        return _error_response(info, 400, "ThrottlingException", "Rate exceeded")
    return _error_response(info, 429, "TooManyRequestsException", "Rate exceeded")


def status_response(info: RequestInfo, status: int) -> tuple[str, list[tuple[str, str]], bytes]:
    code = _STATUS_CODES.get(status, "InternalFailure" if status >= 500 else "BadRequest")
    if info.service == "lambda" and status == 500:
        code = "ServiceException"
    if status == 403:  # what a denied IAM permission looks like, in each service's own words
        code = _DENIED_CODES.get(info.service, code)
    return _error_response(info, status, code, f"Injected fault: HTTP {status}")


class FaultMiddleware:
    """WSGI middleware: identify the request, log it, apply faults, and pass the sandbox settings to the
    patches."""

    def __init__(
        self,
        app: WSGIApp,
        faults: FaultSet,
        calls: CallLog,
        transition_reads: Callable[[], int],
        endpoint_pending_reads: Callable[[], int] = lambda: patches.DEFAULT_ENDPOINT_PENDING_READS,
    ) -> None:
        self._app = app
        self._faults = faults
        self._calls = calls
        self._transition_reads = transition_reads
        self._endpoint_pending_reads = endpoint_pending_reads

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if is_control_request(environ):
            return self._app(environ, start_response)
        body = _read_body(environ)
        info = identify(environ, body)
        self._calls.record(info.as_tuple())
        hold = self._faults.holding(info)
        if hold is None:
            return self._faulted(environ, start_response, info)
        hold.arrived.set()
        hold.wait_for_release()
        try:
            return self._faulted(environ, start_response, info)
        finally:
            hold.handled.set()

    def _faulted(
        self, environ: dict[str, Any], start_response: StartResponse, info: RequestInfo
    ) -> Iterable[bytes]:
        delay, answer_delay, rule = self._faults.select(info, caller_of(environ))
        if delay:
            time.sleep(delay)
        answer_lost = rule is not None and rule.phase == "response"
        if rule is not None and not answer_lost:
            if rule.kind == "reset":
                raise ConnectionDrop(f"injected connection reset for {info.service}:{info.operation}")
            status, headers, payload = (
                throttle_response(info) if rule.kind == "throttle" else status_response(info, rule.status)
            )
            start_response(status, headers)
            return [payload]
        with patches.request_settings(
            transition_reads=self._transition_reads(), endpoint_pending_reads=self._endpoint_pending_reads()
        ):
            # moto renders the whole response inside this call, so the settings are in effect for all of it.
            rendered = list(self._app(environ, start_response))
        if answer_delay:
            time.sleep(answer_delay)  # the call has taken effect; only its answer is late
        if answer_lost:
            raise ConnectionDrop(f"injected: {info.service}:{info.operation} done, its answer lost")
        return rendered


def caller_of(environ: Mapping[str, Any]) -> str | None:
    """The access key id a request was signed with (SigV4 ``Credential=AKID/date/region/service/...``)."""
    header = str(environ.get("HTTP_AUTHORIZATION", ""))
    for part in header.replace(",", " ").split():
        if part.startswith("Credential="):
            return part.removeprefix("Credential=").split("/", 1)[0] or None
    return None


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back, so moto reads it again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body
