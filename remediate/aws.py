"""AWS access: one client factory, one retry policy, one per-run read cache.

Everything the tool sends to AWS goes through `Aws.call` (writes) or `Aws.read` (cached reads),
so retries, error translation and call accounting live in exactly one place. Clients come from one
botocore session on the standard chain (profile, region, `AWS_ENDPOINT_URL[_<SERVICE>]`), so pointing
the tool at another endpoint never needs a flag of its own. botocore's own retries are switched off:
the tenacity policy here is the only one (exponential backoff with full jitter, bounded).

Start-up matters for a command line: botocore is used without boto3 (which adds nothing a client
needs but imports s3transfer), a client is made on the first call to its service, and the parsed
service models are shared by every session of the process (a scan of several regions, or many runs
in one process, parses the EC2 model once).

The read cache holds what a run (or a whole scan) has learnt, failures included: a read that was
denied or failed after its retries is not made again by the next mapping that needs it. Built
models can be cached beside the raw responses (`shared`), so a scan builds each VPC's network once.
`fresh()` starts an empty cache: verification must see AWS as it is now.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import CancelledError, Future
from typing import TYPE_CHECKING, Any, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from remediate import heartbeat
from remediate.errors import AwsError, CredentialsError
from remediate.log import get_logger
from remediate.ratelimit import RateLimiter

if TYPE_CHECKING:
    import botocore.loaders
    import botocore.session

    from remediate.config import Settings

log = get_logger(__name__)
T = TypeVar("T")
Submit = Callable[[Callable[[], Any]], "Future[Any]"]
"""Runs a function somewhere (an executor's `submit`) and returns its future."""

_loader: botocore.loaders.Loader | None = None
_loader_lock = threading.Lock()


def _shared_loader() -> botocore.loaders.Loader:
    """One botocore data loader per process: it caches the parsed service models (EC2's alone is
    megabytes of JSON), so each further session or client of the same service reuses them."""
    global _loader
    with _loader_lock:
        if _loader is None:
            from botocore.loaders import create_loader

            _loader = create_loader()
        return _loader


THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
        "EC2ThrottledException",
    }
)
TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ServiceException",
        "InternalServerError",
        "InternalServerErrorException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "IDPCommunicationError",
    }
)
ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AuthorizationError",
        "Forbidden",
    }
)


_REGION = re.compile(r"^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$")

# sts:GetCallerIdentity needs no permission ("No permissions are required to perform this
# operation", https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html); it is
# declared all the same, so `remediate iam-policy` lists every call the tool makes.
PERMISSIONS = ("sts:GetCallerIdentity",)


def arn_region_account(arn: str) -> tuple[str, str] | None:
    """The region and account an ARN names (`arn:PARTITION:SERVICE:REGION:ACCOUNT:...`), if both."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[3] and parts[4]:
        return parts[3], parts[4]
    return None


def credentials_error(exc: BaseException, profile: str | None) -> CredentialsError | None:
    """One line for what the standard chain raises on a broken setup, instead of a traceback.

    A broken `~/.aws/config`, a missing SSO token, a failing `credential_process` or an assume-role
    profile whose `source_profile` does not exist surface from botocore as BotoCoreError subclasses,
    at session creation or at the first call; None for anything that is not such a setup error.
    """
    from botocore import exceptions as bx

    name = profile or os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")
    if isinstance(exc, bx.ProfileNotFound):
        missing = exc.kwargs.get("profile") or name
        return CredentialsError(f"AWS profile {missing!r} not found in the AWS config files")
    if isinstance(exc, bx.ConfigParseError):
        return CredentialsError(f"the AWS config is broken: {exc}")
    if isinstance(exc, bx.SSOTokenLoadError | bx.UnauthorizedSSOTokenError):
        login = f"aws sso login --profile {name}" if name else "aws sso login"
        return CredentialsError(f"no valid AWS SSO token ({exc}); sign in with `{login}`")
    if isinstance(exc, bx.CredentialRetrievalError):
        detail = str(exc).rstrip(": ")
        return CredentialsError(f"{detail}: the profile's credential_process failed")
    if isinstance(exc, bx.NoCredentialsError):
        return None
    if isinstance(exc, bx.InvalidConfigError | bx.PartialCredentialsError | bx.ProfileNotFound):
        return CredentialsError(f"the AWS configuration is invalid: {exc}")
    return None


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError, or "" for anything else."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _status(exc: BaseException) -> int:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return 0


def is_access_denied(exc: BaseException) -> bool:
    return error_code(exc) in ACCESS_DENIED_CODES


def is_retryable(exc: BaseException, extra_codes: frozenset[str] = frozenset()) -> bool:
    """Throttling, 5xx and connection-level failures are retried; everything else is final."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    if isinstance(
        exc, EndpointConnectionError | ConnectionClosedError | ReadTimeoutError | ConnectTimeoutError
    ):
        return True
    if isinstance(exc, ClientError):
        code = error_code(exc)
        return (
            code in THROTTLING_CODES or code in TRANSIENT_CODES or code in extra_codes or _status(exc) >= 500
        )
    # urllib3 surfaces a reset connection as a ProtocolError wrapped by botocore in some versions.
    return type(exc).__name__ in {"ProtocolError", "ConnectionResetError"}


