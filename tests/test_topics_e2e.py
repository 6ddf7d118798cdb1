"""End-to-end (issue 21, item 2): topics from MSK's topic APIs, through the real CLI and the sandbox.

The topics are seeded as a Kafka client would create them; the expectations are the seeded names and
sizes. MSK developer guide, "Topic Operations": the APIs need a Provisioned cluster on Kafka 3.6.0 or later
in the ACTIVE state.
"""

from __future__ import annotations

import json

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import CliRunner, diagnosed


def test_a_missing_topic_is_named_with_its_near_misses_and_no_broker_is_blamed(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    scn = build_scenario(sandbox, "topic-missing")
    found = diagnosed(cli, scn.esm_uuid)
    assert [f["code"] for f in found] == ["TOPIC_NOT_FOUND"]
    ev = found[0]["evidence"]
    assert ev["missing"] == ["orders"]
    assert sorted(ev["near_misses"]) == ["Orders", "orders-v2"]  # not "payments"
    assert (ev["topic_count"], ev["sibling_partitions"], ev["sibling_replication_factor"]) == (3, 6, 3)
    run = cli("plan", "--esm", scn.esm_uuid, "--output", "json")
    assert run.returncode == 0, run.stderr
    plan = json.loads(run.stdout)
    assert plan["changes"] == []  # no batch size, no restart
    # issue 21: MSK's CreateTopic is offered by name, never planned by default.
    [offer] = plan["alternatives"]
    assert offer["text"].startswith("`--fix-with create-topic` plans create_topic")
    [step] = plan["manual_steps"]
    assert "Orders or orders-v2" in step["text"]
    assert "--partitions 6 --replication-factor 3" in step["text"]
    assert "BROKER_TIMEOUT" not in run.stdout
    assert "overload" not in run.stdout


def test_replication_factor_one_is_a_warning(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "topic-replication-one")
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "TOPIC_REPLICATION_FACTOR_ONE"
    assert (found["evidence"]["topic"], found["evidence"]["partition_count"]) == ("orders", 3)


def test_where_the_topic_apis_do_not_apply_it_is_could_not_check(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(
        sandbox, "broker-timeout-measured", name="topics-serverless", cluster_type="SERVERLESS"
    )
    codes = [f["code"] for f in diagnosed(cli, scn.esm_uuid)]
    assert "TOPIC_NOT_FOUND" not in codes
    found = diagnosed(cli, scn.esm_uuid)
    assert any(
        f["code"] == "COULD_NOT_CHECK" and "not available for MSK Serverless" in f["summary"] for f in found
    )


def test_a_denied_list_topics_is_could_not_check(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "topic-missing", name="topics-denied")
    sandbox.faults.add(FaultRule(service="kafka", operation="ListTopics", kind="status", status=403))
    found = diagnosed(cli, scn.esm_uuid)
    assert "TOPIC_NOT_FOUND" not in [f["code"] for f in found]
    assert any("ListTopics" in f["summary"] and f["code"] == "COULD_NOT_CHECK" for f in found)


def test_create_topic_by_name_sizes_the_topic_like_its_siblings_and_is_verified(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    """issue 21: `--fix-with create-topic` creates the missing topic with MSK's CreateTopic ("Create topics in
    an Amazon MSK cluster"), with the cluster's usual sizes (the scenario's other topics: 6 partitions,
    replication factor 3), only after approval; apply reads it back."""
    scn = build_scenario(sandbox, "topic-missing", name="topics-create")
    run = cli("plan", "--esm", scn.esm_uuid, "--fix-with", "create-topic", "--output", "json")
    assert run.returncode == 0, run.stderr
    [change] = json.loads(run.stdout)["changes"]
    assert (change["action"], change["resource"], change["kind"]) == (
        "create_topic",
        scn.cluster_arn,
        "create",
    )
    assert change["after"] == {"TopicName": "orders", "PartitionCount": 6, "ReplicationFactor": 3}

    refused = cli("apply", "--esm", scn.esm_uuid, "--fix-with", "create-topic", input="no\n")
    assert ("kafka", "CreateTopic") not in sandbox.calls, refused.stdout  # nothing without approval

    applied = cli("apply", "--esm", scn.esm_uuid, "--fix-with", "create-topic", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert scn.cluster_arn is not None
    topic = sandbox.client("kafka").describe_topic(ClusterArn=scn.cluster_arn, TopicName="orders")
    assert (topic["PartitionCount"], topic["ReplicationFactor"]) == (6, 3)
    assert "TOPIC_NOT_FOUND" not in [f["code"] for f in diagnosed(cli, scn.esm_uuid)]
    # Idempotent: planned again, there is nothing to create.
    again = cli("plan", "--esm", scn.esm_uuid, "--fix-with", "create-topic", "--output", "json")
    assert json.loads(again.stdout)["changes"] == []


def test_create_topic_without_sibling_topics_is_a_manual_step(sandbox: Sandbox, cli: CliRunner) -> None:
    """No other topic to size it from: the person chooses the partitions and replication factor."""
    scn = build_scenario(sandbox, "topic-missing", name="topics-no-siblings", cluster_topics={})
    run = cli("plan", "--esm", scn.esm_uuid, "--fix-with", "create-topic", "--output", "json")
    assert run.returncode == 0, run.stderr
    plan = json.loads(run.stdout)
    assert plan["changes"] == []
    assert any("--partition-count N --replication-factor R" in m["text"] for m in plan["manual_steps"])
