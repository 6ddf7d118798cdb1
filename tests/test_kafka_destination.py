"""A Kafka topic as on-failure destination: recognised, never read as an ARN, its permission required."""

from __future__ import annotations

from remediate import kafka, poller_paths, required_access
from remediate.facts import ClusterAuth
from tests import factories


def test_recognised_and_not_an_arn() -> None:
    assert kafka.kafka_destination_topic("kafka://failed-records") == "failed-records"
    assert kafka.kafka_destination_topic("arn:aws:sqs:us-east-1:123456789012:q") is None
    assert kafka.kafka_destination_topic("kafka://") is None
    facts = factories.facts(esm=factories.esm(on_failure_destination="kafka://failed-records"))
    assert required_access.destination(facts) is None
    assert poller_paths.destination_service(facts) is None


def test_iam_auth_needs_write_on_the_topic_of_the_source_cluster() -> None:
    facts = factories.facts(esm=factories.esm(on_failure_destination="kafka://failed-records"))
    (need,) = required_access.kafka_destination_needs(facts)
    topic = factories.CLUSTER_ARN.replace(":cluster/", ":topic/") + "/failed-records"
    assert (need.primary.action, need.primary.resource) == ("kafka-cluster:WriteData", topic)
    assert need in required_access.role_needs(facts)


def test_no_iam_need_without_iam_auth_or_without_a_kafka_destination() -> None:
    assert required_access.kafka_destination_needs(factories.facts()) == []
    scram = factories.facts(
        esm=factories.esm(on_failure_destination="kafka://failed-records"),
        cluster=factories.facts().cluster.model_copy(update={"auth": ClusterAuth(scram=True)}),  # type: ignore[union-attr]
        destination=None,
    )
    assert required_access.kafka_destination_needs(scram) == []
