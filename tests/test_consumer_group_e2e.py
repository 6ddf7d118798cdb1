"""End to end, issue 15 item 3: a consumer group shared with another mapping, through the real CLI."""

from __future__ import annotations

import json

import pytest

from remediate.sandbox import Sandbox
from remediate.sandbox.scenarios import build_scenario
from tests.conftest import CliRunner


@pytest.mark.parametrize("name", ["consumer-group-shared", "consumer-group-shared-self-managed"])
def test_diagnose_finds_the_shared_group(name: str, sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, name)
    out = cli("plan", "--esm", scn.esm_uuid, "--output", "json")
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert [f["code"] for f in plan["findings"]] == ["CONSUMER_GROUP_SHARED"]
    evidence = plan["findings"][0]["evidence"]
    assert evidence["group_id"] == "orders-consumers"
    assert evidence["configured"] is True
    assert evidence["peers"] == list(scn.peer_uuids)
    assert evidence["topics"] == [scn.topic]
    # No API changes a group id: the plan holds only the recreate steps, with this mapping's values.
    assert plan["changes"] == []
    (step,) = plan["manual_steps"]
    assert f"aws lambda delete-event-source-mapping --uuid {scn.esm_uuid}" in step["text"]
    assert f"{scn.function_name}-{scn.esm_uuid}" in step["text"]


def test_scan_reports_every_mapping_of_the_group_without_listing_again(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    """Fleet-wide: each mapping of the group is reported, and the scan's one region listing is all the
    listing it does (the peers come from it, not from one ListEventSourceMappings per cluster)."""
    scn = build_scenario(sandbox, "consumer-group-shared")
    sandbox.clear_calls()
    out = cli("scan", "--output", "json")
    assert out.returncode == 2, out.stderr
    by_uuid = {m["esm_uuid"]: m for m in json.loads(out.stdout)["mappings"]}
    for uuid in (scn.esm_uuid, *scn.peer_uuids):
        codes = [f["code"] for f in by_uuid[uuid]["findings"]]
        assert codes == ["CONSUMER_GROUP_SHARED"], (uuid, by_uuid[uuid])
    listings = [op for _, op in sandbox.calls if op == "ListEventSourceMappings"]
    assert len(listings) == 1, listings


def test_a_denied_listing_is_could_not_check(sandbox: Sandbox, cli: CliRunner) -> None:
    from remediate.sandbox.faults import FaultRule

    scn = build_scenario(sandbox, "consumer-group-shared")
    denied = FaultRule(service="lambda", operation="ListEventSourceMappings", kind="status", status=403)
    sandbox.faults.add(denied)
    out = cli("diagnose", "--esm", scn.esm_uuid, "--output", "json")
    assert out.returncode == 0, out.stderr  # diagnose exits 0 whatever it finds (docs/contract.md)
    findings = json.loads(out.stdout)["findings"]
    assert [f["code"] for f in findings] == ["COULD_NOT_CHECK"]
    assert findings[0]["evidence"]["what"].startswith("Kafka mappings on ")


def test_the_sandbox_refuses_to_change_a_group_id(sandbox: Sandbox) -> None:
    """Why the fix is a recreate: "After creating a Kafka event source mapping with the consumer group ID
    specified, you cannot update this value" (Lambda developer guide, "Customizable consumer group ID")."""
    scn = build_scenario(sandbox, "consumer-group-shared")
    lam = sandbox.client("lambda")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_event_source_mapping(
            UUID=scn.esm_uuid, AmazonManagedKafkaEventSourceConfig={"ConsumerGroupId": "mine-alone"}
        )
    config = lam.get_event_source_mapping(UUID=scn.esm_uuid)["AmazonManagedKafkaEventSourceConfig"]
    assert config["ConsumerGroupId"] == "orders-consumers"
