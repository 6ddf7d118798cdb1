"""Measure the path from the pollers' place to a Kafka cluster, step by step, as the mapping's pollers do.

Runs inside `remediate probe`'s short-lived Lambda function, placed in the subnets and security groups the
mapping's pollers use and running as the mapping's execution role. For each bootstrap server, then for every
broker the cluster advertises in its Metadata response (the names the pollers really connect to), it measures:

  dns -> tcp -> tls (trust + host name) -> api_versions -> sasl (as the mapping authenticates) -> metadata,

then Metadata for the mapping's topics (exists, partitions, leaders among the reachable brokers) and the
consumer group (FindCoordinator + DescribeGroups: both need the group's DESCRIBE ACL).

Outcomes use the words of `remediate diagnose --probe` (ok, unresolvable, refused, timeout, unreachable,
hostname-mismatch, unknown-ca, expired, not-yet-valid, tls-error, not-tls) plus `kafka-error` with the code
and name the broker returned. The result carries outcomes, timings and error classes only: the secret's
values stay in this process's memory (the client key is written to a private temporary file only for the
length of `load_cert_chain`). Every step is bounded by the time left before `deadline_s`; a step that runs
out of time is `timeout`, the steps after it `skipped`, and what was measured before is returned.

Why kafka-python (PyPI `kafka-python`, pure Python, Apache-2.0): it is the one maintained pure-Python client
whose protocol classes encode and decode every Kafka request by version from Kafka's own message schemas,
and which ships SCRAM-SHA-512 and AWS_MSK_IAM (SigV4 with botocore, already in Lambda's Python runtime) as
SASL mechanisms. The probe uses those pieces over its own blocking socket so it can time and attribute every
step to a broker, which a consumer object (retries, background threads) hides. confluent-kafka needs
librdkafka (a native wheel per platform) and aiokafka's IAM support needs more packages; neither fits a small
zip built from installed packages.

This module imports nothing from the rest of `remediate`: it is copied into the function's zip alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import struct
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kafka.errors import for_code
from kafka.net.sasl import get_sasl_mechanism
from kafka.protocol.admin.groups import DescribeGroupsRequest, DescribeGroupsResponse
from kafka.protocol.metadata.api_versions import ApiVersionsRequest, ApiVersionsResponse
from kafka.protocol.metadata.find_coordinator import FindCoordinatorRequest, FindCoordinatorResponse
from kafka.protocol.metadata.metadata import MetadataRequest, MetadataResponse
from kafka.protocol.sasl import (
    SaslAuthenticateRequest,
    SaslAuthenticateResponse,
    SaslHandshakeRequest,
    SaslHandshakeResponse,
)

RESULT_VERSION = 1
STEP_TIMEOUT_S = 5.0
DEFAULT_DEADLINE_S = 25.0
SECRET_TIMEOUT_S = 4.0
"""Connect and read timeout of each of the (at most two) Secrets Manager attempts."""
CLIENT_ID = "remediate-probe"
STEPS = ("dns", "tcp", "tls", "api_versions", "sasl", "metadata")
# OpenSSL X509_V_ERR_* codes, the same grouping as remediate/observe/probe.py.
_VERIFY_OUTCOMES: dict[int, str] = {
    9: "not-yet-valid",
    10: "expired",
    62: "hostname-mismatch",
    64: "hostname-mismatch",
    **dict.fromkeys((2, 18, 19, 20, 21), "unknown-ca"),
}
# COORDINATOR_LOAD_IN_PROGRESS and COORDINATOR_NOT_AVAILABLE: retriable, as the Java client treats them.
_RETRIABLE_COORDINATOR = frozenset({14, 15})
_RETRY_BACKOFF_S = 0.25
# The highest version of each request this probe sends (FindCoordinator v4 batches keys; v3 is enough).
_MAX_VERSION = {MetadataRequest: 12, FindCoordinatorRequest: 3, DescribeGroupsRequest: 5}


@dataclass(frozen=True)
class Credentials:
    """What the mapping authenticates with, read from its secrets inside the function."""

    mechanism: str | None = None  # SCRAM-SHA-512, SCRAM-SHA-256, AWS_MSK_IAM, or None
    username: str | None = None
    password: str | None = None
    client_cert_pem: str | None = None  # mTLS: the certificate chain
    client_key_pem: str | None = None
    client_key_password: str | None = None
    ca_pem: str | None = None  # the mapping's SERVER_ROOT_CA_CERTIFICATE; None = public CAs


@dataclass(frozen=True)
class Target:
    """The probe's request: where and how the mapping connects, and what it reads."""

    bootstrap: tuple[str, ...]
    security_protocol: str  # PLAINTEXT, SSL or SASL_SSL
    topics: tuple[str, ...] = ()
    group: str | None = None
    deadline_s: float = DEFAULT_DEADLINE_S


