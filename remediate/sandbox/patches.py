"""Every gap fill the sandbox applies to moto, in one place.

moto 5.2 emulates most of what `remediate` reads and writes, but not the parts that matter most for Kafka
event source mappings; ``docs/sandbox.md`` lists each gap this module fills (and the ones it leaves). This
module patches moto's model, backend and response classes in-process, before the server starts, so that
boto3 talking HTTP to the sandbox sees AWS-shaped answers.

Rules kept here:

* every patch goes through :func:`_replace`, which records the original, so :func:`apply_patches` is
  idempotent and the patch list can be inspected;
* the patched behaviour is per-request configurable through :func:`request_settings` (a context variable the
  server's middleware sets), never through process globals that two sandboxes would fight over;
* moto is typed but its internals are not an API: everything crossing into moto is treated as ``Any``.

Each gap has its own test in ``tests/sandbox/test_gaps.py`` so that a moto upgrade that changes an internal
this module depends on fails loudly rather than silently un-patching.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final
from urllib.parse import unquote

from moto.awslambda import models as _lambda_models
from moto.awslambda import responses as _lambda_responses
from moto.awslambda.exceptions import InvalidParameterValueException, LambdaClientError
from moto.ec2 import exceptions as _ec2_exceptions
from moto.ec2 import models as _ec2_models
from moto.ec2.exceptions import EC2ClientError, InvalidSubnetIdError
from moto.ec2.models import security_groups as _ec2_sg
from moto.ec2.models import vpcs as _ec2_vpcs
from moto.ec2.responses import vpcs as _ec2_vpc_responses
from moto.kafka import models as _kafka_models
from moto.kafka import responses as _kafka_responses
from moto.kafka.exceptions import BadRequestException, NotFoundException
from moto.secretsmanager import models as _sm_models

from remediate.sandbox import (
    automation,
    cross_account_secrets,
    destination_keys,
    key_policies,
    paging,
    regional_nat,
    runtime,
    shared_zones,
    speed,
)

__all__ = [
    "DEFAULT_ENDPOINT_PENDING_READS",
    "DEFAULT_TRANSITION_READS",
    "KAFKA_BATCH_SIZE_RANGE",
    "TRANSITIONAL_STATES",
    "EsmStatus",
    "applied_patches",
    "apply_patches",
    "broker_hosts",
    "esm_status",
    "request_settings",
    "set_cluster_state",
    "set_endpoint_service_zones",
    "set_esm_status",
    "set_vpc_connection_state",
]

DEFAULT_TRANSITION_READS: Final = 2
"""How many GetEventSourceMapping reads a transitional ESM state lasts unless the sandbox says otherwise."""
DEFAULT_ENDPOINT_PENDING_READS: Final = 2
"""How many DescribeVpcEndpoints reads a new endpoint stays `pending` before it is `available`."""

TRANSITIONAL_STATES: Final = frozenset({"Creating", "Enabling", "Disabling", "Updating"})
# "Using Lambda with Amazon MSK", section "Amazon MSK configuration parameters",
# https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html (source: awsdocs/aws-lambda-developer-guide
# doc_source/with-msk.md): BatchSize default 100, "Maximum: 10,000". The minimum of 1 is not stated there.
KAFKA_BATCH_SIZE_RANGE: Final = (1, 10_000)
_KAFKA_DEFAULT_BATCH_SIZE: Final = 100

# Wording AWS uses; the engine matches on these.
_USER_ACTION: Final = "User action"
_NO_RECORDS: Final = "No records processed"
_IN_USE_MESSAGE: Final = "Cannot update the event source mapping because it is in use."

_transition_reads: ContextVar[int] = ContextVar(
    "remediate_sandbox_transition_reads", default=DEFAULT_TRANSITION_READS
)
_endpoint_pending_reads: ContextVar[int] = ContextVar(
    "remediate_sandbox_endpoint_pending_reads", default=DEFAULT_ENDPOINT_PENDING_READS
)

# One lock for every ESM status mutation: moto's threaded server runs requests concurrently.
_ESM_LOCK = threading.RLock()
_PATCH_LOCK = threading.Lock()
_ORIGINALS: dict[tuple[type[Any] | ModuleType, str], Any] = {}


@contextlib.contextmanager
def request_settings(
    *, transition_reads: int, endpoint_pending_reads: int = DEFAULT_ENDPOINT_PENDING_READS
) -> Iterator[None]:
    """Make the patched handlers use this sandbox's settings for the duration of one request."""
    token = _transition_reads.set(max(0, transition_reads))
    endpoint_token = _endpoint_pending_reads.set(max(0, endpoint_pending_reads))
    try:
        yield
    finally:
        _endpoint_pending_reads.reset(endpoint_token)
        _transition_reads.reset(token)


def _replace(owner: type[Any] | ModuleType, name: str, new: Any) -> None:
    """Replace ``owner.name`` with ``new``, remembering the first original so re-applying is a no-op."""
    key = (owner, name)
    if key not in _ORIGINALS:
        _ORIGINALS[key] = owner.__dict__.get(name)
    setattr(owner, name, new)


def _chain(owner: type[Any], prior: dict[str, Any], replacements: dict[str, Any]) -> None:
    """Install each replacement over what `owner` holds now (earlier patches included), keeping that in
    `prior[name]` for the replacement to call: later gap fills layer over earlier ones instead of undoing
    them."""
    for name, new in replacements.items():
        prior[name] = getattr(owner, name)
        _replace(owner, name, new)


def _original(owner: type[Any] | ModuleType, name: str) -> Any:
    return _ORIGINALS[(owner, name)]


def applied_patches() -> list[str]:
    """The ``Class.attribute`` names currently patched, for diagnostics and tests."""
    return sorted(f"{owner.__name__}.{name}" for owner, name in _ORIGINALS)


# --- Lambda: errors ---


class _EsmNotFound(LambdaClientError):
    code = 404

    def __init__(self, uuid: str) -> None:
        super().__init__(
            "ResourceNotFoundException",
            f"The resource you requested does not exist. (Event source mapping {uuid})",
        )


class _EsmInUse(LambdaClientError):
    def __init__(self) -> None:
        super().__init__("ResourceInUseException", _IN_USE_MESSAGE)


# --- Lambda: ESM status (State, StateTransitionReason, LastProcessingResult and the transitional states) ---


@dataclass
class EsmStatus:
    """What AWS reports about an ESM's pollers, which moto does not model at all.

    ``settles_to``/``reads_left`` implement the transitional states: while ``settles_to`` is set the ESM shows
    ``state`` (e.g. "Disabling") for ``reads_left`` more GetEventSourceMapping reads, then ``settles_to``.
    """

    state: str
    state_transition_reason: str
    last_processing_result: str | None
    settles_to: str | None = None
    reads_left: int = 0
    result_on_settle: str | None = None

    @property
    def in_transition(self) -> bool:
        return self.settles_to is not None

    def begin(self, transitional: str, target: str, reads: int, result_on_settle: str | None = None) -> None:
        self.state = transitional
        self.settles_to = target
        self.reads_left = reads
        self.result_on_settle = result_on_settle
        if reads <= 0:
            self.settle()

    def settle(self) -> None:
        if self.settles_to is None:
            return
        self.state = self.settles_to
        if self.result_on_settle is not None:
            self.last_processing_result = self.result_on_settle
        self.settles_to = None
        self.reads_left = 0
        self.result_on_settle = None

    def observe(self) -> None:
        """Account for one GetEventSourceMapping read."""
        if self.settles_to is None:
            return
        if self.reads_left <= 0:
            self.settle()
        else:
            self.reads_left -= 1


_STATUS_ATTR: Final = "_remediate_status"


def _is_kafka(esm: Any) -> bool:
    return isinstance(esm, KafkaEventSourceMapping)


