"""End to end, issue 25 item 5: a mapping re-created by IaC (new UUID, no ConsumerGroupId) starts a new
consumer group while its predecessor's group, with its offsets, is still on the topic.

MSK publishes consumer-lag metrics per "Consumer Group" and "Topic" for the groups that exist (MSK developer
guide, "Monitor consumer lags"); the sandbox seeds them as MSK would for the groups named here: one of a
deleted mapping (a UUID no mapping has), the mapping's own, and an application's.
"""

from __future__ import annotations

import json
import uuid as uuids

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner, diagnosed


def _group_on_topic(sandbox: Sandbox, cluster_arn: str, topic: str, group: str) -> None:
    name = cluster_arn.split(":", 5)[-1].split("/")[1]
    dims = {"Cluster Name": name, "Topic": topic, "Consumer Group": group}
    sandbox.put_metrics("AWS/Kafka", "MaxOffsetLag", dims, [0.0, 0.0])


def test_a_recreated_mapping_is_told_where_its_old_offsets_are(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "healthy-msk")
    lam = sandbox.client("lambda")
    current = lam.get_event_source_mapping(UUID=scn.esm_uuid)
    [topic] = current["Topics"]
    assert scn.cluster_arn is not None
    old = str(uuids.uuid4())  # the group of the mapping IaC replaced (deleted: no mapping has this UUID)
    for group in (old, scn.esm_uuid, "analytics-app"):
        _group_on_topic(sandbox, scn.cluster_arn, topic, group)
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "CONSUMER_GROUP_RESET"
    ev = found["evidence"]
    assert (ev["group_id"], ev["former_groups"], ev["topics"]) == (scn.esm_uuid, [old], [topic])
    position = current["StartingPosition"]
    assert ev["starting_position"] == position
    assert ev["consequence"] == {"LATEST": "skipped", "TRIM_HORIZON": "re-read"}[position]
    plan = json.loads(cli("plan", "--esm", scn.esm_uuid, "--output", "json").stdout)
    assert plan["changes"] == []  # ConsumerGroupId is set only at creation: a person re-creates
    [step] = plan["manual_steps"]
    assert f"aws lambda delete-event-source-mapping --uuid {scn.esm_uuid}" in step["text"]
    assert f'--amazon-managed-kafka-event-source-config \'{{"ConsumerGroupId": "{old}"}}\'' in step["text"]
    # The person runs the commands the plan names.
    lam.delete_event_source_mapping(UUID=scn.esm_uuid)
    resumed = lam.create_event_source_mapping(
        FunctionName=current["FunctionArn"],
        EventSourceArn=current["EventSourceArn"],
        Topics=[topic],
        StartingPosition="TRIM_HORIZON",
        AmazonManagedKafkaEventSourceConfig={"ConsumerGroupId": old},
        SourceAccessConfigurations=current.get("SourceAccessConfigurations", []),
    )["UUID"]
    assert diagnosed(cli, resumed) == []
    assert json.loads(cli("plan", "--esm", resumed, "--output", "json").stdout)["manual_steps"] == []


def test_groups_that_are_not_a_former_mapping_are_not_a_finding(sandbox: Sandbox, cli: CliRunner) -> None:
    """The mapping's own group, an application's group and a live mapping's UUID are not a reset."""
    scn = build_scenario(sandbox, "healthy-msk")
    [topic] = sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["Topics"]
    assert scn.cluster_arn is not None
    for group in (scn.esm_uuid, "analytics-app"):
        _group_on_topic(sandbox, scn.cluster_arn, topic, group)
    assert diagnosed(cli, scn.esm_uuid) == []


def test_scan_reports_it_with_one_metric_listing_per_cluster(sandbox: Sandbox, cli: CliRunner) -> None:
    """The calls README states: one ListMetrics per MSK cluster with a mapping without a ConsumerGroupId,
    and one GetEventSourceMapping per UUID-named group that is not the mapping's own (a scan makes no other
    GetEventSourceMapping: the listing carries every mapping)."""
    reset = build_scenario(sandbox, "healthy-msk")
    other = build_scenario(sandbox, "healthy-msk", name="other-app")
    [topic] = sandbox.client("lambda").get_event_source_mapping(UUID=reset.esm_uuid)["Topics"]
    assert reset.cluster_arn is not None
    _group_on_topic(sandbox, reset.cluster_arn, topic, str(uuids.uuid4()))
    sandbox.clear_calls()
    run = cli("scan", "--output", "json")
    assert run.returncode == 2, run.stderr
    found = {m["esm_uuid"]: [f["code"] for f in m["findings"]] for m in json.loads(run.stdout)["mappings"]}
    assert found == {reset.esm_uuid: ["CONSUMER_GROUP_RESET"], other.esm_uuid: []}
    ops = [op for _, op in sandbox.calls]
    assert ops.count("ListMetrics") == 2  # a cluster each
    assert ops.count("GetEventSourceMapping") == 1  # the old group's UUID, not found