class StepFailed(Exception):
    """A step's failure, already classified: stops the steps after it on this connection."""

    def __init__(self, outcome: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.outcome, self.detail, self.extra = outcome, detail, extra


@dataclass
class Clock:
    """The probe's deadline: every socket operation gets at most the time left (and a step's share)."""

    deadline: float

    def left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise StepFailed("timeout", "the probe's deadline passed before this step")
        return min(left, STEP_TIMEOUT_S)


@dataclass
class Report:
    """One broker's (or bootstrap server's) measured steps, in order."""

    server: str
    role: str  # "bootstrap" or "broker"
    node_id: int | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"server": self.server, "role": self.role, "node_id": self.node_id, "steps": self.steps}

    @property
    def reached(self) -> bool:
        return bool(self.steps) and all(s["outcome"] in ("ok", "not-applicable") for s in self.steps)


def split(server: str) -> tuple[str, int]:
    host, _, port = server.strip().rpartition(":")
    return (host.strip("[]"), int(port)) if host else (server.strip(), 9092)


def _kafka_error(code: int, message: str | None = None) -> StepFailed:
    name = getattr(for_code(code), "message", f"UNKNOWN_{code}")
    detail = f"{name} ({code})" + (f": {message}" if message else "")
    return StepFailed("kafka-error", detail, error_code=code, error_name=name)


class Connection:
    """A blocking Kafka connection that sends one request at a time and reads its response."""

    def __init__(self, sock: socket.socket, clock: Clock) -> None:
        self.sock, self.clock = sock, clock
        self.correlation = 0
        self.versions: dict[int, tuple[int, int]] = {}

    def version(self, request: Any) -> int:
        low, high = self.versions.get(request.API_KEY, (request.min_version, request.max_version))
        version = min(high, request.max_version, _MAX_VERSION.get(request, request.max_version))
        if version < low:
            raise StepFailed("kafka-error", f"broker supports {request.__name__} v{low}+ only")
        return int(version)

    def call(self, request_cls: Any, response_cls: Any, **fields: Any) -> Any:
        version = self.version(request_cls)
        self.correlation += 1
        request = request_cls(version=version, **fields)
        request.with_header(correlation_id=self.correlation, client_id=CLIENT_ID)
        self.sock.settimeout(self.clock.left())
        self.sock.sendall(request.encode(header=True, framed=True))
        size = struct.unpack(">i", self._read(4))[0]
        return response_cls.decode(self._read(size), version=version, header=True)

    def _read(self, n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            self.sock.settimeout(self.clock.left())
            chunk = self.sock.recv(n - got)
            if not chunk:
                raise ConnectionResetError("the broker closed the connection")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)


def _resolve(host: str, port: int, clock: Clock) -> list[str]:
    """getaddrinfo has no timeout of its own: run it on a daemon thread, bounded by the clock."""
    result: list[Any] = []

    def work() -> None:
        try:
            result.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            result.append(exc)

    thread = threading.Thread(target=work, daemon=True, name=f"dns-{host}")
    thread.start()
    thread.join(clock.left())
    if not result:
        raise StepFailed("timeout", f"{host} did not resolve within the step's time")
    if isinstance(result[0], socket.gaierror):
        raise StepFailed("unresolvable", f"{host} does not resolve: {result[0].strerror}")
    if isinstance(result[0], OSError):
        raise StepFailed("unresolvable", f"{host}: {result[0]}")
    return list(dict.fromkeys(str(info[4][0]) for info in result[0]))