def esm_status(esm: Any) -> EsmStatus:
    """The status record of a moto ESM object, created on first use from what moto knows."""
    status: EsmStatus | None = getattr(esm, _STATUS_ATTR, None)
    if status is None:
        status = EsmStatus(
            state="Enabled" if esm.enabled else "Disabled",
            state_transition_reason=_USER_ACTION,
            last_processing_result=_NO_RECORDS if _is_kafka(esm) else None,
        )
        setattr(esm, _STATUS_ATTR, status)
    return status


def _settled_target(esm: Any, state: str) -> str:
    if state == "Enabling":
        return "Enabled"
    if state == "Disabling":
        return "Disabled"
    return "Enabled" if esm.enabled else "Disabled"


def set_esm_status(
    uuid: str,
    *,
    account_id: str,
    region: str,
    state: str | None = None,
    state_transition_reason: str | None = None,
    last_processing_result: str | None = None,
    transition_reads: int = DEFAULT_TRANSITION_READS,
) -> None:
    """Set what AWS would report for the ESM, directly on the in-process backend (``None`` = leave as is).

    A settled state (Enabled/Disabled) also flips moto's ``enabled`` flag; a transitional one settles after
    ``transition_reads`` GetEventSourceMapping reads, like one caused by an update.
    """
    esm = _lambda_models.lambda_backends[account_id][region].get_event_source_mapping(uuid)
    if esm is None:
        raise LookupError(f"no event source mapping {uuid} in {account_id}/{region}")
    with _ESM_LOCK:
        status = esm_status(esm)
        if state is not None:
            if state in ("Enabled", "Enabling"):
                esm.enabled = True
            elif state in ("Disabled", "Disabling"):
                esm.enabled = False
            if state in TRANSITIONAL_STATES:
                status.begin(state, _settled_target(esm, state), transition_reads)
            else:
                status.settles_to = None
                status.reads_left = 0
                status.state = state
        if state_transition_reason is not None:
            status.state_transition_reason = state_transition_reason
        if last_processing_result is not None:
            status.last_processing_result = last_processing_result


def _get_configuration(self: Any) -> dict[str, Any]:
    """moto's rendering plus the status fields moto hard-codes (State, StateTransitionReason, LPR)."""
    config: dict[str, Any] = _original(_lambda_models.EventSourceMapping, "get_configuration")(self)
    with _ESM_LOCK:
        status = esm_status(self)
        config["State"] = status.state
        config["StateTransitionReason"] = status.state_transition_reason
        if status.last_processing_result is None:
            config.pop("LastProcessingResult", None)
        else:
            config["LastProcessingResult"] = status.last_processing_result
    return config


# --- Lambda: Kafka event source mappings (MSK and self-managed) ---


# moto's model is typed for SQS/Kinesis/DynamoDB sources (str ARN, abstract CloudFormation hooks); the Kafka
# subclass deliberately widens it, so it derives from the class as an untyped value.
_EventSourceMappingBase: Any = _lambda_models.EventSourceMapping


class KafkaEventSourceMapping(_EventSourceMappingBase):  # type: ignore[misc]
    """An ESM whose source is an MSK cluster ARN or a ``SelfManagedEventSource``.

    moto's base class validates the source ARN and the batch size against SQS/Kinesis/DynamoDB only; this
    subclass
    accepts Kafka sources and applies Kafka's batch size rules. ``__module__`` must name a moto models module:
    moto's model metaclass files every model class under the service named by its module path.
    """

    __module__ = "moto.awslambda.models"

    def __init__(self, spec: dict[str, Any]) -> None:
        spec = dict(spec)
        spec.setdefault("EventSourceArn", None)
        super().__init__(spec)

    def _get_service_source_from_arn(self, event_source_arn: str | None = None) -> str:
        return "kafka"

    @property
    def event_source_arn(self) -> str | None:
        return self._event_source_arn

    @event_source_arn.setter
    def event_source_arn(self, event_source_arn: str | None) -> None:
        if event_source_arn is not None and not _is_kafka_arn(event_source_arn):
            raise InvalidParameterValueException(f"Unsupported event source type: {event_source_arn}")
        self._event_source_arn = event_source_arn

    @property
    def batch_size(self) -> int:
        return self._batch_size

    @batch_size.setter
    def batch_size(self, new_batch_size: int | None) -> None:
        if new_batch_size is None:
            self._batch_size = _KAFKA_DEFAULT_BATCH_SIZE
            return
        low, high = KAFKA_BATCH_SIZE_RANGE
        if not low <= int(new_batch_size) <= high:
            raise InvalidParameterValueException(
                f"BatchSize {new_batch_size} is out of range: Kafka event sources accept {low} to {high}."
            )
        self._batch_size = int(new_batch_size)


def _is_kafka_arn(arn: str) -> bool:
    parts = arn.split(":")
    return len(parts) >= 6 and parts[2] == "kafka"


def _is_kafka_spec(spec: dict[str, Any]) -> bool:
    arn = spec.get("EventSourceArn")
    return bool(spec.get("SelfManagedEventSource")) or (isinstance(arn, str) and _is_kafka_arn(arn))


def _value_error_to_400(error: ValueError) -> LambdaClientError:
    """moto raises a bare ``ValueError(code, message)`` for bad batch sizes, which the server turns into a
    500."""
    message = error.args[1] if len(error.args) > 1 else str(error)
    return InvalidParameterValueException(str(message))


def _create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
    if _is_kafka_spec(spec):
        esm = _create_kafka_esm(self, spec)
    else:
        try:
            esm = _original(_lambda_models.LambdaBackend, "create_event_source_mapping")(self, spec)
        except ValueError as error:
            raise _value_error_to_400(error) from error
    with _ESM_LOCK:
        status = esm_status(esm)
        status.begin("Creating", "Enabled" if esm.enabled else "Disabled", _transition_reads.get())
    return esm


def _create_kafka_esm(backend: Any, spec: dict[str, Any]) -> Any:
    if not spec.get("FunctionName"):
        raise InvalidParameterValueException("Missing FunctionName")
    topics = spec.get("Topics") or []
    if len(topics) != 1:
        raise InvalidParameterValueException("Kafka event sources take exactly one topic in Topics.")
    arn = spec.get("EventSourceArn")
    if arn and spec.get("SelfManagedEventSource"):
        raise InvalidParameterValueException(
            "Specify either EventSourceArn or SelfManagedEventSource, not both."
        )
    if spec.get("SelfManagedEventSource"):
        servers = spec["SelfManagedEventSource"].get("Endpoints", {}).get("KAFKA_BOOTSTRAP_SERVERS") or []
        if not servers:
            raise InvalidParameterValueException("SelfManagedEventSource needs KAFKA_BOOTSTRAP_SERVERS.")
    elif arn and arn.split(":", 5)[-1].startswith("vpc-connection/"):
        # A cross-account source is the consumer's managed VPC connection, which must exist here.
        if not vpc_connection_exists(backend.account_id, arn.split(":")[3], arn):
            raise InvalidParameterValueException(f"The MSK VPC connection {arn} does not exist.")
    elif arn and arn.split(":")[4] == backend.account_id:
        # A cluster of another account is reached only through a VPC connection, above.
        region = arn.split(":")[3]
        if arn not in _kafka_models.kafka_backends[backend.account_id][region].clusters:
            raise InvalidParameterValueException(f"The MSK cluster {arn} does not exist.")
    func = backend._lambdas.get_function_by_name_or_arn_with_qualifier(spec["FunctionName"])
    full_spec = {
        **spec,
        "RegionName": backend.region_name,
        "AccountId": backend.account_id,
        "FunctionArn": func.function_arn,
    }
    esm = KafkaEventSourceMapping(full_spec)
    backend._event_source_mappings[esm.uuid] = esm
    return esm


