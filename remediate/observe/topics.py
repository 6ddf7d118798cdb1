"""Topics from MSK's topic APIs (issue 21, item 2): when they apply, and their answer as `Topics`.

MSK developer guide, "Topic Operations" (https://docs.aws.amazon.com/msk/latest/developerguide/
msk-view-topic-information.html), requirements for ListTopics, DescribeTopic and DescribeTopicPartitions:
an MSK Provisioned cluster ("not available for MSK Serverless clusters"), Apache Kafka 3.6.0 or later, the
cluster ACTIVE, and the caller's kafka-cluster:Connect and kafka-cluster:DescribeTopic (on the cluster ARN
for ListTopics). The answers "reflect data that updates approximately every minute". Pure: no AWS calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from remediate import kafka
from remediate.facts import Cluster, Topic, Topics

MIN_KAFKA_VERSION = (3, 6, 0)
PERMISSIONS = ("kafka-cluster:Connect", "kafka-cluster:DescribeTopic")
"""What ListTopics needs of the caller ("IAM permissions for viewing topic information")."""


def _version(text: str) -> tuple[int, ...] | None:
    parts = []
    for part in text.split("."):
        digits = "".join(c for c in part if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) if parts else None


def not_applicable(cluster: Cluster) -> str | None:
    """Why the topic APIs cannot answer for this cluster, or None when they can."""
    if cluster.kind != "PROVISIONED":
        return "MSK's topic APIs are not available for MSK Serverless clusters"
    version = _version(cluster.kafka_version or "")
    if version is None:
        return "the cluster's Apache Kafka version is unknown (the topic APIs need 3.6.0 or later)"
    if version < MIN_KAFKA_VERSION:
        return f"the cluster runs Apache Kafka {cluster.kafka_version}; the topic APIs need 3.6.0 or later"
    if cluster.state != kafka.CLUSTER_ACTIVE:
        return f"the cluster is {cluster.state}; the topic APIs answer only for an ACTIVE cluster"
    return None


def topics_from_api(cluster_arn: str, raws: Iterable[dict[str, Any]], unread: tuple[str, ...]) -> Topics:
    """ListTopics' TopicInfo list (MSK API reference: TopicName, PartitionCount, ReplicationFactor)."""
    return Topics(
        cluster_arn=cluster_arn,
        topics=tuple(
            Topic(
                name=str(raw.get("TopicName", "")),
                partition_count=raw.get("PartitionCount"),
                replication_factor=raw.get("ReplicationFactor"),
            )
            for raw in raws
        ),
        unread=unread,
    )
