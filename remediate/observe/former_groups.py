"""Consumer groups a deleted mapping left on this mapping's topics (issue 25, item 5).

A mapping with no ConsumerGroupId reads under its own UUID as group id (Lambda developer guide, "Customizable
consumer group ID in Lambda"), so a mapping that IaC replaced starts a new group and leaves the old one, with
its committed offsets. MSK publishes consumer-lag metrics (MaxOffsetLag, ...) per "Consumer Group" and
"Topic" for every group in the STABLE or EMPTY state (MSK developer guide, "Monitor consumer lags"): a
ListMetrics on the topic names the groups that exist. A group named like a mapping UUID whose mapping
GetEventSourceMapping no longer finds is a former mapping's group.

Read only for an MSK mapping without a ConsumerGroupId, with metrics on: one ListMetrics per topic, and one
GetEventSourceMapping per UUID-named group other than the mapping's own. Limits: self-managed clusters publish
no such metric (the probe's DescribeGroups names one group, not a topic's groups); a group with a colon in its
name, or an unstable one, has no metric; which function the deleted mapping invoked is not in these reads.
"""

from __future__ import annotations

import re
from typing import Final

from remediate.aws import Aws, is_access_denied
from remediate.errors import AwsError
from remediate.facts import Esm, FormerGroup, Unchecked

PERMISSIONS: Final = ("cloudwatch:ListMetrics",)
UUID: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def wanted(esm: Esm, metrics_minutes: int) -> bool:
    return (
        esm.consumer_group_id is None
        and esm.source_kind == "msk"
        and bool(esm.event_source_arn)
        and (metrics_minutes > 0)
    )


def _cluster_name(arn: str) -> str:
    """`arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID` -> NAME (MSK's "Cluster Name" dimension)."""
    return arn.split(":", 5)[-1].split("/")[1]


def _mapping_exists(aws: Aws, uuid: str) -> bool:
    try:
        aws.call("lambda", "get_event_source_mapping", UUID=uuid)
    except AwsError as exc:
        if exc.code == "ResourceNotFoundException":
            return False
        raise
    return True


def read(aws: Aws, esm: Esm) -> tuple[tuple[FormerGroup, ...] | None, list[Unchecked]]:
    assert esm.event_source_arn is not None
    name = _cluster_name(esm.event_source_arn)
    found: list[FormerGroup] = []
    try:
        for topic in esm.topics:
            listed = aws.call(
                "cloudwatch",
                "list_metrics",
                Namespace="AWS/Kafka",
                MetricName="MaxOffsetLag",
                Dimensions=[{"Name": "Cluster Name", "Value": name}, {"Name": "Topic", "Value": topic}],
            )
            groups = sorted(
                {
                    d["Value"]
                    for m in listed.get("Metrics", [])
                    for d in m.get("Dimensions", [])
                    if d["Name"] == "Consumer Group"
                }
            )
            for group in groups:
                if group != esm.uuid and UUID.match(group) and not _mapping_exists(aws, group):
                    found.append(FormerGroup(group=group, topic=topic))
    except AwsError as exc:
        if exc.__cause__ is not None and is_access_denied(exc.__cause__):
            return None, [Unchecked(what=f"consumer groups on {', '.join(esm.topics)}", reason=str(exc))]
        raise
    return tuple(found), []