READ_PREFIXES = ("describe_", "list_", "get_")


class Aws:
    """One AWS session for one run (or one scan): clients, retries and the read cache.

    Thread-safe: observation fans out reads over a thread pool; boto3 clients are thread-safe once
    created, so creation is serialised and calls are not. Identical concurrent reads are coalesced.
    """

    def __init__(
        self,
        *,
        profile: str | None = None,
        region: str | None = None,
        attempts: int = 6,
        base_delay: float = 0.5,
        max_delay: float = 20.0,
        max_pool: int = 16,
        rates: Mapping[str, float] | None = None,
        burst: float = 10,
        debug: bool = False,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        self._profile = profile
        self._debug = debug
        self._region = region
        self._resolved_region: str | None = None
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._max_pool = max_pool
        # Calls per second per rate bucket (`api_rates`), shared by every `fresh()` view of this session.
        self._limiter = RateLimiter(rates or {}, burst)
        self._session: botocore.session.Session | None = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()  # apart: making a client takes long, reads must not wait on it
        self._lock = threading.Lock()
        self._cache: dict[str, Future[Any]] = {}
        self.calls = 0
        self.retries = 0
        self._answered = threading.local()  # issue 23: writes AWS answered, counted per thread

    @classmethod
    def from_settings(cls, settings: Settings) -> Aws:
        """The one way entry points (CLI, SSM handlers) open AWS: settings in, credentials checked."""
        aws = cls(
            profile=settings.profile,
            region=settings.region,
            attempts=settings.retry_attempts,
            base_delay=settings.retry_base_delay,
            max_delay=settings.retry_max_delay,
            max_pool=2 * settings.max_workers,
            rates=settings.api_rates,
            burst=settings.api_burst,
            debug=settings.log_level == "debug",
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
        )
        aws.check_credentials()
        return aws

    # -- session and clients -------------------------------------------------------------------
    @property
    def session(self) -> botocore.session.Session:
        with self._lock:
            if self._session is None:
                import botocore.session
                from botocore.exceptions import BotoCoreError

                try:
                    session = botocore.session.Session(profile=self._profile)
                    session.register_component("data_loader", _shared_loader())
                    if self._region:
                        session.set_config_variable("region", self._region)
                    session.get_scoped_config()  # reads the profile (flag or AWS_PROFILE): fails if missing
                except BotoCoreError as exc:
                    raise credentials_error(exc, self._profile) or CredentialsError(str(exc)) from exc
                self._session = session
            return self._session

    @property
    def region(self) -> str:
        """The session's region, resolved once (every call asks for it; botocore re-reads its config)."""
        if self._resolved_region is not None:
            return self._resolved_region
        from botocore.exceptions import BotoCoreError

        try:
            region = str(self.session.get_config_variable("region") or "")
        except BotoCoreError as exc:  # the config is read lazily: a broken file surfaces here
            raise credentials_error(exc, self._profile) or CredentialsError(str(exc)) from exc
        if not region:
            raise CredentialsError("no AWS region: set AWS_REGION, a profile region, or --region")
        if not _REGION.match(region):
            raise CredentialsError(f"{region!r} is not an AWS region name (like eu-west-1)")
        self._resolved_region = region
        return region

    def check_credentials(self) -> None:
        """Fail early, with one line, when the standard chain has no credentials at all."""
        from botocore.exceptions import BotoCoreError

        try:
            found = self.session.get_credentials()
        except BotoCoreError as exc:
            raise credentials_error(exc, self._profile) or CredentialsError(str(exc)) from exc
        if found is None:
            raise CredentialsError(
                "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
            )

    def check_account(self, account: str, what: str) -> None:
        """Refuse, in one line, a target (`what`, of `account`) the credentials cannot act on.

        ARNs, plan files and journals name the account their mapping lives in; acting on them with
        another account's credentials would at best fail late and at worst touch a namesake."""
        mine = str(self.call("sts", "get_caller_identity").get("Account", ""))
        if mine and mine != account:
            raise CredentialsError(
                f"{what} is in account {account}, but the AWS credentials are for account {mine}; "
                "use a profile of that account"
            )

    def client(self, service: str) -> Any:
        """The one client per service of this session (created once: creation is the slow part).

        A client that exists is returned without taking the lock (a dict read is atomic), so calls on
        existing clients never wait behind the creation of another one (EC2's takes ~0.16 s)."""
        client = self._clients.get(service)
        if client is not None:
            return client
        region = self.region
        with self._clients_lock:
            client = self._clients.get(service)
            if client is None:
                client = self._new_client(service, region)
                if self._debug:
                    _log_each_call(client)
                self._clients[service] = client
            return client

    def prepare(self, services: Iterable[str]) -> threading.Thread:
        """Create these services' clients in the background, in order, ahead of their first call.

        A diagnosis waits on its first read (the mapping) before it needs any other service: building
        the other clients meanwhile takes their creation off the chain of round trips. Creation stays
        serialised by the lock; a failure here is left for the call that needs the client to raise."""

        def make() -> None:
            for service in wanted:
                try:
                    self.client(service)
                except Exception as exc:  # noqa: BLE001 - the call that needs the client raises it again
                    log.debug("aws.prepare_failed", service=service, error=str(exc))
                    return

        wanted = [s for s in services if s not in self._clients]  # a second call builds only what is left
        thread = threading.Thread(target=make, name="aws-prepare", daemon=True)
        thread.start()
        return thread

    def _new_client(self, service: str, region: str) -> Any:
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError

        assert self._session is not None
        try:
            return self._session.create_client(
                service,
                region_name=region,
                config=Config(
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=self.connect_timeout,  # issue 23: settings, as the AWS CLI's flags
                    read_timeout=self.read_timeout,
                    max_pool_connections=self._max_pool,
                    user_agent_extra="remediate/0.1",
                ),
            )
        except BotoCoreError as exc:
            raise credentials_error(exc, self._profile) or CredentialsError(str(exc)) from exc

    def writes_answered(self) -> int:
        """How many calls other than reads (Describe*, List*, Get*: AWS's names for reads) AWS answered
        with success on this thread: a run compares it around one change to tell a change whose
        first write AWS refused (nothing changed) from one refused half way (issue 23, N11)."""
        return int(getattr(self._answered, "writes", 0))

    def fresh(self) -> Aws:
        """A view with the same clients and an empty read cache (verification must re-read)."""
        other = Aws.__new__(Aws)
        other.__dict__.update(self.__dict__)
        other._cache = {}
        return other

    # -- calls ------------------------------------------------------------------------------------
    def call(
        self,
        service: str,
        operation: str,
        *,
        retry_codes: frozenset[str] = frozenset(),
        deadline: float | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """Make one AWS call under the retry policy; translate a final failure to AwsError.

        `retry_codes` adds operation-specific transient errors (e.g. ResourceInUseException while an
        ESM is Updating); `deadline` bounds those retries in seconds instead of by attempt count.
        """
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

        method = getattr(self.client(service), operation)
        by_attempts = stop_after_attempt(self.attempts)
        by_deadline = stop_after_delay(deadline) if deadline is not None else by_attempts

        def stop(state: RetryCallState) -> bool:
            # Operation-specific waits (an ESM in transition) are bounded by the deadline; everything
            # else (throttling, 5xx, resets) by the attempt count, so a broken endpoint fails fast.
            exc = state.outcome.exception() if state.outcome else None
            waiting = exc is not None and error_code(exc) in retry_codes
            return bool(by_deadline(state) if waiting else by_attempts(state))

        retrying = Retrying(
            stop=stop,
            wait=wait_random_exponential(multiplier=self.base_delay, max=self.max_delay),
            retry=retry_if_exception(lambda e: is_retryable(e, retry_codes)),
            before_sleep=self._before_sleep(service, operation),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    self._limiter.acquire(service, operation)
                    with self._lock:
                        self.calls += 1
                    result: dict[str, Any] = method(**params)
                    if not operation.startswith(READ_PREFIXES):
                        self._answered.writes = self.writes_answered() + 1
                    return result
        except NoCredentialsError as exc:
            raise CredentialsError("no AWS credentials found in the standard chain") from exc
        except NoRegionError as exc:
            raise CredentialsError("no AWS region: set AWS_REGION or --region") from exc
        except ClientError as exc:
            code = error_code(exc)
            message = exc.response.get("Error", {}).get("Message", "") or str(exc)
            raise AwsError(
                f"{service}:{operation} failed: {code}: {message}", code=code, operation=operation
            ) from exc
        except BotoCoreError as exc:
            setup = credentials_error(exc, self._profile)
            if setup is not None:
                raise setup from exc
            if is_retryable(exc):
                raise AwsError(
                    f"{service}:{operation} failed after retries: {exc}", operation=operation
                ) from exc
            raise
        except Exception as exc:
            if is_retryable(exc):
                raise AwsError(
                    f"{service}:{operation} failed after retries: {exc}", operation=operation
                ) from exc
            raise
        finally:
            if retrying.statistics.get("attempt_number", 1) > 1:
                heartbeat.done()  # the retries announced are over
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _before_sleep(self, service: str, operation: str) -> Callable[[RetryCallState], None]:
        def hook(state: RetryCallState) -> None:
            with self._lock:
                self.retries += 1
            exc = state.outcome.exception() if state.outcome else None
            # issue 23 (N8): a retry is shown (heartbeat), not only logged with --debug.
            api = f"{service}:{self._api_name(service, operation)}"
            why = (error_code(exc) or type(exc).__name__) if exc else "?"
            heartbeat.retrying(
                api,
                f"retrying {api} ({why}, attempt {state.attempt_number + 1}/{self.attempts}, "
                f"in {state.upcoming_sleep:.1f}s)",
            )
            log.info(
                "aws.retry",
                service=service,
                operation=operation,
                attempt=state.attempt_number,
                error=error_code(exc) if exc else "",
                sleep=round(state.upcoming_sleep, 3),
            )

        return hook

    def _api_name(self, service: str, operation: str) -> str:
        """The API's own name of a boto method (`update_event_source_mapping` ->
        `UpdateEventSourceMapping`), as IAM and AWS's documentation spell it."""
        mapping: dict[str, str] = getattr(self.client(service).meta, "method_to_api_mapping", {})
        return mapping.get(operation, operation)

    def shared(self, key: str, start: Callable[[], Future[T]]) -> Future[T]:
        """What `start` produces, produced once per Aws instance for `key`; later callers share it.

        The first caller's `start()` runs (it may submit work and return at once); every caller,
        then or later, gets a future of the same outcome, success or failure: a failure is what
        this run learnt about that resource (denied, or failed after retries), and asking again in
        the same run would only repeat the calls.
        """
        with self._lock:
            future: Future[T] | None = self._cache.get(key)
            if future is not None:
                return future
            future = Future()
            self._cache[key] = future
        try:
            source = start()
        except BaseException as exc:  # noqa: BLE001 - the outcome is kept, and every caller re-raises it
            future.set_exception(exc)
        else:
            forward(source, future)
        return future

    def read(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """A cached read: the same call with the same parameters is made once per Aws instance."""
        return outcome(
            self.shared(
                _read_key(service, operation, params), lambda: _now(self.call, service, operation, params)
            )
        )

    def prefetch(self, service: str, operation: str, **params: Any) -> None:
        """Start `read(service, operation, **params)` on a thread of its own and return at once: the
        later `read` of the same call gets its outcome (answer or error) without sending it again."""
        threading.Thread(
            target=lambda: self.shared(
                _read_key(service, operation, params), lambda: _now(self.call, service, operation, params)
            ),
            name="aws-prefetch",
            daemon=True,
        ).start()

    def read_async(
        self, submit: Submit, service: str, operation: str, **params: Any
    ) -> Future[dict[str, Any]]:
        """`read` without waiting: the first caller's `submit` runs the call (an executor's thread)."""
        return self.shared(
            _read_key(service, operation, params),
            lambda: submit(lambda: self.call(service, operation, **params)),
        )

    def read_pages(
        self, service: str, operation: str, items: str, token_in: str, token_out: str, **params: Any
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paged read, page by page through `read` (so each page is cached)."""
        token: str | None = None
        while True:
            page = self.read(service, operation, **params, **({token_in: token} if token else {}))
            yield from page.get(items, [])
            token = page.get(token_out)
            if not token:
                return


# --- `--debug`: every call as it is made -----------------------------------------------------------


def _log_each_call(client: Any) -> None:
    """Log each HTTP call of `client` with its status and error code (`--debug`); retries are logged by
    the retry policy (`aws.retry`). botocore's events ("Botocore Events", botocore documentation):
    `after-call.<service>.<operation>` is emitted with the HTTP response and the parsed response,
    `after-call-error.<service>.<operation>` with the exception when the request raised (a reset, a
    timeout) before a response."""
    events = client.meta.events
    events.register("after-call", _after_call)
    events.register("after-call-error", _after_call)


def _after_call(event_name: str = "", **kwargs: Any) -> None:
    _, service, operation = ([*event_name.split(".", 2), "", ""])[:3]
    parsed, http, exc = kwargs.get("parsed") or {}, kwargs.get("http_response"), kwargs.get("exception")
    log.debug(
        "aws.call",
        service=service,
        operation=operation,
        status=getattr(http, "status_code", None),
        error=(parsed.get("Error") or {}).get("Code", "") or (type(exc).__name__ if exc else ""),
    )


def _read_key(service: str, operation: str, params: dict[str, Any]) -> str:
    return json.dumps([service, operation, params], sort_keys=True, default=str)


def _now(
    call: Callable[..., dict[str, Any]], service: str, operation: str, params: dict[str, Any]
) -> Future[dict[str, Any]]:
    """Make the call in this thread; its outcome as a completed future."""
    future: Future[dict[str, Any]] = Future()
    try:
        future.set_result(call(service, operation, **params))
    except BaseException as exc:  # noqa: BLE001 - the outcome is kept, and every caller re-raises it
        future.set_exception(exc)
    return future


def outcome(future: Future[T]) -> T:
    """The future's result, or its exception raised afresh: a failure shared by many callers would
    otherwise collect every caller's frames (and what they hold) in one growing traceback."""
    exc = future.exception()
    if exc is not None:
        raise exc.with_traceback(None)
    return future.result()


def forward(source: Future[T], target: Future[T]) -> None:
    """Complete `target` with `source`'s outcome when it has one."""

    def copy(done: Future[T]) -> None:
        if done.cancelled():
            target.set_exception(CancelledError())
            return
        exc = done.exception()
        if exc is not None:
            target.set_exception(exc)
        else:
            target.set_result(done.result())

    source.add_done_callback(copy)