def _connect(addresses: list[str], port: int, clock: Clock) -> socket.socket:
    error: StepFailed | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=clock.left())
        except ConnectionRefusedError:
            error = StepFailed("refused", f"{address}:{port} refused the connection (nothing listens there)")
        except TimeoutError:
            error = StepFailed(
                "timeout", f"no TCP answer from {address}:{port}: a security group, NACL or route drops it"
            )
        except OSError as exc:
            error = StepFailed("unreachable", f"{address}:{port}: {exc.strerror or exc}")
    assert error is not None  # addresses is never empty: getaddrinfo returns at least one
    raise error


@contextlib.contextmanager
def _private_file(text: str) -> Iterator[str]:
    """A 0600 file for ssl.load_cert_chain, which reads only files; removed as soon as it is loaded."""
    fd, path = tempfile.mkstemp(prefix="probe-", suffix=".pem")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        yield path
    finally:
        os.unlink(path)


def tls_context(credentials: Credentials) -> ssl.SSLContext:
    """Verify the broker the way Lambda does: the mapping's root CA (or public CAs) and the host name."""
    context = (
        ssl.create_default_context(cadata=credentials.ca_pem)
        if credentials.ca_pem
        else ssl.create_default_context()
    )
    if credentials.client_cert_pem and credentials.client_key_pem:
        with (
            _private_file(credentials.client_cert_pem) as cert,
            _private_file(credentials.client_key_pem) as key,
        ):
            context.load_cert_chain(cert, key, password=credentials.client_key_password)
    return context


def _classify_tls(exc: ssl.SSLError) -> StepFailed:
    if isinstance(exc, ssl.SSLCertVerificationError):
        outcome = _VERIFY_OUTCOMES.get(exc.verify_code, "untrusted")
        return StepFailed(outcome, f"broker certificate: {exc.verify_message}", verify_code=exc.verify_code)
    reason = str(exc.reason or type(exc).__name__)
    if "ALERT" in reason:
        return StepFailed(
            "tls-alert", f"the broker ended the TLS session with alert {reason}", tls_alert=reason
        )
    if reason in ("WRONG_VERSION_NUMBER", "UNEXPECTED_EOF_WHILE_READING") or isinstance(exc, ssl.SSLEOFError):
        return StepFailed("not-tls", f"the port does not speak TLS ({reason})")
    return StepFailed("tls-error", f"TLS failed: {reason}")


def _classify(exc: StepFailed | OSError) -> StepFailed:
    if isinstance(exc, StepFailed):
        return exc
    if isinstance(exc, ssl.SSLError):
        return _classify_tls(exc)
    if isinstance(exc, TimeoutError):
        return StepFailed("timeout", "no answer within the step's time")
    return StepFailed("connection-lost", f"the connection failed: {exc.strerror or exc}")


def _timed(report: Report, step: str, action: Callable[[], Any], **detail: Any) -> Any:
    """Run one step, record its outcome and milliseconds; a failure is recorded and raised on."""
    start = time.monotonic()
    try:
        value = action()
    except (StepFailed, OSError) as exc:  # ssl.SSLError and TimeoutError are OSErrors
        failed = _classify(exc)
        report.steps.append(_step(step, failed.outcome, start, failed.detail, **failed.extra))
        if failed is exc:
            raise
        raise failed from exc
    report.steps.append(_step(step, "ok", start, "", **detail))
    return value


def _step(step: str, outcome: str, start: float, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "step": step,
        "outcome": outcome,
        "ms": round((time.monotonic() - start) * 1000, 1),
        "detail": detail,
        **extra,
    }


def _api_versions(conn: Connection) -> None:
    response = conn.call(
        ApiVersionsRequest,
        ApiVersionsResponse,
        client_software_name=CLIENT_ID,
        client_software_version=str(RESULT_VERSION),
    )
    if response.error_code:
        raise _kafka_error(response.error_code)
    conn.versions = {k.api_key: (k.min_version, k.max_version) for k in response.api_keys}


