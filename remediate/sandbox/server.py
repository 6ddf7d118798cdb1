"""The embedded AWS sandbox: moto in server mode, patched, behind the fault/call-log middleware.

boto3 (and the engine, which never knows it is in a sandbox) talks real HTTP to it through
``AWS_ENDPOINT_URL``;
tests and scenarios reach the same in-process backends directly when they need to set what AWS alone decides
(e.g. an ESM's LastProcessingResult). moto's backends are process-global, so two Sandbox objects in one
process
share state; use one per process (tests: one per session, reset between tests).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
import time
import urllib.request
from email.utils import formatdate
from types import TracebackType
from typing import Any, Final

import boto3
from botocore.config import Config
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug import serving as _serving
from werkzeug.serving import make_server

from remediate.sandbox import esm_logging, flow, health, log_filters, patches, topics
from remediate.sandbox import snapshot as snapshots
from remediate.sandbox.faults import CallLog, FaultMiddleware, FaultSet

__all__ = ["ACCOUNT_ID", "Sandbox"]

ACCOUNT_ID: Final[str] = DEFAULT_ACCOUNT_ID
_CREDENTIAL: Final = "testing"


class _NoDrain:
    """werkzeug reads whatever follows an answer on the connection and throws it away, since it closes
    every connection; kept open, that would be the client's next request. The middleware reads each
    request's body to its end (Content-Length), so there is nothing to drain: this selector sees nothing."""

    def register(self, *args: Any) -> None:
        pass

    def select(self, timeout: float | None = None) -> list[Any]:
        return []

    def close(self) -> None:
        pass


class _Selectors:
    EVENT_READ = selectors.EVENT_READ
    DefaultSelector = _NoDrain


class _RequestHandler(MotoRequestHandler):
    """moto's handler, quiet, and able to drop a connection with a TCP reset when the middleware asks.
    Connections stay open for the client's next request (HTTP/1.1 keep-alive, as AWS's endpoints keep
    them), where werkzeug would close each one after one answer."""

    def setup(self) -> None:
        super().setup()
        # Answers go out as they are written (status and headers, then the body): with Nagle's algorithm
        # a kept-alive connection would wait for the client's delayed acknowledgement, 40 ms a call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value.lower() == "close" and self._may_keep_alive():
            return
        super().send_header(keyword, value)

    def _may_keep_alive(self) -> bool:
        asked = (self.headers.get("Connection") or "").lower()
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        closing = asked == "close" or chunked or self.close_connection
        return self.request_version == "HTTP/1.1" and not closing

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Per-request access lines would drown test output; the call log records requests instead."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header of every answer: AWS's clock, `Sandbox.clock_offset` away from this one's."""
        offset: float = getattr(self.server, "remediate_clock_offset", lambda: 0.0)()
        return formatdate((time.time() if timestamp is None else timestamp) + offset, usegmt=True)

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        self.close_connection = True
        # Linger 0: closing sends RST instead of FIN, so the client sees "connection reset by peer".
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class _Server(ThreadedMotoServer):
    """ThreadedMotoServer whose WSGI app is wrapped by the sandbox middleware."""

    def __init__(self, host: str, port: int, wrap: Any, clock_offset: Any) -> None:
        super().__init__(ip_address=host, port=port, verbose=False)
        self._wrap = wrap
        self._clock_offset = clock_offset

    failed: BaseException | None = None

    def _server_entry(self) -> None:
        app = self._wrap(DomainDispatcherApplication(create_backend_app))
        try:
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=_RequestHandler
            )
        except (OSError, SystemExit) as exc:  # a busy port: werkzeug says so, then exits (this thread only)
            self.failed = exc  # issue 23 (operator-hunt N12): start() must not wait for it forever
            self._server_ready_event.set()
            return
        self._server.remediate_clock_offset = self._clock_offset  # type: ignore[attr-defined]
        self._server_ready_event.set()
        self._server.serve_forever()


