"""MSK's topic APIs in the sandbox (issue 21): ListTopics, DescribeTopic and CreateTopic, which moto lacks.

The rules, from AWS's documentation, independently of the engine:

* MSK developer guide, "Topic Operations" (msk-view-topic-information): the APIs are "not available for MSK
  Serverless clusters", need Apache Kafka 3.6.0 or later and a cluster in the ACTIVE state.
* MSK API reference, ListTopics (GET /v1/clusters/{clusterArn}/topics; TopicNameFilter, MaxResults,
  NextToken; Topics[] of TopicArn, TopicName, PartitionCount, ReplicationFactor, OutOfSyncReplicaCount) and
  DescribeTopic (GET /v1/clusters/{clusterArn}/topics/{topicName}).
* Topics are made by Kafka clients, not through these APIs, so a scenario seeds them (`put_topic`).

Not confirmed: the wording of each refusal. The codes are those the API reference lists for ListTopics
(BadRequestException for a request the cluster cannot answer) and NotFoundException for an unknown cluster
or topic.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Final
from urllib.parse import parse_qs, unquote

from moto.kafka import models as _kafka_models
from moto.kafka import responses as _kafka_responses
from moto.kafka.exceptions import BadRequestException, KafkaException, NotFoundException

from remediate.sandbox.patches import _replace

__all__ = ["patch", "put_topic"]

_ATTR: Final = "_remediate_topics"
_LOCK = threading.RLock()
_DONE: list[bool] = []
MIN_VERSION: Final = (3, 6, 0)


class _NotFound(NotFoundException):
    code = 404


def _version(text: str | None) -> tuple[int, ...]:
    parts: list[int] = []
    for part in (text or "").split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def _topics(cluster: Any) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = cluster.__dict__.setdefault(_ATTR, {})
    return found


def _answerable(backend: Any, arn: str) -> Any:
    cluster = backend.clusters.get(arn)
    if cluster is None:
        raise _NotFound(f"Cluster {arn} does not exist.")
    if cluster.cluster_type == "SERVERLESS":
        raise BadRequestException("Topic operations are not supported for MSK Serverless clusters.")
    if _version(cluster.kafka_version) < MIN_VERSION:
        raise BadRequestException(
            f"Topic operations require Apache Kafka 3.6.0 or later; the cluster runs {cluster.kafka_version}."
        )
    if cluster.state != "ACTIVE":
        raise BadRequestException(f"The cluster is {cluster.state}; topic operations need an ACTIVE cluster.")
    return cluster


def _info(cluster: Any, name: str, spec: dict[str, int]) -> dict[str, Any]:
    return {
        "topicArn": f"{cluster.arn.replace(':cluster/', ':topic/')}/{name}",
        "topicName": name,
        "partitionCount": spec["partitions"],
        "replicationFactor": spec["replication_factor"],
        "outOfSyncReplicaCount": 0,
    }


def _respond_list_topics(self: Any) -> str:
    path = str(self.parsed_url.path)
    arn = unquote(path.split("/clusters/", 1)[-1]).removesuffix("/topics")
    cluster = _answerable(self.kafka_backend, arn)
    query = parse_qs(self.parsed_url.query)
    prefix = (query.get("topicNameFilter") or [""])[0]
    size = int((query.get("maxResults") or ["100"])[0])
    start = int((query.get("nextToken") or ["0"])[0])
    with _LOCK:
        names = sorted(n for n in _topics(cluster) if n.startswith(prefix))
        page = [_info(cluster, n, _topics(cluster)[n]) for n in names[start : start + size]]
    body: dict[str, Any] = {"topics": page}
    if start + size < len(names):
        body["nextToken"] = str(start + size)
    return json.dumps(body)


def _respond_describe_topic(self: Any) -> str:
    path = unquote(str(self.parsed_url.path)).split("/clusters/", 1)[-1]
    arn, _, name = path.rpartition("/topics/")
    cluster = _answerable(self.kafka_backend, arn)
    with _LOCK:
        spec = _topics(cluster).get(name)
    if spec is None:
        raise _NotFound(f"Topic {name} does not exist in cluster {arn}.")
    info = _info(cluster, name, spec)
    return json.dumps({**info, "configs": "", "status": "ACTIVE"})


class _TopicExists(KafkaException):
    """CreateTopic's TopicExistsException (HTTP 409, MSK API reference / the SDK's service model)."""

    code = 409

    def __init__(self, msg: str) -> None:
        super().__init__("TopicExistsException", msg)


def _respond_create_topic(self: Any) -> str:
    """issue 21: CreateTopic (POST /v1/clusters/{clusterArn}/topics; TopicName, PartitionCount and
    ReplicationFactor required, each count at least 1; "Create topics in an Amazon MSK cluster"). The topic
    APIs' requirements apply (`_answerable`); an existing name is TopicExistsException; a replication
    factor above the cluster's broker count is refused as Kafka refuses it (InvalidReplicationFactor), here
    as BadRequestException (not confirmed: the code MSK maps it to)."""
    path = str(self.parsed_url.path)
    arn = unquote(path.split("/clusters/", 1)[-1]).removesuffix("/topics")
    body = json.loads(self.body or "{}")
    name, partitions, rf = body.get("topicName"), body.get("partitionCount"), body.get("replicationFactor")
    with _LOCK:
        cluster = _answerable(self.kafka_backend, arn)
        if not name or not isinstance(partitions, int) or not isinstance(rf, int) or partitions < 1 or rf < 1:
            raise BadRequestException(
                "TopicName, PartitionCount (1 or more) and ReplicationFactor (1 or more)."
            )
        brokers = int(cluster.number_of_broker_nodes or 1)
        if rf > brokers:
            raise BadRequestException(
                f"Replication factor {rf} is larger than the {brokers} available brokers."
            )
        if name in _topics(cluster):
            raise _TopicExists(f"Topic '{name}' already exists.")
        _topics(cluster)[name] = {"partitions": partitions, "replication_factor": rf}
        info = _info(cluster, name, _topics(cluster)[name])
    return json.dumps({"topicArn": info["topicArn"], "topicName": name, "status": "CREATING"})


def put_topic(account_id: str, region: str, cluster_arn: str, name: str, partitions: int, rf: int) -> None:
    """Seed a topic, as a Kafka client (kafka-topics.sh, an AdminClient) would create it."""
    cluster = _kafka_models.kafka_backends[account_id][region].clusters[cluster_arn]
    with _LOCK:
        _topics(cluster)[name] = {"partitions": partitions, "replication_factor": rf}


def patch() -> None:
    """Install the handlers once per process (after `patches.apply_patches`)."""
    with _LOCK:
        if _DONE:
            return
        response_cls = _kafka_responses.KafkaResponse
        _replace(response_cls, "list_topics", _respond_list_topics)
        _replace(response_cls, "describe_topic", _respond_describe_topic)
        _replace(response_cls, "create_topic", _respond_create_topic)  # issue 21 (CreateTopic alternative)
        _DONE.append(True)
