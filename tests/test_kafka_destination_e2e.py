"""End to end, issue 15 item 6: a Kafka topic (`kafka://TOPIC`) as the on-failure destination."""

from __future__ import annotations

import json
from typing import Any

from remediate.sandbox import Sandbox
from remediate.sandbox.scenarios import build_scenario
from tests.conftest import CliRunner
from tests.test_schema_registry_e2e import allows, plan_json, role_statements


def topic_arn(cluster_arn: str, topic: str) -> str:
    """MSK IAM access control's topic ARN: arn:aws:kafka:REGION:ACCOUNT:topic/CLUSTER_NAME/CLUSTER_UUID/TOPIC
    (MSK developer guide, "IAM access control", resources)."""
    return cluster_arn.replace(":cluster/", ":topic/") + f"/{topic}"


def test_write_permission_is_granted_on_the_destination_topic(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "kafka-destination-no-write")
    topic = topic_arn(str(scn.cluster_arn), "orders-failures")
    plan = plan_json(cli, scn.esm_uuid)
    assert [f["code"] for f in plan["findings"]] == ["EXECUTION_ROLE_MISSING_PERMISSIONS"]
    missing: list[dict[str, Any]] = plan["findings"][0]["evidence"]["missing"]
    assert [(r["action"], r["resource"]) for r in missing] == [("kafka-cluster:WriteData", topic)]
    applied = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert allows(role_statements(sandbox, scn.role_name), "kafka-cluster:WriteData", topic)
    again = plan_json(cli, scn.esm_uuid)
    assert again["findings"] == []


def test_a_writable_kafka_destination_is_healthy_and_not_read_as_an_arn(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    """No destination read (it is no queue, topic or bucket), no endpoint needed for it, no finding."""
    scn = build_scenario(sandbox, "kafka-destination-healthy")
    sandbox.clear_calls()
    out = cli("diagnose", "--esm", scn.esm_uuid, "--output", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["findings"] == []
    services = {service for service, _ in sandbox.calls}
    assert not services & {"sqs", "sns", "s3"}
