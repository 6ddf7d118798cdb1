"""Issue 25 in the sandbox: the error handling controls of Kafka mappings, with Lambda's validation.

moto stores MaximumRetryAttempts, MaximumRecordAgeInSeconds, BisectBatchOnFunctionError and
FunctionResponseTypes on any mapping and checks nothing. For Kafka sources the Lambda developer guide,
"Configuring error handling controls for Kafka event sources" (kafka-retry-configurations.html), states the
ranges (retry attempts 0-10000 or -1, maximum record age 60-604800 seconds or -1) and configures these
controls under provisioned mode ("choose Provisioned mode to configure error handling controls"): the
sandbox refuses a non-default value on a Kafka mapping without a ProvisionedPollerConfig, at create and at
update. The rules are stated here from that page, independently of the engine's `remediate.health`.

FilterCriteria: each Filter's Pattern is at most 4096 characters (Lambda API reference, Filter) and a JSON
object (Lambda developer guide, "Control which events Lambda sends to your function", Filter rule syntax);
Lambda refuses others with "Invalid filter pattern definition." (as users quote the create/update error).

MetricsConfig (issue 25, item 8): Metrics is an array of at most 3 of EventCount, ErrorCount and
KafkaMetrics (Lambda API reference, EventSourceMappingMetricsConfig); other values are refused.

Not confirmed: the wording of each other refusal (the error code is Lambda's
InvalidParameterValueException).
"""

from __future__ import annotations

import json
import threading
from typing import Any, Final

from moto.awslambda import models as _lambda_models
from moto.awslambda.exceptions import InvalidParameterValueException

from remediate.sandbox.patches import KafkaEventSourceMapping, _chain, _is_kafka_spec

__all__ = ["age_esm", "patch"]

RETRY_ATTEMPTS: Final = (0, 10_000)
RECORD_AGE: Final = (60, 604_800)
INFINITE: Final = -1
PATTERN_MAX: Final = 4096
BAD_PATTERN: Final = "Invalid filter pattern definition."
ESM_METRICS: Final = frozenset({"EventCount", "ErrorCount", "KafkaMetrics"})
ESM_METRICS_MAX: Final = 3

_LOCK = threading.Lock()
_PRIOR: dict[str, Any] = {}


def _check_range(spec: dict[str, Any], key: str, low: int, high: int) -> None:
    value = spec.get(key)
    if value is not None and int(value) != INFINITE and not low <= int(value) <= high:
        raise InvalidParameterValueException(f"{key} must be -1 or between {low} and {high}.")


def _error_controls(spec: dict[str, Any]) -> list[str]:
    """The error handling controls `spec` sets to something other than Lambda's default."""
    named = [
        key
        for key in ("MaximumRetryAttempts", "MaximumRecordAgeInSeconds")
        if spec.get(key) is not None and int(spec[key]) != INFINITE
    ]
    if spec.get("BisectBatchOnFunctionError"):
        named.append("BisectBatchOnFunctionError")
    if spec.get("FunctionResponseTypes"):
        named.append("FunctionResponseTypes")
    return named


def _check_filters(spec: dict[str, Any]) -> None:
    for item in (spec.get("FilterCriteria") or {}).get("Filters", []) or []:
        pattern = str(item.get("Pattern", ""))
        if len(pattern) > PATTERN_MAX:
            raise InvalidParameterValueException(BAD_PATTERN)
        try:
            parsed = json.loads(pattern)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise InvalidParameterValueException(BAD_PATTERN)


def _check_metrics(spec: dict[str, Any]) -> None:
    metrics = (spec.get("MetricsConfig") or {}).get("Metrics")
    if metrics is None:
        return
    if len(metrics) > ESM_METRICS_MAX or not set(metrics) <= ESM_METRICS:
        raise InvalidParameterValueException(
            f"MetricsConfig.Metrics must be at most {ESM_METRICS_MAX} of {', '.join(sorted(ESM_METRICS))}."
        )


def _validate(spec: dict[str, Any], provisioned: bool) -> None:
    _check_filters(spec)
    _check_metrics(spec)  # issue 25, item 8
    _check_range(spec, "MaximumRetryAttempts", *RETRY_ATTEMPTS)
    _check_range(spec, "MaximumRecordAgeInSeconds", *RECORD_AGE)
    named = _error_controls(spec)
    if named and not provisioned:
        raise InvalidParameterValueException(
            f"{', '.join(named)} can be set on a Kafka event source mapping only in provisioned mode "
            "(ProvisionedPollerConfig)."
        )


def _create_esm(self: Any, spec: dict[str, Any]) -> Any:
    if _is_kafka_spec(spec):
        _validate(spec, bool(spec.get("ProvisionedPollerConfig")))
    return _PRIOR["create_event_source_mapping"](self, spec)


def _update_esm(self: Any, uuid: str, spec: dict[str, Any]) -> Any:
    esm = self.get_event_source_mapping(uuid)
    if isinstance(esm, KafkaEventSourceMapping):
        _validate(spec, bool(spec.get("ProvisionedPollerConfig") or esm.poller_config))
    return _PRIOR["update_event_source_mapping"](self, uuid, spec)


def patch() -> None:
    """Chain over the earlier patches of create/update (`patches`, `health`), which must run first."""
    with _LOCK:
        if _PRIOR:
            return
        _chain(
            _lambda_models.LambdaBackend,
            _PRIOR,
            {"create_event_source_mapping": _create_esm, "update_event_source_mapping": _update_esm},
        )


def age_esm(account_id: str, region: str, uuid: str, minutes: int) -> None:
    """Make a mapping's LastModified `minutes` old, as for one created or last changed that long ago (AWS sets
    LastModified on every change; a scenario's mapping is otherwise as new as its build)."""
    esm = _lambda_models.lambda_backends[account_id][region].get_event_source_mapping(uuid)
    if esm is None:
        raise ValueError(f"no event source mapping {uuid}")
    esm.last_modified -= minutes * 60