def _sasl(conn: Connection, host: str, protocol: str, credentials: Credentials) -> None:
    """The SASL exchange the pollers make: SaslHandshake, then SaslAuthenticate rounds (KIP-152)."""
    mechanism_name = credentials.mechanism or ""
    if mechanism_name == "AWS_MSK_IAM" and os.environ.get("AWS_REGION"):
        # Lambda documents AWS_REGION ("Defined runtime environment variables"); botocore, which signs the
        # IAM token, reads AWS_DEFAULT_REGION.
        os.environ.setdefault("AWS_DEFAULT_REGION", os.environ["AWS_REGION"])
    handshake = conn.call(SaslHandshakeRequest, SaslHandshakeResponse, mechanism=mechanism_name)
    if handshake.error_code:
        raise _kafka_error(handshake.error_code, f"broker offers {', '.join(handshake.mechanisms)}")
    try:
        mechanism = get_sasl_mechanism(mechanism_name)(
            host=host,
            security_protocol=protocol,
            sasl_mechanism=mechanism_name,
            sasl_plain_username=credentials.username,
            sasl_plain_password=credentials.password,
        )
    except Exception as exc:  # kafka-python's configuration errors are not OSErrors
        raise _unsendable(mechanism_name, exc) from exc
    while not mechanism.is_done():
        try:
            # AWS_MSK_IAM signs with the role's credentials and the region Lambda sets in the environment.
            auth_bytes = mechanism.auth_bytes()
        except Exception as exc:  # no credentials or no region: a result, not a crash
            raise _unsendable(mechanism_name, exc) from exc
        response = conn.call(SaslAuthenticateRequest, SaslAuthenticateResponse, auth_bytes=auth_bytes)
        if response.error_code:
            raise _kafka_error(response.error_code, response.error_message)
        try:
            mechanism.receive(response.auth_bytes)
        except ValueError as exc:  # the server's SCRAM proof did not verify
            raise StepFailed("sasl-error", f"the broker's SASL answer did not verify: {exc}") from exc


def _unsendable(mechanism: str, exc: Exception) -> StepFailed:
    """The SASL step could not build its first message (never the credentials' values: only the error)."""
    return StepFailed(
        "sasl-error", f"could not build the {mechanism} authentication: {type(exc).__name__}: {exc}"
    )


def _metadata(conn: Connection, topics: tuple[str, ...] | None) -> Any:
    wanted = None if topics is None else [MetadataRequest.MetadataRequestTopic(name=t) for t in topics]
    return conn.call(MetadataRequest, MetadataResponse, topics=wanted, allow_auto_topic_creation=False)


@contextlib.contextmanager
def _session(
    report: Report, host: str, port: int, target: Target, credentials: Credentials, clock: Clock
) -> Iterator[Connection]:
    """dns -> tcp -> tls -> api_versions -> sasl on one broker; yields the authenticated connection."""
    addresses = _timed(report, "dns", lambda: _resolve(host, port, clock))
    report.steps[-1]["addresses"] = addresses
    sock = _timed(report, "tcp", lambda: _connect(addresses, port, clock))
    try:
        if target.security_protocol in ("SSL", "SASL_SSL"):

            def handshake() -> ssl.SSLSocket:
                sock.settimeout(clock.left())
                return tls_context(credentials).wrap_socket(sock, server_hostname=host)

            sock = _timed(report, "tls", handshake)
            report.steps[-1]["tls_version"] = sock.version()
        else:
            report.steps.append({"step": "tls", "outcome": "not-applicable", "ms": 0.0, "detail": ""})
        conn = Connection(sock, clock)
        # Under TLS 1.3 a broker that rejects the client certificate says so after the handshake, on the
        # first read: that alert is recorded here, as a tls-alert on api_versions.
        _timed(report, "api_versions", lambda: _api_versions(conn))
        if target.security_protocol.startswith("SASL_"):
            _timed(report, "sasl", lambda: _sasl(conn, host, target.security_protocol, credentials))
            report.steps[-1]["mechanism"] = credentials.mechanism
        else:
            report.steps.append({"step": "sasl", "outcome": "not-applicable", "ms": 0.0, "detail": ""})
        yield conn
    finally:
        sock.close()


