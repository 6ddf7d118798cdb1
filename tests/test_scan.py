"""`remediate scan` end to end: the real CLI against the sandbox, on a small fleet.

The fleet: a healthy MSK mapping, one whose brokers time out, one that is disabled, and an SQS mapping
that the scan must skip. Each test states the contract it pins: the table, the JSON document, the exit
codes, the --function filter, the listing as the only per-mapping read, throttling absorbed, and --fix
behind one approval.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from remediate.sandbox import FaultRule, Sandbox, Scenario, build_scenario
from tests.conftest import CliRunner


@dataclass(frozen=True)
class Fleet:
    healthy: Scenario
    timeout: Scenario
    disabled: Scenario
    sqs: Scenario

    @property
    def expected(self) -> dict[str, list[str]]:
        return {
            self.healthy.esm_uuid: [],
            self.timeout.esm_uuid: ["BROKER_TIMEOUT"],
            self.disabled.esm_uuid: ["ESM_DISABLED"],
        }


@pytest.fixture
def fleet(sandbox: Sandbox) -> Fleet:
    built = Fleet(
        healthy=build_scenario(sandbox, "healthy-msk"),
        timeout=build_scenario(sandbox, "broker-timeout"),
        disabled=build_scenario(sandbox, "disabled"),
        sqs=build_scenario(sandbox, "sqs-esm"),
    )
    sandbox.clear_calls()
    return built


def _codes(doc: dict[str, object]) -> dict[str, list[str]]:
    mappings = doc["mappings"]
    assert isinstance(mappings, list)
    return {m["esm_uuid"]: [f["code"] for f in m["findings"]] for m in mappings}


def test_table_lists_kafka_mappings_and_exits_2(fleet: Fleet, sandbox: Sandbox, cli: CliRunner) -> None:
    result = cli("scan")
    assert result.returncode == 2, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ESM", "FUNCTION", "SOURCE", "STATE", "FINDINGS"]
    rows = {line.split()[0]: line.split() for line in lines[1:] if line and "scanned:" not in line}
    assert set(rows) == set(fleet.expected)  # the SQS mapping is skipped
    assert rows[fleet.healthy.esm_uuid][-2:] == ["Enabled", "-"]
    assert rows[fleet.timeout.esm_uuid][-1] == "BROKER_TIMEOUT"
    assert rows[fleet.disabled.esm_uuid][-2:] == ["Disabled", "ESM_DISABLED"]
    assert rows[fleet.timeout.esm_uuid][1] == fleet.timeout.function_name
    assert "3 mapping(s) scanned: 1 healthy, 2 with findings, 0 could not be checked." in result.stdout
    # The listing seeds observation: no mapping is read again, and nothing is written.
    operations = {op for _, op in sandbox.calls}
    assert "GetEventSourceMapping" not in operations
    assert not {op for op in operations if op.startswith(("Create", "Update", "Put", "Delete", "Authorize"))}


def test_json_document(fleet: Fleet, cli: CliRunner) -> None:
    result = cli("scan", "--output", "json")
    assert result.returncode == 2, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "remediate/scan@1"
    assert _codes(doc) == fleet.expected
    for mapping in doc["mappings"]:
        assert {"esm_uuid", "state", "findings"} <= set(mapping)
        assert mapping["error"] is None
        for finding in mapping["findings"]:
            assert {"code", "summary", "evidence", "playbook"} <= set(finding)
    states = {m["esm_uuid"]: m["state"] for m in doc["mappings"]}
    assert states[fleet.disabled.esm_uuid] == "Disabled"


def test_function_filter_and_exit_0_when_healthy(fleet: Fleet, cli: CliRunner) -> None:
    result = cli("scan", "--function", fleet.healthy.function_name, "--output", "json")
    assert result.returncode == 0, result.stderr
    assert _codes(json.loads(result.stdout)) == {fleet.healthy.esm_uuid: []}


def test_regions_repeat(fleet: Fleet, cli: CliRunner) -> None:
    result = cli("scan", "--region", "us-east-1", "--region", "eu-west-1", "--output", "json")
    assert result.returncode == 2, result.stderr
    mappings = json.loads(result.stdout)["mappings"]
    assert {m["region"] for m in mappings} == {"us-east-1"}  # the sandbox fleet lives in one region
    assert len(mappings) == 3


def test_throttling_is_absorbed(fleet: Fleet, sandbox: Sandbox, cli: CliRunner) -> None:
    """30% of calls throttled: with 10 attempts a call fails only after ten throttles in a row
    (0.3 ** 10, about 6e-6), so across a scan's few hundred calls the throttling is absorbed. With the
    default 6 attempts (0.3 ** 6, about 7e-4 a call) a scan that grew to a few hundred calls failed now
    and then, which is the policy working, not the test's point."""
    rule = sandbox.faults.add(FaultRule(kind="throttle", probability=0.3, seed=7))
    result = cli("scan", "--output", "json", env={"REMEDIATE_RETRY_ATTEMPTS": "10"})
    assert sandbox.faults.fired(rule) > 0
    assert result.returncode == 2, result.stdout
    assert _codes(json.loads(result.stdout)) == fleet.expected