_GROUP_FIXED: Final = "ConsumerGroupId cannot be updated on an existing event source mapping."
"""The sandbox's own wording (AWS's error text was not found): "After creating a Kafka event source mapping
with the consumer group ID specified, you cannot update this value" (Lambda developer guide, "Customizable
consumer group ID in Lambda")."""


def _group_id(config: Any) -> Any:
    return (config or {}).get("ConsumerGroupId") if isinstance(config, dict) else None


def _update_event_source_mapping(self: Any, uuid: str, spec: dict[str, Any]) -> Any:
    esm = self.get_event_source_mapping(uuid)
    if esm is None:
        raise _EsmNotFound(uuid)
    current = esm.get_configuration()
    for key in ("AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig"):
        wanted = _group_id(spec.get(key))
        if wanted is not None and wanted != _group_id(current.get(key)):
            raise InvalidParameterValueException(_GROUP_FIXED)
    with _ESM_LOCK:
        status = esm_status(esm)
        if status.in_transition:
            raise _EsmInUse()
        was_enabled = status.state == "Enabled"
        try:
            _original(_lambda_models.LambdaBackend, "update_event_source_mapping")(self, uuid, spec)
        except ValueError as error:
            raise _value_error_to_400(error) from error
        reads = _transition_reads.get()
        if "Enabled" in spec and bool(spec["Enabled"]) != was_enabled:
            status.state_transition_reason = _USER_ACTION
            if spec["Enabled"]:
                # Re-enabling restarts the pollers: the old error text goes until a new error occurs.
                status.begin("Enabling", "Enabled", reads, result_on_settle=_NO_RECORDS)
            else:
                status.begin("Disabling", "Disabled", reads)
        else:
            status.begin("Updating", "Enabled" if esm.enabled else "Disabled", reads)
    return esm


def _function_filter_matches(esm: Any, function_name: str) -> bool:
    """AWS accepts a name, a partial or a full (optionally qualified) ARN; compare name and qualifier."""
    wanted = function_name.split(":")
    if function_name.startswith("arn:"):
        wanted = wanted[6:]
    elif len(wanted) >= 3 and wanted[1] == "function":  # partial ARN: ACCOUNT:function:NAME[:QUALIFIER]
        wanted = wanted[2:]
    actual: list[str] = str(esm.function_arn).split(":")[6:]
    if len(wanted) == 1:
        return bool(actual) and actual[0] == wanted[0]
    return actual[: len(wanted)] == wanted


_MAX_ITEMS_LIMIT: Final = 10_000