def _skip_rest(report: Report, steps: tuple[str, ...]) -> None:
    done = {s["step"] for s in report.steps}
    for step in steps:
        if step not in done:
            report.steps.append(
                {"step": step, "outcome": "skipped", "ms": 0.0, "detail": "an earlier step failed"}
            )


def _topics(response: Any, reached: set[int]) -> list[dict[str, Any]]:
    out = []
    for topic in response.topics:
        leaders = sorted({p.leader_id for p in topic.partitions})
        entry: dict[str, Any] = {
            "topic": topic.name,
            "error_code": topic.error_code,
            "error_name": getattr(for_code(topic.error_code), "message", str(topic.error_code)),
            "partitions": len(topic.partitions),
            "leaders": leaders,
            "unreachable_leaders": [leader for leader in leaders if leader not in reached],
        }
        out.append(entry)
    return out


def _group(
    conn: Connection, group: str, brokers: dict[int, tuple[str, int]], ctx: dict[str, Any]
) -> dict[str, Any]:
    """FindCoordinator on the bootstrap connection, then DescribeGroups on the coordinator."""
    found = conn.call(FindCoordinatorRequest, FindCoordinatorResponse, key=group, key_type=0)
    while found.error_code in _RETRIABLE_COORDINATOR and conn.clock.deadline - time.monotonic() > 1:
        # The group coordinator is still loading (or __consumer_offsets is being created on first use):
        # a poller retries after its backoff, and so does the probe, until its deadline.
        time.sleep(_RETRY_BACKOFF_S)
        found = conn.call(FindCoordinatorRequest, FindCoordinatorResponse, key=group, key_type=0)
    result: dict[str, Any] = {"group": group, "step": "find_coordinator", "error_code": found.error_code}
    result["error_name"] = getattr(for_code(found.error_code), "message", str(found.error_code))
    if found.error_code:
        return result
    result["coordinator"] = found.node_id
    host, port = brokers.get(found.node_id, (found.host, found.port))
    report = Report(f"{host}:{port}", "coordinator", found.node_id)
    try:
        with _session(report, host, port, ctx["target"], ctx["credentials"], ctx["clock"]) as coordinator:
            described = coordinator.call(DescribeGroupsRequest, DescribeGroupsResponse, groups=[group])
    except StepFailed as failed:
        result.update(step="coordinator", outcome=failed.outcome, detail=failed.detail)
        return result
    code = described.groups[0].error_code
    result.update(
        step="describe_groups",
        error_code=code,
        error_name=getattr(for_code(code), "message", str(code)),
        state=described.groups[0].group_state,
    )
    return result


def measure(target: Target, credentials: Credentials) -> dict[str, Any]:
    """The whole measurement; returns what was measured by the deadline, never raises for a broker's fault.

    The first bootstrap server that answers Metadata gives the advertised brokers; the others are still
    measured up to their Metadata, because the pollers may start from any of them."""
    clock = Clock(time.monotonic() + target.deadline_s)
    result = _result()
    ctx = {"target": target, "credentials": credentials, "clock": clock}
    for server in target.bootstrap:
        report = Report(server.strip(), "bootstrap")
        result["bootstrap"].append(report)
        host, port = split(server)
        try:
            with _session(report, host, port, target, credentials, clock) as conn:
                response = _timed(report, "metadata", lambda c=conn: _metadata(c, None))  # type: ignore[misc]
                report.steps[-1]["brokers"] = [f"{b.host}:{b.port}" for b in response.brokers]
                if result["brokers"]:
                    continue
                brokers = {b.node_id: (b.host, b.port) for b in response.brokers}
                result["brokers"] = _advertised(brokers, target, credentials, clock)
                reached = {r.node_id for r in result["brokers"] if r.reached}
                if target.topics:
                    result["topics"] = _topics(_metadata(conn, target.topics), reached)
                if target.group:
                    result["group"] = _group(conn, target.group, brokers, ctx)
        except StepFailed as failed:
            _skip_rest(report, STEPS)
            result["errors"].append(
                {"server": report.server, "outcome": failed.outcome, "detail": failed.detail}
            )
        except (OSError, ssl.SSLError) as exc:  # a topics/group request failed on a measured connection
            result["errors"].append(
                {"server": report.server, "outcome": "connection-lost", "detail": str(exc)}
            )
    result["complete"] = bool(result["brokers"]) and not result["errors"]
    return _as_json(result)


