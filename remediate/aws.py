"""AWS access: one client factory, one retry policy, one per-run read cache.

Everything the tool sends to AWS goes through `Aws.call` (writes) or `Aws.read` (cached reads),
so retries, error translation and call accounting live in exactly one place. Clients come from one
boto3 session on the standard chain (profile, region, `AWS_ENDPOINT_URL[_<SERVICE>]`), so pointing
the tool at another endpoint never needs a flag of its own. botocore's own retries are switched off:
the tenacity policy here is the only one (exponential backoff with full jitter, bounded).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from remediate.errors import AwsError, CredentialsError
from remediate.log import get_logger
from remediate.ratelimit import RateLimiter

if TYPE_CHECKING:
    import boto3

    from remediate.config import Settings

log = get_logger(__name__)

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
    ) -> None:
        self._profile = profile
        self._region = region
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._max_pool = max_pool
        # Calls per second per service (`api_rates`), shared by every `fresh()` view of this session.
        self._limiter = RateLimiter(rates or {}, burst)
        self._session: boto3.session.Session | None = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._cache: dict[str, Future[Any]] = {}
        self.calls = 0
        self.retries = 0

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
        )
        aws.check_credentials()
        return aws

    # -- session and clients -------------------------------------------------------------------
    @property
    def session(self) -> boto3.session.Session:
        with self._lock:
            if self._session is None:
                import boto3
                from botocore.exceptions import BotoCoreError

                try:
                    self._session = boto3.session.Session(
                        profile_name=self._profile, region_name=self._region
                    )
                except BotoCoreError as exc:
                    raise credentials_error(exc, self._profile) or CredentialsError(str(exc)) from exc
            return self._session

    @property
    def region(self) -> str:
        from botocore.exceptions import BotoCoreError

        try:
            region = self.session.region_name
        except BotoCoreError as exc:  # the config is read lazily: a broken file surfaces here
            raise credentials_error(exc, self._profile) or CredentialsError(str(exc)) from exc
        if not region:
            raise CredentialsError("no AWS region: set AWS_REGION, a profile region, or --region")
        if not _REGION.match(region):
            raise CredentialsError(f"{region!r} is not an AWS region name (like eu-west-1)")
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
        """The one client per service of this session (created once: creation is the slow part)."""
        region = self.region
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                client = self._new_client(service, region)
                self._clients[service] = client
            return client

    def _new_client(self, service: str, region: str) -> Any:
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError

        assert self._session is not None
        try:
            return self._session.client(
                service,  # type: ignore[call-overload]
                region_name=region,
                config=Config(
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=5,
                    read_timeout=30,
                    max_pool_connections=self._max_pool,
                    user_agent_extra="remediate/0.1",
                ),
            )
        except BotoCoreError as exc:
            raise credentials_error(exc, self._profile) or CredentialsError(str(exc)) from exc

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
                    self._limiter.acquire(service)
                    with self._lock:
                        self.calls += 1
                    result: dict[str, Any] = method(**params)
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
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _before_sleep(self, service: str, operation: str) -> Callable[[RetryCallState], None]:
        def hook(state: RetryCallState) -> None:
            with self._lock:
                self.retries += 1
            exc = state.outcome.exception() if state.outcome else None
            log.info(
                "aws.retry",
                service=service,
                operation=operation,
                attempt=state.attempt_number,
                error=error_code(exc) if exc else "",
                sleep=round(state.upcoming_sleep, 3),
            )

        return hook

    def read(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """A cached read: the same call with the same parameters is made once per Aws instance."""
        key = json.dumps([service, operation, params], sort_keys=True, default=str)
        with self._lock:
            future = self._cache.get(key)
            owner = future is None
            if future is None:
                future = Future()
                self._cache[key] = future
        if not owner:
            return future.result()  # type: ignore[no-any-return]
        try:
            value = self.call(service, operation, **params)
        except BaseException as exc:
            future.set_exception(exc)
            with self._lock:
                self._cache.pop(key, None)  # do not cache failures: a retry later may succeed
            raise
        future.set_result(value)
        return value

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
