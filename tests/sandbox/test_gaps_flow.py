"""Issue 25: the sandbox validates a Kafka mapping's error handling controls as the Lambda developer guide,
"Configuring error handling controls for Kafka event sources", states them (remediate/sandbox/flow.py).

moto stores any value on any mapping; each test below fails against plain moto.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from remediate.sandbox import Sandbox

from .helpers import make_msk_esm

PROVISIONED = {"ProvisionedPollerConfig": {"MinimumPollers": 1, "MaximumPollers": 2}}


def _refused(call: Any) -> str:
    with pytest.raises(ClientError) as error:
        call()
    assert error.value.response["Error"]["Code"] == "InvalidParameterValueException"
    return str(error.value.response["Error"]["Message"])


def test_retry_settings_need_provisioned_mode_at_update(sb: Sandbox) -> None:
    sb.esm_transition_reads = 0
    uuid, _ = make_msk_esm(sb)
    lam = sb.client("lambda")
    for setting in (
        {"MaximumRetryAttempts": 10},
        {"MaximumRecordAgeInSeconds": 3600},
        {"BisectBatchOnFunctionError": True},
        {"FunctionResponseTypes": ["ReportBatchItemFailures"]},
    ):
        message = _refused(lambda s=setting: lam.update_event_source_mapping(UUID=uuid, **s))
        assert "provisioned mode" in message
    # Lambda's defaults are always accepted; with a ProvisionedPollerConfig in the same update, so is a bound.
    lam.update_event_source_mapping(UUID=uuid, MaximumRetryAttempts=-1)
    lam.update_event_source_mapping(UUID=uuid, MaximumRetryAttempts=10, **PROVISIONED)
    assert lam.get_event_source_mapping(UUID=uuid)["MaximumRetryAttempts"] == 10


def test_retry_settings_need_provisioned_mode_at_create(sb: Sandbox) -> None:
    message = _refused(lambda: make_msk_esm(sb, BisectBatchOnFunctionError=True))
    assert "BisectBatchOnFunctionError" in message


def test_retry_ranges(sb: Sandbox) -> None:
    sb.esm_transition_reads = 0
    uuid, _ = make_msk_esm(sb, **PROVISIONED)
    lam = sb.client("lambda")
    assert "0 and 10000" in _refused(
        lambda: lam.update_event_source_mapping(UUID=uuid, MaximumRetryAttempts=10_001)
    )
    assert "60 and 604800" in _refused(
        lambda: lam.update_event_source_mapping(UUID=uuid, MaximumRecordAgeInSeconds=59)
    )
    lam.update_event_source_mapping(UUID=uuid, MaximumRetryAttempts=10_000, MaximumRecordAgeInSeconds=604_800)


def test_filter_patterns_must_be_json_objects_of_at_most_4096_characters(sb: Sandbox) -> None:
    sb.esm_transition_reads = 0
    uuid, _ = make_msk_esm(sb)
    lam = sb.client("lambda")
    for pattern in ("not json", '["value"]', '{"value": ["' + "x" * 4096 + '"]}'):
        message = _refused(
            lambda p=pattern: lam.update_event_source_mapping(
                UUID=uuid, FilterCriteria={"Filters": [{"Pattern": p}]}
            )
        )
        assert message == "Invalid filter pattern definition."
    good = '{"value": {"device_ID": [{"prefix": "AB"}]}}'
    lam.update_event_source_mapping(UUID=uuid, FilterCriteria={"Filters": [{"Pattern": good}]})
    assert lam.get_event_source_mapping(UUID=uuid)["FilterCriteria"]["Filters"] == [{"Pattern": good}]


def test_metrics_config_takes_only_the_documented_metrics(sb: Sandbox) -> None:
    """issue 25, item 8: EventSourceMappingMetricsConfig.Metrics is at most 3 of EventCount, ErrorCount,
    KafkaMetrics (Lambda API reference); moto stores anything."""
    sb.esm_transition_reads = 0
    uuid, _ = make_msk_esm(sb)
    lam = sb.client("lambda")
    for bad in (["Bogus"], ["EventCount", "ErrorCount", "KafkaMetrics", "EventCount"]):
        assert "MetricsConfig" in _refused(
            lambda b=bad: lam.update_event_source_mapping(UUID=uuid, MetricsConfig={"Metrics": b})
        )
    wanted = ["EventCount", "ErrorCount", "KafkaMetrics"]
    lam.update_event_source_mapping(UUID=uuid, MetricsConfig={"Metrics": wanted})
    assert lam.get_event_source_mapping(UUID=uuid)["MetricsConfig"] == {"Metrics": wanted}
