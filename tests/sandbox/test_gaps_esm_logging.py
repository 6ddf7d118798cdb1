"""Issue 21 (item 3): the sandbox keeps a Kafka mapping's LoggingConfig as Lambda does
(remediate/sandbox/esm_logging.py; Lambda API reference, EventSourceMappingLoggingConfig; Lambda developer
guide, "Kafka event source mapping logging": provisioned mode only).

moto drops LoggingConfig; each test below fails against plain moto.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from remediate.sandbox import Sandbox

from .helpers import make_msk_esm

PROVISIONED = {"ProvisionedPollerConfig": {"MinimumPollers": 1, "MaximumPollers": 2}}


def test_logging_config_is_kept_and_returned(sb: Sandbox) -> None:
    sb.esm_transition_reads = 0
    uuid, _ = make_msk_esm(sb, LoggingConfig={"SystemLogLevel": "INFO"}, **PROVISIONED)
    lam = sb.client("lambda")
    assert lam.get_event_source_mapping(UUID=uuid)["LoggingConfig"] == {"SystemLogLevel": "INFO"}
    lam.update_event_source_mapping(UUID=uuid, LoggingConfig={"SystemLogLevel": "WARN"})
    assert lam.get_event_source_mapping(UUID=uuid)["LoggingConfig"] == {"SystemLogLevel": "WARN"}


def test_logging_config_needs_provisioned_mode(sb: Sandbox) -> None:
    sb.esm_transition_reads = 0
    uuid, _ = make_msk_esm(sb)
    lam = sb.client("lambda")
    with pytest.raises(ClientError) as error:
        lam.update_event_source_mapping(UUID=uuid, LoggingConfig={"SystemLogLevel": "WARN"})
    assert error.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "provisioned mode" in error.value.response["Error"]["Message"]
    assert "LoggingConfig" not in lam.get_event_source_mapping(UUID=uuid)


# issue 21 (item 3): the rollback of `--fix-with system-logs` sends an empty LoggingConfig (SystemLogLevel is
# "Required: No" in the Lambda API reference, EventSourceMappingLoggingConfig); the sandbox keeps no level.
def test_empty_logging_config_turns_system_logs_off(sb: Sandbox) -> None:
    sb.esm_transition_reads = 0
    uuid, _ = make_msk_esm(sb, LoggingConfig={"SystemLogLevel": "WARN"}, **PROVISIONED)
    lam = sb.client("lambda")
    lam.update_event_source_mapping(UUID=uuid, LoggingConfig={})
    assert not (lam.get_event_source_mapping(UUID=uuid).get("LoggingConfig") or {}).get("SystemLogLevel")
