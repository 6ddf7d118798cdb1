"""One test per gap of MSK's topic APIs the sandbox fills (remediate/sandbox/topics.py), refusals included.

MSK developer guide, "Topic Operations": not available for MSK Serverless, Kafka 3.6.0 or later, ACTIVE.
MSK API reference, ListTopics (Topics[], NextToken, TopicNameFilter) and DescribeTopic.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from remediate.sandbox import Sandbox

from .helpers import make_cluster, make_network


def _error(call: Any) -> str:
    with pytest.raises(ClientError) as error:
        call()
    return str(error.value.response["Error"]["Code"])


def test_list_topics_lists_what_kafka_clients_created_page_by_page(sb: Sandbox) -> None:
    arn = make_cluster(sb, "topics-list")
    for i in range(3):
        sb.put_topic(arn, f"t{i}", partitions=i + 1, replication_factor=3)
    kafka = sb.client("kafka")
    first = kafka.list_topics(ClusterArn=arn, MaxResults=2)
    assert [t["TopicName"] for t in first["Topics"]] == ["t0", "t1"]
    rest = kafka.list_topics(ClusterArn=arn, MaxResults=2, NextToken=first["NextToken"])
    assert [(t["TopicName"], t["PartitionCount"], t["ReplicationFactor"]) for t in rest["Topics"]] == [
        ("t2", 3, 3)
    ]
    assert "NextToken" not in rest
    assert [t["TopicName"] for t in kafka.list_topics(ClusterArn=arn, TopicNameFilter="t1")["Topics"]] == [
        "t1"
    ]
    topic = kafka.describe_topic(ClusterArn=arn, TopicName="t2")
    assert (topic["TopicName"], topic["PartitionCount"], topic["ReplicationFactor"]) == ("t2", 3, 3)


def test_describe_topic_of_an_unknown_topic_is_not_found(sb: Sandbox) -> None:
    arn = make_cluster(sb, "topics-unknown")
    assert _error(lambda: sb.client("kafka").describe_topic(ClusterArn=arn, TopicName="nope")) == (
        "NotFoundException"
    )


def test_topic_apis_refuse_what_they_do_not_apply_to(sb: Sandbox) -> None:
    kafka = sb.client("kafka")
    old = make_cluster(sb, "topics-old", KafkaVersion="3.5.1")
    assert _error(lambda: kafka.list_topics(ClusterArn=old)) == "BadRequestException"
    _, subnets, sg = make_network(sb)
    serverless = kafka.create_cluster_v2(
        ClusterName="topics-serverless",
        Serverless={
            "VpcConfigs": [{"SubnetIds": subnets, "SecurityGroupIds": [sg]}],
            "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
        },
    )["ClusterArn"]
    assert _error(lambda: kafka.list_topics(ClusterArn=serverless)) == "BadRequestException"
    busy = make_cluster(sb, "topics-busy")
    sb.set_cluster_state(busy, "MAINTENANCE")
    assert _error(lambda: kafka.list_topics(ClusterArn=busy)) == "BadRequestException"


# issue 21 (CreateTopic alternative): MSK developer guide, "Create topics in an Amazon MSK cluster"; MSK API
# reference, CreateTopic (TopicExistsException for an existing name). Plain moto has no CreateTopic.
def test_create_topic_makes_a_topic_describe_topic_shows(sb: Sandbox) -> None:
    arn = make_cluster(sb, "topics-create")
    kafka = sb.client("kafka")
    made = kafka.create_topic(ClusterArn=arn, TopicName="orders", PartitionCount=6, ReplicationFactor=3)
    assert made["TopicName"] == "orders"
    assert made["TopicArn"].endswith("/orders")
    topic = kafka.describe_topic(ClusterArn=arn, TopicName="orders")
    assert (topic["PartitionCount"], topic["ReplicationFactor"]) == (6, 3)
    again = lambda: kafka.create_topic(  # noqa: E731
        ClusterArn=arn, TopicName="orders", PartitionCount=6, ReplicationFactor=3
    )
    assert _error(again) == "TopicExistsException"
    too_many = lambda: kafka.create_topic(  # noqa: E731
        ClusterArn=arn, TopicName="wide", PartitionCount=1, ReplicationFactor=4
    )
    assert _error(too_many) == "BadRequestException"  # three brokers


def test_create_topic_has_the_topic_apis_requirements(sb: Sandbox) -> None:
    arn = make_cluster(sb, "topics-create-old", KafkaVersion="3.5.1")
    call = lambda: sb.client("kafka").create_topic(  # noqa: E731
        ClusterArn=arn, TopicName="orders", PartitionCount=1, ReplicationFactor=1
    )
    assert _error(call) == "BadRequestException"