def _encode_marker(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_marker(marker: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(marker.encode()))["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise InvalidParameterValueException(f"Invalid Marker: {marker}") from error
    if not isinstance(offset, int) or offset < 0:
        raise InvalidParameterValueException(f"Invalid Marker: {marker}")
    return offset


# Response methods (bound to moto's LambdaResponse: ``self`` is the response object).


def _first(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def _esm_uuid_from_path(response: Any) -> str:
    return unquote(str(response.path).rstrip("/").split("/")[-1])


def _respond_create_esm(self: Any) -> tuple[int, dict[str, Any], str]:
    esm = self.backend.create_event_source_mapping(self.json_body)
    return 202, {"status": 202}, json.dumps(esm.get_configuration())


def _respond_get_esm(self: Any) -> tuple[int, dict[str, Any], str]:
    uuid = _esm_uuid_from_path(self)
    esm = self.backend.get_event_source_mapping(uuid)
    if esm is None:
        raise _EsmNotFound(uuid)
    with _ESM_LOCK:
        esm_status(esm).observe()
        body = json.dumps(esm.get_configuration())
    return 200, {}, body


def _respond_update_esm(self: Any) -> tuple[int, dict[str, Any], str]:
    esm = self.backend.update_event_source_mapping(_esm_uuid_from_path(self), self.json_body)
    return 202, {"status": 202}, json.dumps(esm.get_configuration())


def _respond_delete_esm(self: Any) -> tuple[int, dict[str, Any], str]:
    uuid = _esm_uuid_from_path(self)
    esm = self.backend.delete_event_source_mapping(uuid)
    if esm is None:
        raise _EsmNotFound(uuid)
    config = esm.get_configuration()
    config["State"] = "Deleting"
    return 202, {"status": 202}, json.dumps(config)


def _respond_list_esms(self: Any) -> str:
    query: dict[str, list[str]] = self.querystring
    event_source_arn = _first(query, "EventSourceArn")
    function_name = _first(query, "FunctionName")
    marker = _first(query, "Marker")
    raw_max = _first(query, "MaxItems")
    try:
        max_items = 100 if raw_max is None else int(raw_max)
    except ValueError as error:
        raise InvalidParameterValueException(f"Invalid MaxItems: {raw_max}") from error
    if not 1 <= max_items <= _MAX_ITEMS_LIMIT:
        raise InvalidParameterValueException(f"MaxItems must be between 1 and {_MAX_ITEMS_LIMIT}.")
    esms = list(self.backend._event_source_mappings.values())
    if event_source_arn:
        esms = [esm for esm in esms if esm.event_source_arn == event_source_arn]
    if function_name:
        esms = [esm for esm in esms if _function_filter_matches(esm, function_name)]
    start = _decode_marker(marker) if marker else 0
    page = esms[start : start + max_items]
    result: dict[str, Any] = {"EventSourceMappings": [esm.get_configuration() for esm in page]}
    if start + max_items < len(esms):
        result["NextMarker"] = _encode_marker(start + max_items)
    return json.dumps(result)


def _function_vpc_config(self: Any) -> dict[str, Any] | None:
    """moto reports ``VpcId: vpc-123abc`` for every function; AWS reports the subnets' VPC."""
    raw: dict[str, Any] | None = self._vpc_config
    if not raw:
        return None
    config = dict(raw)
    vpc_id = ""
    ec2 = _ec2_models.ec2_backends[self.account_id][self.region]
    for subnet_id in config.get("SubnetIds") or []:
        try:
            vpc_id = ec2.get_subnet(subnet_id).vpc_id
            break
        except InvalidSubnetIdError:
            continue
    config["VpcId"] = vpc_id
    config.setdefault("SubnetIds", [])
    config.setdefault("SecurityGroupIds", [])
    return config


def _patch_lambda() -> None:
    esm_cls = _lambda_models.EventSourceMapping
    backend_cls = _lambda_models.LambdaBackend
    response_cls = _lambda_responses.LambdaResponse
    _replace(esm_cls, "get_configuration", _get_configuration)
    _replace(backend_cls, "create_event_source_mapping", _create_event_source_mapping)
    _replace(backend_cls, "update_event_source_mapping", _update_event_source_mapping)
    _replace(response_cls, "create_event_source_mapping", _respond_create_esm)
    _replace(response_cls, "get_event_source_mapping", _respond_get_esm)
    _replace(response_cls, "update_event_source_mapping", _respond_update_esm)
    _replace(response_cls, "delete_event_source_mapping", _respond_delete_esm)
    _replace(response_cls, "list_event_source_mappings", _respond_list_esms)
    _replace(_lambda_models.LambdaFunction, "vpc_config", property(_function_vpc_config))


# --- Kafka (MSK) ---

_DEFAULT_ENCRYPTION_INFO: Final[dict[str, Any]] = {
    "encryptionInTransit": {"clientBroker": "TLS", "inCluster": True},
}
_DEFAULT_CLIENT_AUTHENTICATION: Final[dict[str, Any]] = {"unauthenticated": {"enabled": True}}
_SCRAM_ATTR: Final = "_remediate_scram_secrets"


def _cluster_arn(self: Any) -> str:
    """AWS cluster ARNs carry the name, ``cluster/NAME/UUID-N``; Kafka IAM resource ARNs derive from it."""
    partition = "aws-cn" if self.region_name.startswith("cn-") else "aws"
    resource = f"cluster/{self.cluster_name}/{self.cluster_id}-1"
    return f"arn:{partition}:kafka:{self.region_name}:{self.account_id}:{resource}"


def _finish_cluster(cluster: Any, details: dict[str, Any]) -> None:
    """Keep what moto's CreateClusterV2 drops, apply AWS's defaults, and make the cluster usable."""
    for attr, key in (
        ("client_authentication", "clientAuthentication"),
        ("encryption_info", "encryptionInfo"),
        ("configuration_info", "configurationInfo"),
        ("open_monitoring", "openMonitoring"),
        ("logging_info", "loggingInfo"),
        ("enhanced_monitoring", "enhancedMonitoring"),
    ):
        if details.get(key) is not None:
            setattr(cluster, attr, details[key])
    if cluster.cluster_type == "PROVISIONED":
        cluster.encryption_info = cluster.encryption_info or json.loads(json.dumps(_DEFAULT_ENCRYPTION_INFO))
        cluster.client_authentication = cluster.client_authentication or dict(_DEFAULT_CLIENT_AUTHENTICATION)
    # Real clusters take ~20 minutes to leave CREATING; a sandbox has no reason to make anyone wait.
    cluster.state = "ACTIVE"


def _create_cluster_v2(
    self: Any,
    cluster_name: str,
    tags: dict[str, str] | None,
    provisioned: dict[str, Any] | None,
    serverless: dict[str, Any] | None,
) -> tuple[str, str, str, str]:
    result: tuple[str, str, str, str] = _original(_kafka_models.KafkaBackend, "create_cluster_v2")(
        self, cluster_name, tags, provisioned, serverless
    )
    _finish_cluster(self.clusters[result[0]], provisioned or {})
    return result


def _create_cluster(self: Any, *args: Any, **kwargs: Any) -> tuple[str, str, str]:
    result: tuple[str, str, str] = _original(_kafka_models.KafkaBackend, "create_cluster")(
        self, *args, **kwargs
    )
    _finish_cluster(self.clusters[result[0]], {})
    return result


def _get_cluster(backend: Any, arn: str) -> Any:
    cluster = backend.clusters.get(arn)
    if cluster is None:
        raise _KafkaNotFound(f"Cluster {arn} does not exist.")
    return cluster


class _KafkaNotFound(NotFoundException):
    code = 404


def broker_hosts(cluster_name: str, region: str, count: int) -> list[str]:
    """Deterministic MSK-style broker host names: ``b-N.<name>.<id6>.c2.kafka.<region>.amazonaws.com``."""
    label = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in cluster_name.lower()).strip("-")[:40]
    short = hashlib.sha256(cluster_name.encode()).hexdigest()[:6]
    return [f"b-{i}.{label}.{short}.c2.kafka.{region}.amazonaws.com" for i in range(1, count + 1)]


def _bootstrap_brokers(cluster: Any) -> dict[str, str]:
    if cluster.cluster_type != "PROVISIONED":
        serverless = cluster.serverless_config or {}
        short = hashlib.sha256(cluster.cluster_name.encode()).hexdigest()[:8]
        if (serverless.get("clientAuthentication") or {}).get("sasl", {}).get("iam", {}).get("enabled", True):
            host = f"boot-{short}.c2.kafka-serverless.{cluster.region_name}.amazonaws.com:9098"
            return {"bootstrapBrokerStringSaslIam": host}
        return {}
    node_info = cluster.broker_node_group_info or {}
    count = max(int(cluster.number_of_broker_nodes or 1), len(node_info.get("clientSubnets") or []))
    hosts = broker_hosts(cluster.cluster_name, cluster.region_name, count)
    auth = cluster.client_authentication or {}
    client_broker = (
        (cluster.encryption_info or {}).get("encryptionInTransit", {}).get("clientBroker", "TLS").upper()
    )
    plaintext_ok = client_broker in ("PLAINTEXT", "TLS_PLAINTEXT")
    tls_ok = client_broker in ("TLS", "TLS_PLAINTEXT")
    unauthenticated = auth.get("unauthenticated", {}).get("enabled", not auth)
    sasl = auth.get("sasl", {})

    def join(port: int) -> str:
        return ",".join(f"{host}:{port}" for host in hosts)

    # Ports: "9092 for plaintext, 9094 for TLS, 9096 for SASL, 9098 for IAM" ("Using Lambda with Amazon MSK",
    # section "Network configuration", https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html).
    brokers: dict[str, str] = {}
    if plaintext_ok and unauthenticated:
        brokers["bootstrapBrokerString"] = join(9092)
    if tls_ok and (unauthenticated or auth.get("tls", {}).get("enabled", bool(auth.get("tls")))):
        brokers["bootstrapBrokerStringTls"] = join(9094)
    if tls_ok and sasl.get("scram", {}).get("enabled"):
        brokers["bootstrapBrokerStringSaslScram"] = join(9096)
    if tls_ok and sasl.get("iam", {}).get("enabled"):
        brokers["bootstrapBrokerStringSaslIam"] = join(9098)
    return brokers


def _cluster_arn_from_path(response: Any, suffix: str) -> str:
    path = str(response.parsed_url.path)
    return unquote(path.split("/clusters/", 1)[-1]).removesuffix(suffix).rstrip("/")


def _respond_get_bootstrap_brokers(self: Any) -> str:
    cluster = _get_cluster(self.kafka_backend, _cluster_arn_from_path(self, "/bootstrap-brokers"))
    return json.dumps(_bootstrap_brokers(cluster))


def _scram_secrets(cluster: Any) -> list[str]:
    secrets: list[str] | None = getattr(cluster, _SCRAM_ATTR, None)
    if secrets is None:
        secrets = []
        setattr(cluster, _SCRAM_ATTR, secrets)
    return secrets


def _scram_problem(backend: Any, cluster: Any, secret_arn: str) -> tuple[str, str] | None:
    """Why MSK would refuse to associate the secret, as (errorCode, errorMessage), or None."""
    if ((cluster.client_authentication or {}).get("sasl") or {}).get("scram", {}).get("enabled") is not True:
        return "ScramNotEnabled", "SASL/SCRAM authentication is not enabled on the cluster."
    parts = secret_arn.split(":")
    if len(parts) < 7 or parts[2] != "secretsmanager":
        return "InvalidSecretArn", "The secret ARN is not a Secrets Manager secret ARN."
    if parts[3] != backend.region_name or parts[4] != backend.account_id:
        return "InvalidSecretArn", "The secret must be in the cluster's account and Region."
    store = _sm_models.secretsmanager_backends[backend.account_id][backend.region_name].secrets
    secret: Any = store.get(secret_arn) if secret_arn in store else None
    if secret is None:
        return "SecretNotFound", "The secret does not exist."
    if not str(secret.name).startswith("AmazonMSK_"):
        return "InvalidSecretName", "The secret name must begin with AmazonMSK_."
    kms_key = getattr(secret, "kms_key_id", None)
    if not kms_key or str(kms_key).endswith("alias/aws/secretsmanager"):
        return (
            "InvalidSecretKmsKey",
            "The secret is encrypted with the default Secrets Manager key; use a customer managed KMS key.",
        )
    return None


def _secret_arn_list(response: Any) -> list[str]:
    body = json.loads(response.body or "{}")
    arns = body.get("secretArnList")
    if not isinstance(arns, list) or not arns:
        raise BadRequestException("secretArnList must be a non-empty list.")
    return [str(arn) for arn in arns]


def _respond_batch_associate_scram(self: Any) -> str:
    arn = _cluster_arn_from_path(self, "/scram-secrets")
    cluster = _get_cluster(self.kafka_backend, arn)
    associated = _scram_secrets(cluster)
    unprocessed = []
    for secret_arn in _secret_arn_list(self):
        problem = _scram_problem(self.kafka_backend, cluster, secret_arn)
        if problem is not None:
            unprocessed.append({"secretArn": secret_arn, "errorCode": problem[0], "errorMessage": problem[1]})
        elif secret_arn not in associated:
            associated.append(secret_arn)
    return json.dumps({"clusterArn": arn, "unprocessedScramSecrets": unprocessed})


def _respond_batch_disassociate_scram(self: Any) -> str:
    arn = _cluster_arn_from_path(self, "/scram-secrets")
    associated = _scram_secrets(_get_cluster(self.kafka_backend, arn))
    unprocessed = []
    for secret_arn in _secret_arn_list(self):
        if secret_arn in associated:
            associated.remove(secret_arn)
        else:
            unprocessed.append(
                {
                    "secretArn": secret_arn,
                    "errorCode": "SecretNotAssociated",
                    "errorMessage": "The secret is not associated with the cluster.",
                }
            )
    return json.dumps({"clusterArn": arn, "unprocessedScramSecrets": unprocessed})


def _respond_list_scram_secrets(self: Any) -> str:
    arn = _cluster_arn_from_path(self, "/scram-secrets")
    secrets = list(_scram_secrets(_get_cluster(self.kafka_backend, arn)))
    query: dict[str, list[str]] = self.querystring
    max_results = int(_first(query, "maxResults") or "100")
    token = _first(query, "nextToken")
    start = int(token) if token and token.isdigit() else 0
    result: dict[str, Any] = {"secretArnList": secrets[start : start + max_results]}
    if start + max_results < len(secrets):
        result["nextToken"] = str(start + max_results)
    return json.dumps(result)


def _respond_describe_cluster_v2(self: Any) -> str:
    """DescribeClusterV2 of a cluster this account and Region do not have (unknown, deleted, another
    account's, or not a cluster ARN at all, like a VPC connection's) is a 404 NotFoundException (MSK API
    reference, DescribeClusterV2 errors); moto fails with a KeyError (500). Not confirmed: the wording."""
    arn = unquote(self.parsed_url.path.split("/clusters/")[-1])
    _get_cluster(self.kafka_backend, arn)
    return str(_original(_kafka_responses.KafkaResponse, "describe_cluster_v2")(self))


# --- Kafka: managed VPC connections (MSK multi-VPC private connectivity), which moto lacks --------------
#
# A cross-account mapping's EventSourceArn is "the managed VPC connection ARN instead of the cluster ARN",
# e.g. arn:aws:kafka:us-east-1:111122223333:vpc-connection/444455556666/my-cluster-name/51jn98b4-...-7
# ("Creating cross-account event source mappings in Lambda",
# https://docs.aws.amazon.com/lambda/latest/dg/msk-cross-account.html): the connection lives in the
# consumer's account, the cluster in the owner's. CreateVpcConnection takes TargetClusterArn,
# Authentication (SASL_IAM | SASL_SCRAM | TLS), VpcId, ClientSubnets and SecurityGroups; DescribeVpcConnection
# returns VpcConnectionArn, TargetClusterArn, State, Authentication, VpcId, Subnets, SecurityGroups,
# CreationTime and Tags (MSK API reference; CloudFormation AWS::MSK::VpcConnection for the authentication
# values). States: AVAILABLE, CREATING, DEACTIVATING, DELETING, FAILED, INACTIVE, REJECTED, REJECTING (MSK API
# model, VpcConnectionState). The owner's side (its cluster policy accepting the connection) is not
# modelled: a connection is AVAILABLE at once, like a cluster is ACTIVE at once.
_VPC_CONNECTIONS_ATTR: Final = "_remediate_vpc_connections"
_CONNECTION_AUTHENTICATIONS: Final = frozenset({"SASL_IAM", "SASL_SCRAM", "TLS"})
VPC_CONNECTION_STATES: Final = frozenset(
    {"AVAILABLE", "CREATING", "DEACTIVATING", "DELETING", "FAILED", "INACTIVE", "REJECTED", "REJECTING"}
)
CLUSTER_STATES: Final = frozenset(
    {"ACTIVE", "CREATING", "DELETING", "FAILED", "HEALING", "MAINTENANCE", "REBOOTING_BROKER", "UPDATING"}
)
"""ClusterInfo.State (MSK API reference: "The possible states are ACTIVE, CREATING, DELETING, FAILED,
HEALING, MAINTENANCE, REBOOTING_BROKER, and UPDATING")."""


def _vpc_connections(backend: Any) -> dict[str, dict[str, Any]]:
    store: dict[str, dict[str, Any]] | None = getattr(backend, _VPC_CONNECTIONS_ATTR, None)
    if store is None:
        store = {}
        setattr(backend, _VPC_CONNECTIONS_ATTR, store)
    return store


def _respond_create_vpc_connection(self: Any) -> str:
    body = json.loads(self.body or "{}")
    target = str(body.get("targetClusterArn") or "")
    parts = target.split(":", 5)
    resource = parts[5].split("/") if len(parts) == 6 else []
    if len(parts) != 6 or parts[2] != "kafka" or len(resource) != 3 or resource[0] != "cluster":
        raise BadRequestException("targetClusterArn must be an MSK cluster ARN.")
    authentication = body.get("authentication")
    if authentication not in _CONNECTION_AUTHENTICATIONS:
        raise BadRequestException("authentication must be one of SASL_IAM, SASL_SCRAM, TLS.")
    backend = self.kafka_backend
    owner, (_, name, cluster_uuid) = parts[4], resource
    prefix = f"arn:aws:kafka:{backend.region_name}:{backend.account_id}"
    arn = f"{prefix}:vpc-connection/{owner}/{name}/{cluster_uuid}"
    connection = {
        "vpcConnectionArn": arn,
        "targetClusterArn": target,
        "state": "AVAILABLE",
        "authentication": authentication,
        "vpcId": body.get("vpcId"),
        "subnets": list(body.get("clientSubnets") or []),
        "securityGroups": list(body.get("securityGroups") or []),
        "creationTime": "2024-01-01T00:00:00.000Z",
        "tags": dict(body.get("tags") or {}),
    }
    _vpc_connections(backend)[arn] = connection
    created = {k: v for k, v in connection.items() if k not in ("targetClusterArn", "subnets")}
    return json.dumps({**created, "clientSubnets": connection["subnets"]})


def _vpc_connection_arn_from_path(response: Any) -> str:
    return unquote(str(response.parsed_url.path).split("/vpc-connection/", 1)[-1]).rstrip("/")


def _respond_describe_vpc_connection(self: Any) -> str:
    arn = _vpc_connection_arn_from_path(self)
    connection = _vpc_connections(self.kafka_backend).get(arn)
    if connection is None:
        raise _KafkaNotFound(f"VPC connection {arn} does not exist.")
    return json.dumps(connection)


def vpc_connection_exists(account_id: str, region: str, arn: str) -> bool:
    return arn in _vpc_connections(_kafka_models.kafka_backends[account_id][region])


def set_cluster_state(account_id: str, region: str, arn: str, state: str) -> None:
    """Set what MSK alone decides: a cluster's State (MAINTENANCE, REBOOTING_BROKER, ...)."""
    if state not in CLUSTER_STATES:
        raise ValueError(f"{state!r} is not an MSK cluster state")
    _get_cluster(_kafka_models.kafka_backends[account_id][region], arn).state = state


def set_vpc_connection_state(account_id: str, region: str, arn: str, state: str) -> None:
    """Set what MSK alone decides: a managed VPC connection's State."""
    if state not in VPC_CONNECTION_STATES:
        raise ValueError(f"{state!r} is not a VPC connection state")
    store = _vpc_connections(_kafka_models.kafka_backends[account_id][region])
    if arn not in store:
        raise LookupError(f"no VPC connection {arn}")
    store[arn]["state"] = state


def _patch_kafka() -> None:
    backend_cls = _kafka_models.KafkaBackend
    response_cls = _kafka_responses.KafkaResponse
    from moto.kafka import urls as _kafka_urls

    _kafka_urls.url_paths.setdefault("{0}/v1/vpc-connection$", response_cls.dispatch)
    _kafka_urls.url_paths.setdefault("{0}/v1/vpc-connection/(?P<arn>.+)$", response_cls.dispatch)
    _replace(response_cls, "describe_cluster_v2", _respond_describe_cluster_v2)
    _replace(response_cls, "create_vpc_connection", _respond_create_vpc_connection)
    _replace(response_cls, "describe_vpc_connection", _respond_describe_vpc_connection)
    _replace(_kafka_models.FakeKafkaCluster, "_generate_arn", _cluster_arn)
    _replace(backend_cls, "create_cluster_v2", _create_cluster_v2)
    _replace(backend_cls, "create_cluster", _create_cluster)
    _replace(response_cls, "get_bootstrap_brokers", _respond_get_bootstrap_brokers)
    _replace(response_cls, "batch_associate_scram_secret", _respond_batch_associate_scram)
    _replace(response_cls, "batch_disassociate_scram_secret", _respond_batch_disassociate_scram)
    _replace(response_cls, "list_scram_secrets", _respond_list_scram_secrets)


# --- EC2 VPC endpoints ---


class _IdempotentParameterMismatch(EC2ClientError):
    def __init__(self, token: str) -> None:
        super().__init__(
            "IdempotentParameterMismatch",
            f"The client token {token} has already been used with different parameters.",
        )


def _endpoint_fingerprint(
    vpc_id: str,
    service_name: str,
    endpoint_type: str | None,
    policy_document: str | None,
    route_table_ids: list[str] | None,
    subnet_ids: list[str] | None,
    security_group_ids: list[str] | None,
    private_dns_enabled: bool | None,
) -> tuple[Any, ...]:
    policy = json.loads(policy_document) if policy_document else None
    return (
        vpc_id,
        service_name,
        (endpoint_type or "Gateway").lower(),
        json.dumps(policy, sort_keys=True),
        tuple(sorted(route_table_ids or [])),
        tuple(sorted(subnet_ids or [])),
        tuple(sorted(security_group_ids or [])),
        private_dns_enabled,
    )


def _create_vpc_endpoint(self: Any, vpc_id: str, service_name: str, *args: Any, **kwargs: Any) -> Any:
    """CreateVpcEndpoint with ClientToken idempotency, and a new endpoint `pending` at first.

    "If you retry an API request with the same client token and the same parameters after it has
    completed successfully, the result of the original request is returned" and a token "is valid for at
    least 24 hours after the termination" of what it made
    (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html): so a token reused after its
    endpoint was deleted answers with that deleted endpoint, never a new one.

    An interface endpoint goes through `pending` before it is `available` (the interface endpoint
    lifecycle, https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html): it
    stays `pending` for ``endpoint_pending_reads`` DescribeVpcEndpoints reads.
    """
    names = ("endpoint_type", "policy_document", "route_table_ids", "subnet_ids")
    params: dict[str, Any] = dict(zip(names, args, strict=False))
    params.update(kwargs)
    _check_endpoint_policy_size(params.get("policy_document"))
    token = params.get("client_token")
    original: Callable[..., Any] = _original(_ec2_vpcs.VPCBackend, "create_vpc_endpoint")
    if not token:
        _refuse_endpoint(self, vpc_id, service_name, params)
        return _pending(original(self, vpc_id, service_name, **params))
    fingerprint = _endpoint_fingerprint(
        vpc_id,
        service_name,
        params.get("endpoint_type"),
        params.get("policy_document"),
        params.get("route_table_ids"),
        params.get("subnet_ids"),
        params.get("security_group_ids"),
        params.get("private_dns_enabled"),
    )
    for endpoint in self.vpc_end_points.values():
        if endpoint.client_token == token:
            if getattr(endpoint, "_remediate_fingerprint", None) != fingerprint:
                raise _IdempotentParameterMismatch(token)
            return endpoint
    _refuse_endpoint(self, vpc_id, service_name, params)
    endpoint = _pending(original(self, vpc_id, service_name, **params))
    endpoint._remediate_fingerprint = fingerprint
    return endpoint


def _pending(endpoint: Any) -> Any:
    if str(endpoint.vpc_endpoint_type or "Gateway").lower() == "interface":
        endpoint.state = "pending"
        endpoint._remediate_pending_reads = _endpoint_pending_reads.get()
    return endpoint


def _describe_vpc_endpoints(self: Any, *args: Any, **kwargs: Any) -> Any:
    """DescribeVpcEndpoints; each read that lists a pending endpoint brings it closer to `available`."""
    found = _original(_ec2_vpcs.VPCBackend, "describe_vpc_endpoints")(self, *args, **kwargs)
    for endpoint in found:
        if endpoint.state != "pending":
            continue
        left = getattr(endpoint, "_remediate_pending_reads", 0)
        if left <= 0:
            endpoint.state = "available"
        else:
            endpoint._remediate_pending_reads = left - 1
    return found


class _DependencyViolation(EC2ClientError):
    def __init__(self, group_id: str) -> None:
        super().__init__("DependencyViolation", f"resource {group_id} has a dependent object")


def _delete_security_group(self: Any, vpc_id: str | None, group_id: str) -> Any:
    """DeleteSecurityGroup refuses a group in use: "If you attempt to delete a security group that is
    associated with an instance or network interface, is referenced by another security group in the same
    VPC, or has a VPC association, the operation fails with DependencyViolation"
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html). moto deletes it
    anyway; here a live VPC endpoint's network interfaces, any other network interface, and a rule of
    another group of the VPC naming it all keep it."""
    for endpoint in self.vpc_end_points.values():
        if endpoint.state != "deleted" and group_id in (endpoint.security_group_ids or []):
            raise _DependencyViolation(group_id)
    for eni in getattr(self, "enis", {}).values():
        if any(getattr(g, "id", g) == group_id for g in getattr(eni, "_group_set", [])):
            raise _DependencyViolation(group_id)
    group = self.groups.get(vpc_id or "", {}).get(group_id)
    for other in self.groups.get(group.vpc_id if group else vpc_id or "", {}).values():
        if other.id == group_id:
            continue
        for rule in [*other.ingress_rules, *other.egress_rules]:
            if (rule.source_group or {}).get("GroupId") == group_id:
                raise _DependencyViolation(group_id)
    return _original(_ec2_sg.SecurityGroupBackend, "_delete_security_group")(self, vpc_id, group_id)


# What AWS refuses in CreateVpcEndpoint before it makes anything. Each refusal below is AWS's own,
# with its error code and message:
#
# * "Interface and Gateway Load Balancer endpoints per VPC": 50 by default ("Amazon VPC quotas",
#   https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html); over it, the EC2 error
#   code VpcEndpointLimitExceeded ("You've reached the limit on the number of VPC endpoints that you can
#   create in the AWS Region", EC2 API reference, "Error codes",
#   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
# * A subnet whose Availability Zone the service is not offered in (DescribeVpcEndpointServices
#   `AvailabilityZones`): InvalidParameter "The VPC endpoint service NAME does not support the
#   availability zone of the subnet: SUBNET." (AWS's answer as recorded in
#   github.com/terraform-aws-modules/terraform-aws-vpc issue 462 and aws/aws-cdk issue 4912; no AWS page
#   quotes it).
# * A subnet without a free address for the endpoint's network interface: InsufficientFreeAddressesInSubnet
#   ("The specified subnet does not contain enough free private IP addresses to fulfill your request",
#   same Error codes page).
# * Private DNS when a private hosted zone for the service's name is already associated with the VPC (a
#   centralised endpoint) or another private-DNS endpoint of the service holds it: InvalidParameter
#   "private-dns-enabled cannot be set because there is already a conflicting DNS domain for NAME in the
#   VPC VPC" (AWS's answer as recorded in aws/aws-cdk issues; no AWS page quotes it). The private hosted
#   zone holds "the default public DNS name for the service for the Region (for example,
#   kinesis.us-east-1.amazonaws.com)" (EC2 API reference, CreateVpcEndpoint, PrivateDnsEnabled).

_INTERFACE_ENDPOINTS_PER_VPC: Final = 50
_LIVE_ENDPOINT_STATES: Final = frozenset({"pendingacceptance", "pending", "available"})
_SERVICE_ZONES_ATTR: Final = "_remediate_service_zones"


_GATEWAY_ENDPOINTS_PER_REGION: Final = 20
"""issue 24 (N15): AWS PrivateLink quotas, "Gateway VPC endpoints per Region: 20" (quoted by the audit)."""


class _VpcEndpointLimitExceeded(EC2ClientError):
    def __init__(self) -> None:
        super().__init__(
            "VpcEndpointLimitExceeded",
            "You've reached the limit on the number of VPC endpoints that you can create in the AWS Region.",
        )


class _InsufficientFreeAddresses(EC2ClientError):
    def __init__(self) -> None:
        super().__init__(
            "InsufficientFreeAddressesInSubnet",
            "The specified subnet does not contain enough free private IP addresses to fulfill your request.",
        )


class _InvalidParameter(EC2ClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidParameter", message)


def _service_zones(backend: Any) -> dict[str, list[str]]:
    zones: dict[str, list[str]] | None = getattr(backend, _SERVICE_ZONES_ATTR, None)
    if zones is None:
        zones = {}
        setattr(backend, _SERVICE_ZONES_ATTR, zones)
    return zones


def set_endpoint_service_zones(service_name: str, zones: list[str], *, account_id: str, region: str) -> None:
    """Offer an endpoint service in these Availability Zones only, as AWS decides per service and zone;
    kept on the EC2 backend, so a sandbox reset forgets it."""
    _service_zones(_ec2_models.ec2_backends[account_id][region])[service_name] = list(zones)


def _endpoint_service(backend: Any, service_name: str) -> dict[str, Any] | None:
    services = _ec2_vpcs.VPCBackend._collect_default_endpoint_services(
        backend.account_id, backend.region_name
    )
    found: dict[str, Any] | None = next((dict(s) for s in services if s["ServiceName"] == service_name), None)
    override = _service_zones(backend).get(service_name)
    if found is not None and override is not None:
        found["AvailabilityZones"] = list(override)
    return found


def _describe_vpc_endpoint_services(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """moto's answer, with the Availability Zones this sandbox restricted a service to."""
    result: dict[str, Any] = _original(_ec2_vpcs.VPCBackend, "describe_vpc_endpoint_services")(
        self, *args, **kwargs
    )
    overrides = _service_zones(self)
    result["servicesDetails"] = [
        {**s, "AvailabilityZones": list(overrides[s["ServiceName"]])} if s["ServiceName"] in overrides else s
        for s in result["servicesDetails"]
    ]
    return result


def _private_dns_holder(backend: Any, vpc_id: str, service_name: str, dns_name: str) -> bool:
    """Whether the VPC's resolver already has the name: a private hosted zone for it associated with the
    VPC, or a live private-DNS endpoint of the same service in the VPC."""
    # issue 24 (S6): a zone of any account associated with the VPC (a hub's shared zone) holds the name.
    for _, zone in shared_zones.associated(vpc_id):
        if str(zone.name).rstrip(".").lower() == dns_name:
            return True
    return any(
        e.vpc_id == vpc_id
        and e.service_name == service_name
        and getattr(e, "private_dns_enabled", False)
        and str(e.state).lower() in _LIVE_ENDPOINT_STATES
        for e in backend.vpc_end_points.values()
    )


_PARTITION: Final = "aws"


def _refuse_endpoint(backend: Any, vpc_id: str, service_name: str, params: dict[str, Any]) -> None:
    """Raise what AWS answers to a CreateVpcEndpoint it refuses (see the list above)."""
    kind = str(params.get("endpoint_type") or "Gateway").lower()
    if kind == "gateway":
        # issue 24 (N15): "Gateway VPC endpoints per Region: 20" (AWS PrivateLink quotas), the Region's count.
        gateways = [
            e
            for e in backend.vpc_end_points.values()
            if str(e.vpc_endpoint_type or "Gateway").lower() == "gateway"
            and str(e.state).lower() in _LIVE_ENDPOINT_STATES
        ]
        if len(gateways) >= _GATEWAY_ENDPOINTS_PER_REGION:
            raise _VpcEndpointLimitExceeded()
    if kind not in ("interface", "gatewayloadbalancer"):
        return
    live = [
        e
        for e in backend.vpc_end_points.values()
        if e.vpc_id == vpc_id
        and str(e.vpc_endpoint_type).lower() in ("interface", "gatewayloadbalancer")
        and str(e.state).lower() in _LIVE_ENDPOINT_STATES
    ]
    if len(live) >= _INTERFACE_ENDPOINTS_PER_VPC:
        raise _VpcEndpointLimitExceeded()
    service = _endpoint_service(backend, service_name)
    for subnet_id in params.get("subnet_ids") or []:
        subnet = backend.get_subnet(subnet_id)
        if service is not None and subnet.availability_zone not in service.get("AvailabilityZones", []):
            raise _InvalidParameter(
                f"The VPC endpoint service {service_name} does not support the availability zone of the "
                f"subnet: {subnet_id}."
            )
        if subnet.available_ip_address_count < 1:
            raise _InsufficientFreeAddresses()
    if params.get("private_dns_enabled") and kind == "interface":
        _refuse_private_dns_without_vpc_dns(backend, vpc_id)
    dns_name = str((service or {}).get("PrivateDnsName") or "").rstrip(".").lower()
    if (
        params.get("private_dns_enabled")
        and dns_name
        and _private_dns_holder(backend, vpc_id, service_name, dns_name)
    ):
        raise _InvalidParameter(
            f"private-dns-enabled cannot be set because there is already a conflicting DNS domain for "
            f"{dns_name} in the VPC {vpc_id}"
        )


# issue 24 (S1): "To use a private hosted zone, you must set the following VPC attributes to true:
# enableDnsHostnames and enableDnsSupport. Use ModifyVpcAttribute to set the VPC attributes." (EC2 API
# reference, CreateVpcEndpoint, PrivateDnsEnabled). AWS refuses the create with InvalidParameter; the
# message below follows AWS's answer as commonly reported, no AWS page quotes it. Only an explicit
# PrivateDnsEnabled=true is refused here (the API's default for AWS services is not modelled).


def _vpc_flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _refuse_private_dns_without_vpc_dns(backend: Any, vpc_id: str) -> None:
    vpc = backend.get_vpc(vpc_id)
    if not (_vpc_flag(vpc.enable_dns_support) and _vpc_flag(vpc.enable_dns_hostnames)):
        raise _InvalidParameter(
            "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes "
            f"set to true for {vpc_id}"
        )


def _respond_modify_vpc_endpoint(self: Any) -> Any:
    _check_endpoint_policy_size(self._get_param("PolicyDocument"))
    _refuse_reset_policy(self)
    _refuse_other_types(self)  # issue 24 (S3)
    result = _original(_ec2_vpc_responses.VPCs, "modify_vpc_endpoint")(self)
    endpoint = self.ec2_backend.describe_vpc_endpoints(vpc_end_point_ids=[self._get_param("VpcEndpointId")])[
        0
    ]
    private_dns = self._get_param("PrivateDnsEnabled")
    if private_dns is not None:
        endpoint.private_dns_enabled = self._get_bool_param("PrivateDnsEnabled")
    if self._get_bool_param("ResetPolicy", if_none=False):
        endpoint.policy_document = json.dumps(_ec2_vpcs.VPCEndPoint.DEFAULT_POLICY)
    return result


def _refuse_reset_policy(response: Any) -> None:
    """issue 24 (S2): "ResetPolicy: (Gateway endpoint) Specify true to reset the policy document to the
    default policy" (EC2 API reference, ModifyVpcEndpoint). AWS's answer for another endpoint type is not
    published; the sandbox refuses it with InvalidParameter so nothing can rely on it."""
    if not response._get_bool_param("ResetPolicy", if_none=False):
        return
    endpoint_id = response._get_param("VpcEndpointId")
    endpoint = response.ec2_backend.describe_vpc_endpoints(vpc_end_point_ids=[endpoint_id])[0]
    if str(endpoint.vpc_endpoint_type or "Gateway").lower() != "gateway":
        raise _InvalidParameter(f"ResetPolicy is supported for gateway endpoints only: {endpoint_id}")


_ENDPOINT_TYPES: dict[str, tuple[str, ...]] = {
    "AddRouteTableIds": ("gateway",),
    "RemoveRouteTableIds": ("gateway",),
    "AddSubnetIds": ("interface", "gatewayloadbalancer"),
    "RemoveSubnetIds": ("interface",),
    "AddSecurityGroupIds": ("interface",),
    "RemoveSecurityGroupIds": ("interface",),
    "PrivateDnsEnabled": ("interface",),
}
"""issue 24 (S3): the endpoint types each ModifyVpcEndpoint parameter is for, as the EC2 API reference
(ModifyVpcEndpoint, botocore model) marks them: "(Gateway endpoint) The IDs of the route tables to
associate", "(Interface and Gateway Load Balancer endpoints) The IDs of the subnets", "(Interface endpoint)
The IDs of the security groups", "(Interface endpoint) Indicates whether a private hosted zone is associated
with the VPC". ResetPolicy is `_refuse_reset_policy`'s. AWS's error for another type is not published: the
sandbox answers InvalidParameter, so nothing can rely on the call working."""


def _refuse_other_types(response: Any) -> None:
    endpoint_id = response._get_param("VpcEndpointId")
    endpoint = response.ec2_backend.describe_vpc_endpoints(vpc_end_point_ids=[endpoint_id])[0]
    kind = str(endpoint.vpc_endpoint_type or "Gateway").lower()
    for parameter, kinds in _ENDPOINT_TYPES.items():
        given = response._get_param(parameter)
        if given not in (None, [], "") and kind not in kinds:
            raise _InvalidParameter(f"{parameter} is not supported for a {kind} endpoint: {endpoint_id}")


# --- EC2 security group rule quota ---
#
# "Amazon VPC quotas", Security groups (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html):
# inbound or outbound rules per security group, 60 by default, "enforced separately for inbound and outbound
# rules" and "separately for IPv4 rules and IPv6 rules". "Security group rules", Security group size: a rule
# that references a CIDR block or another security group counts as one rule, one that references a
# customer-managed prefix list counts as the list's maximum size. The page ties no IP version to a group or
# prefix-list reference, so here they count in both. Over the quota AWS answers
# RulesPerSecurityGroupLimitExceeded. moto counts inbound and outbound apart but IPv4 and IPv6 together.

_RULES_PER_GROUP: Final = 60


def _rule_weight(backend: Any, prefix_list_id: str | None) -> int:
    if not prefix_list_id:
        return 1
    found = getattr(backend, "managed_prefix_lists", {}).get(prefix_list_id)
    size = getattr(found, "max_entries", None) if found is not None else None
    return int(size) if size else 1


def _rule_counts(backend: Any, rules: list[Any]) -> dict[int, int]:
    counts = {4: 0, 6: 0}
    for rule in rules:
        ip_range = rule.ip_range or {}
        if ip_range.get("CidrIp"):
            counts[4] += 1
        elif ip_range.get("CidrIpv6"):
            counts[6] += 1
        else:
            weight = _rule_weight(backend, rule.prefix_list_id)
            counts[4] += weight
            counts[6] += weight
    return counts


def _verify_rule_count(
    self: Any,
    group: Any,
    current_rule_nb: int,
    ip_ranges: list[Any],
    source_groups: list[dict[str, str]] | None = None,
    egress: bool = False,
) -> None:
    """AWS's count of the group's rules in one direction, per IP version, with the new ones added."""
    counts = _rule_counts(self, group.egress_rules if egress else group.ingress_rules)
    for ip_range in ip_ranges or []:
        cidr = ip_range.get("CidrIpv6") if isinstance(ip_range, dict) else None
        counts[6 if cidr else 4] += 1
    for _ in source_groups or []:
        counts[4] += 1
        counts[6] += 1
    if max(counts.values()) > _RULES_PER_GROUP:
        raise _ec2_exceptions.RulesPerSecurityGroupLimitExceededError()


# "Characters per VPC endpoint policy: 20,480 ... The maximum size of a VPC endpoint policy, including white
# space" (AWS PrivateLink guide, "AWS PrivateLink quotas",
# https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-limits-endpoints.html): the text as sent is counted.
# Not confirmed: the error AWS returns. InvalidPolicyDocument is the EC2 error code for a policy document
# that is not valid (EC2 API reference, error codes); the message wording is the sandbox's own.
VPC_ENDPOINT_POLICY_MAX_CHARS: Final = 20_480


class _InvalidPolicyDocument(EC2ClientError):
    def __init__(self, size: int) -> None:
        super().__init__(
            "InvalidPolicyDocument",
            f"The policy document is {size} characters long; a VPC endpoint policy may have at most "
            f"{VPC_ENDPOINT_POLICY_MAX_CHARS} characters, including white space.",
        )


def _check_endpoint_policy_size(policy_document: str | None) -> None:
    if policy_document and len(policy_document) > VPC_ENDPOINT_POLICY_MAX_CHARS:
        raise _InvalidPolicyDocument(len(policy_document))


def _patch_ec2() -> None:
    _replace(_ec2_vpcs.VPCBackend, "create_vpc_endpoint", _create_vpc_endpoint)
    _replace(_ec2_vpcs.VPCBackend, "describe_vpc_endpoints", _describe_vpc_endpoints)
    _replace(_ec2_sg.SecurityGroupBackend, "_delete_security_group", _delete_security_group)
    _replace(_ec2_vpcs.VPCBackend, "describe_vpc_endpoint_services", _describe_vpc_endpoint_services)
    _replace(_ec2_sg.SecurityGroupBackend, "_verify_group_will_respect_rule_count_limit", _verify_rule_count)
    _replace(_ec2_vpc_responses.VPCs, "modify_vpc_endpoint", _respond_modify_vpc_endpoint)


def apply_patches() -> None:
    """Apply every gap fill, once per process; later calls do nothing."""
    with _PATCH_LOCK:
        if _ORIGINALS:
            return
        _patch_lambda()
        _patch_kafka()
        _patch_ec2()
        key_policies.patch(_replace)
        runtime.patch(_replace)  # issue 22: Python functions run for real
        speed.patch(_replace)  # what no answer depends on, left out (moto's AMIs, per-request lookups)
        destination_keys.patch(_replace)  # issue 24 (S5)
        regional_nat.patch(_replace)  # issue 24 (S4)
        cross_account_secrets.patch(_replace)  # issue 24 (N8)
        paging.patch(_chain)  # issue 24 (N16)
        shared_zones.patch(_replace)  # issue 24 (S6)
        automation.patch(_replace)  # issue 23 (N23)