def _advertised(
    brokers: dict[int, tuple[str, int]], target: Target, credentials: Credentials, clock: Clock
) -> list[Report]:
    """Every advertised broker, measured the way the pollers reach it (its own name, its own port)."""
    reports = []
    for node_id, (host, port) in sorted(brokers.items()):
        report = Report(f"{host}:{port}", "broker", node_id)
        reports.append(report)
        try:
            with _session(report, host, port, target, credentials, clock):
                pass
        except StepFailed:
            _skip_rest(report, STEPS[:-1])  # an advertised broker is not asked for Metadata again
    return reports


def _result() -> dict[str, Any]:
    return {
        "version": RESULT_VERSION,
        "complete": False,
        "bootstrap": [],
        "brokers": [],
        "topics": [],
        "group": None,
        "errors": [],
    }


def _as_json(result: dict[str, Any]) -> dict[str, Any]:
    for key in ("bootstrap", "brokers"):
        result[key] = [r.as_dict() for r in result[key]]
    return result


def _secret(client: Any, arn: str) -> dict[str, Any]:
    value = client.get_secret_value(SecretId=arn)["SecretString"]
    parsed: dict[str, Any] = json.loads(value)
    return parsed


def credentials_from_secrets(event: dict[str, Any]) -> Credentials:
    """Read the mapping's secrets with the function's role (the mapping's own): values stay in memory."""
    auth = event.get("auth") or {}
    if not auth.get("secret_arn") and not auth.get("ca_secret_arn"):
        return Credentials(mechanism=auth.get("mechanism"))
    import boto3  # in Lambda's Python runtime; imported here so the tests of `measure` do not need it
    from botocore.config import Config

    # Bounded: in a VPC without a path to Secrets Manager (no NAT gateway, no endpoint: enough for
    # provisioned pollers, which read secrets outside the VPC) the read fails in seconds, and the probe
    # returns that, instead of the function running into its own timeout.
    bounded = Config(
        connect_timeout=SECRET_TIMEOUT_S,
        read_timeout=SECRET_TIMEOUT_S,
        retries={"mode": "standard", "total_max_attempts": 2},
    )
    client = boto3.client("secretsmanager", config=bounded)
    fields: dict[str, Any] = {"mechanism": auth.get("mechanism")}
    if auth.get("secret_arn"):
        secret = _secret(client, auth["secret_arn"])
        if auth.get("kind") == "mtls":
            fields.update(
                client_cert_pem=secret.get("certificate"),
                client_key_pem=secret.get("privateKey"),
                client_key_password=secret.get("privateKeyPassword"),
            )
        else:
            fields.update(username=secret.get("username"), password=secret.get("password"))
    if auth.get("ca_secret_arn"):
        fields["ca_pem"] = _secret(client, auth["ca_secret_arn"]).get("certificate")
    return Credentials(**fields)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda's entry point. The event names secrets by ARN; it never carries their values."""
    remaining_ms = context.get_remaining_time_in_millis() if context is not None else None
    deadline = float(event.get("deadline_s", DEFAULT_DEADLINE_S))
    if remaining_ms is not None:
        deadline = min(deadline, remaining_ms / 1000 - 2)  # leave time to return the partial result
    target = Target(
        bootstrap=tuple(event["bootstrap"]),
        security_protocol=event["security_protocol"],
        topics=tuple(event.get("topics", ())),
        group=event.get("group"),
        deadline_s=deadline,
    )
    try:
        credentials = credentials_from_secrets(event)
    except Exception as exc:  # noqa: BLE001 - a secret the role cannot read is a measured outcome too
        return {"version": RESULT_VERSION, "complete": False, "secret_error": type(exc).__name__}
    result = measure(target, credentials)
    result["probe_id"] = str(uuid.uuid4())
    return result