class Sandbox:
    """A local AWS (moto server, extended) on 127.0.0.1, with fault injection and a call log.

    Attributes:
        esm_transition_reads: how many GetEventSourceMapping reads an ESM stays in a transitional state
            (Creating/Enabling/Disabling/Updating) before settling; 0 settles at once. Restored by
            :meth:`reset`.
        faults: the fault rules (:class:`~remediate.sandbox.faults.FaultSet`).
    """

    def __init__(
        self,
        region: str = "us-east-1",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        esm_transition_reads: int = patches.DEFAULT_TRANSITION_READS,
        seed: int | None = None,
    ) -> None:
        self.region = region
        self.account_id = ACCOUNT_ID
        self.esm_transition_reads = esm_transition_reads
        self.endpoint_pending_reads = patches.DEFAULT_ENDPOINT_PENDING_READS
        self.clock_offset = 0.0
        self.faults = FaultSet()
        self._default_transition_reads = esm_transition_reads
        self._host = host
        self._port = port
        self._seed = seed
        self._calls = CallLog()
        self._server: _Server | None = None
        self._endpoint_url: str | None = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._session: boto3.session.Session | None = None

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Apply the moto patches (once per process) and start the server on a free port (or the given
        one)."""
        if self._server is not None:
            return self
        patches.apply_patches()
        health.patch()
        flow.patch()  # issue 25
        topics.patch()  # issue 21
        esm_logging.patch()  # issue 21 (item 3)
        log_filters.patch()  # issue 21 (item 4)
        _serving.selectors = _Selectors  # type: ignore[attr-defined,assignment]  # see _NoDrain

        def wrap(app: Any) -> FaultMiddleware:
            return FaultMiddleware(
                app,
                self.faults,
                self._calls,
                lambda: self.esm_transition_reads,
                lambda: self.endpoint_pending_reads,
            )

        server = _Server(self._host, self._port, wrap, lambda: self.clock_offset)
        server.start()
        if server.failed is not None:
            raise OSError(f"the sandbox cannot listen on {self._host}:{self._port} (in use?)")
        host, port = server.get_host_and_port()
        self._server = server
        self._endpoint_url = f"http://{host}:{port}"
        if self._seed is not None:
            self._control(f"/moto-api/seed?a={self._seed}")
        return self

    def stop(self) -> None:
        """Stop the server; the backends (process-global in moto) keep their state until :meth:`reset`."""
        if self._server is None:
            return
        self._server.stop()
        self._server = None
        self._endpoint_url = None
        with self._clients_lock:
            self._clients.clear()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Wipe every AWS resource (POST /moto-api/reset), the faults, the call log and sandbox settings."""
        self.faults.clear()
        self._control("/moto-api/reset")
        if self._seed is not None:
            self._control(f"/moto-api/seed?a={self._seed}")
        self._calls.clear()
        self.esm_transition_reads = self._default_transition_reads
        self.endpoint_pending_reads = patches.DEFAULT_ENDPOINT_PENDING_READS
        self.clock_offset = 0.0

    def snapshot(self) -> snapshots.Snapshot:
        """AWS as it is now, and the call log, to :meth:`restore` later (remediate/sandbox/snapshot.py)."""
        return snapshots.take(self.calls)

    def restore(self, taken: snapshots.Snapshot) -> None:
        """Make a sandbox just :meth:`reset` hold what `taken` holds: its AWS state and its call log."""
        snapshots.restore(taken)
        self._calls.clear()
        for call in taken.calls:
            self._calls.record(call)

    def _control(self, path: str) -> None:
        request = urllib.request.Request(f"{self.endpoint_url}{path}", data=b"", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own http://127.0.0.1
            response.read()

    # --- how to reach it --------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        if self._endpoint_url is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return self._endpoint_url

    def env(self) -> dict[str, str]:
        """Environment variables that point the AWS SDKs and CLI at the sandbox (os.environ is not
        touched)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": _CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": _CREDENTIAL,
            "AWS_SESSION_TOKEN": _CREDENTIAL,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def client(self, service: str, *, config: Config | None = None) -> Any:
        """A boto3 client for ``service`` pointed at the sandbox, for scenarios and tests.

        Clients without ``config`` are cached per service; with ``config`` (e.g. retries off) a new one is
        made.
        """
        if config is None:
            with self._clients_lock:
                cached = self._clients.get(service)
                if cached is None:
                    cached = self._make_client(service, None)
                    self._clients[service] = cached
                return cached
        return self._make_client(service, config)

    def _make_client(self, service: str, config: Config | None) -> Any:
        if self._session is None:
            self._session = boto3.session.Session(
                aws_access_key_id=_CREDENTIAL,
                aws_secret_access_key=_CREDENTIAL,
                aws_session_token=_CREDENTIAL,
                region_name=self.region,
            )
        make: Any = self._session.client  # typed per service literal; ``service`` is a plain str here
        return make(service, endpoint_url=self.endpoint_url, config=config)

    # --- observing and steering -------------------------------------------------------------------

    @property
    def calls(self) -> list[tuple[str, str]]:
        """``(service, operation)`` of every AWS request received, in order (moto-api requests excluded)."""
        return self._calls.snapshot()

    def clear_calls(self) -> None:
        self._calls.clear()

    def secret_values(self) -> list[str]:
        """Every secret value stored in the sandbox (every version), read from the backend directly so
        that tests can assert none ever leaks into output or logs without adding calls to `calls`."""
        from moto.backends import get_backend

        store = get_backend("secretsmanager")[self.account_id][self.region].secrets
        values: list[str] = []
        for secret in store.values():
            for version in getattr(secret, "versions", {}).values():
                value = version.get("secret_string")
                if isinstance(value, str) and value:
                    values.append(value)
        return values

    def set_endpoint_state(self, endpoint_id: str, state: str) -> None:
        """Set what the service alone decides about a VPC endpoint: its State (e.g. pendingAcceptance,
        when the service has not accepted it; rejected; failed)."""
        from moto.backends import get_backend

        backend = get_backend("ec2")[self.account_id][self.region]
        backend.vpc_end_points[endpoint_id].state = state

    def set_esm_status(
        self,
        uuid: str,
        *,
        state: str | None = None,
        state_transition_reason: str | None = None,
        last_processing_result: str | None = None,
    ) -> None:
        """Set what AWS alone decides about an ESM (State, StateTransitionReason, LastProcessingResult)."""
        patches.set_esm_status(
            uuid,
            account_id=self.account_id,
            region=self.region,
            state=state,
            state_transition_reason=state_transition_reason,
            last_processing_result=last_processing_result,
            transition_reads=self.esm_transition_reads,
        )

    def set_endpoint_service_zones(self, service_name: str, zones: list[str]) -> None:
        """Offer an endpoint service in these Availability Zones only (AWS decides where a service is
        offered); DescribeVpcEndpointServices reports them and CreateVpcEndpoint refuses other zones."""
        patches.set_endpoint_service_zones(
            service_name, zones, account_id=self.account_id, region=self.region
        )

    def set_cluster_state(self, cluster_arn: str, state: str) -> None:
        """Set what MSK alone decides about a cluster: its State (MAINTENANCE, REBOOTING_BROKER, ...)."""
        patches.set_cluster_state(self.account_id, self.region, cluster_arn, state)

    def set_vpc_connection_state(self, connection_arn: str, state: str) -> None:
        """Set what MSK alone decides about a managed VPC connection: its State."""
        patches.set_vpc_connection_state(self.account_id, self.region, connection_arn, state)

    # --- live health (what AWS alone decides: metrics, a function's state) ---------------------------

    def put_metrics(
        self, namespace: str, metric: str, dimensions: dict[str, str], values: list[float]
    ) -> None:
        """Publish a service's metric (AWS/Kafka, AWS/Lambda): one data point a minute, newest last."""
        health.put_metrics(self.account_id, self.region, namespace, metric, dimensions, values)

    def put_topic(self, cluster_arn: str, name: str, partitions: int, replication_factor: int) -> None:
        """Create a topic on an MSK cluster, as a Kafka client would (issue 21: read by ListTopics)."""
        topics.put_topic(self.account_id, self.region, cluster_arn, name, partitions, replication_factor)

    def set_function_status(self, name: str, **status: str) -> None:
        """Set a function's State, StateReason, LastUpdateStatus or LastUpdateStatusReason (snake_case)."""
        health.set_function_status(self.account_id, self.region, name, **status)