def test_a_mapping_that_cannot_be_read_exits_1(fleet: Fleet, sandbox: Sandbox, cli: CliRunner) -> None:
    sandbox.faults.add(FaultRule(service="kafka", operation="DescribeClusterV2", kind="status", status=500))
    result = cli("scan", "--output", "json", env={"REMEDIATE_RETRY_ATTEMPTS": "2"})
    assert result.returncode == 1, result.stderr
    errors = {m["esm_uuid"]: m["error"] for m in json.loads(result.stdout)["mappings"]}
    assert all(errors.values())  # every mapping here is on a cluster; each says why it was not checked
    assert "describe_cluster_v2" in str(errors[fleet.healthy.esm_uuid])


def _batch_size(sandbox: Sandbox, uuid: str) -> int:
    return int(sandbox.client("lambda").get_event_source_mapping(UUID=uuid)["BatchSize"])


def test_fix_without_terminal_changes_nothing(fleet: Fleet, sandbox: Sandbox, cli: CliRunner) -> None:
    result = cli("scan", "--fix")
    assert result.returncode == 3, result.stderr
    assert "nothing was changed" in result.stderr
    assert f"# ESM {fleet.timeout.esm_uuid}" in result.stdout  # every plan was shown before asking
    # A person disabled it: nothing to apply, only the manual step saying so (issue 16: listed, not silent).
    disabled = f"# ESM {fleet.disabled.esm_uuid} ({fleet.disabled.function_arn}): manual steps only"
    assert disabled in result.stdout
    assert _batch_size(sandbox, fleet.timeout.esm_uuid) == 500
    lam = sandbox.client("lambda")
    assert lam.get_event_source_mapping(UUID=fleet.disabled.esm_uuid)["State"] == "Disabled"


def test_fix_with_auto_approve(fleet: Fleet, sandbox: Sandbox, cli: CliRunner) -> None:
    result = cli("scan", "--fix", "--auto-approve", "--output", "json")
    assert result.returncode == 2, result.stderr  # the mapping a person disabled is left as it is
    doc = json.loads(result.stdout)
    fixes = {f["esm_uuid"]: f for f in doc["fixes"]}
    assert set(fixes) == {fleet.timeout.esm_uuid}
    assert all(f["state"] == "done" and f["applied"] and f["error"] is None for f in fixes.values())
    assert _batch_size(sandbox, fleet.timeout.esm_uuid) == 1
    assert _batch_size(sandbox, fleet.healthy.esm_uuid) == 100
    lam = sandbox.client("lambda")
    assert lam.get_event_source_mapping(UUID=fleet.disabled.esm_uuid)["State"] == "Disabled"


def test_item_14_fix_enables_a_user_disabled_mapping_only_when_asked(
    fleet: Fleet, sandbox: Sandbox, cli: CliRunner
) -> None:
    """A mapping whose StateTransitionReason says a person disabled it ("USER_INITIATED" / "User action")
    stays disabled under `scan --fix`; `--enable-user-disabled` enables it."""
    result = cli("scan", "--fix", "--auto-approve", "--enable-user-disabled", "--output", "json")
    assert result.returncode == 0, result.stderr
    fixes = {f["esm_uuid"]: f for f in json.loads(result.stdout)["fixes"]}
    assert set(fixes) == {fleet.timeout.esm_uuid, fleet.disabled.esm_uuid}
    assert all(f["state"] == "done" and f["error"] is None for f in fixes.values())
    lam = sandbox.client("lambda")
    assert lam.get_event_source_mapping(UUID=fleet.disabled.esm_uuid)["State"] == "Enabled"
