"""Issue 21 (item 3) in the sandbox: a Kafka mapping's LoggingConfig, as Lambda keeps it.

moto drops `LoggingConfig` from CreateEventSourceMapping and UpdateEventSourceMapping and never returns it.
Lambda API reference, EventSourceMappingLoggingConfig: "(Amazon MSK, and self-managed Apache Kafka only)",
SystemLogLevel one of DEBUG | INFO | WARN. Lambda developer guide, "Kafka event source mapping logging"
(https://docs.aws.amazon.com/lambda/latest/dg/esm-logging.html): "only available for Kafka event source
mappings, and with Provisioned mode". So the sandbox keeps the object on a Kafka mapping, returns it from
Get/Update, and refuses a level outside the three or a mapping without a ProvisionedPollerConfig.

The records themselves are written with CloudWatch Logs' own PutLogEvents (moto has it) into the function's
log group, in the stream the page names: the date and the mapping's UUID (`2020/01/01/UUID`).

Not confirmed: the wording of each refusal (the error code is Lambda's InvalidParameterValueException).
"""

from __future__ import annotations

import threading
from typing import Any, Final

from moto.awslambda import models as _lambda_models
from moto.awslambda.exceptions import InvalidParameterValueException

from remediate.sandbox.patches import KafkaEventSourceMapping, _chain, _is_kafka_spec

__all__ = ["patch"]

LEVELS: Final = ("DEBUG", "INFO", "WARN")

_LOCK = threading.Lock()
_PRIOR: dict[str, Any] = {}


def _validate(spec: dict[str, Any], provisioned: bool) -> None:
    config = spec.get("LoggingConfig")
    if config is None:
        return
    level = (config or {}).get("SystemLogLevel")
    if level is not None and level not in LEVELS:
        raise InvalidParameterValueException(
            f"LoggingConfig.SystemLogLevel must be one of {', '.join(LEVELS)}."
        )
    if level is not None and not provisioned:
        raise InvalidParameterValueException(
            "LoggingConfig can be set on a Kafka event source mapping only in provisioned mode "
            "(ProvisionedPollerConfig)."
        )


def _create_esm(self: Any, spec: dict[str, Any]) -> Any:
    kafka = _is_kafka_spec(spec)
    if kafka:
        _validate(spec, bool(spec.get("ProvisionedPollerConfig")))
    esm = _PRIOR["create_event_source_mapping"](self, spec)
    if kafka and spec.get("LoggingConfig") is not None:
        esm.logging_config = dict(spec["LoggingConfig"])
    return esm


def _update_esm(self: Any, uuid: str, spec: dict[str, Any]) -> Any:
    esm = self.get_event_source_mapping(uuid)
    kafka = isinstance(esm, KafkaEventSourceMapping)
    if kafka:
        _validate(spec, bool(spec.get("ProvisionedPollerConfig") or esm.poller_config))
    updated = _PRIOR["update_event_source_mapping"](self, uuid, spec)
    if kafka and spec.get("LoggingConfig") is not None:
        updated.logging_config = dict(spec["LoggingConfig"])
    return updated


def _configuration(self: Any) -> dict[str, Any]:
    config: dict[str, Any] = _PRIOR["get_configuration"](self)
    logging = getattr(self, "logging_config", None)
    if logging:
        config["LoggingConfig"] = logging
    return config


def patch() -> None:
    """Chain over the earlier patches of create/update (`patches`, `health`, `flow`), which must run first."""
    with _LOCK:
        if _PRIOR:
            return
        _chain(
            _lambda_models.LambdaBackend,
            _PRIOR,
            {"create_event_source_mapping": _create_esm, "update_event_source_mapping": _update_esm},
        )
        _chain(KafkaEventSourceMapping, _PRIOR, {"get_configuration": _configuration})
