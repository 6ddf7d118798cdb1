"""Consumer groups a deleted mapping left on this mapping's topics (issue 25, item 5).

A mapping with no ConsumerGroupId reads under its own UUID as group id (Lambda developer guide, "Customizable
consumer group ID in Lambda"), so a mapping that IaC replaced starts a new group and leaves the old one, with
its committed offsets. MSK publishes consumer-lag metrics (MaxOffsetLag, ...) per "Consumer Group" and
"Topic" for every group in the STABLE or EMPTY state (MSK developer guide, "Monitor consumer lags"): a
ListMetrics on the cluster names the groups that exist on each topic. A group named like a mapping UUID whose
mapping GetEventSourceMapping no longer finds is a former mapping's group.

Read only for an MSK mapping without a ConsumerGroupId, with metrics on: one ListMetrics per cluster (paged,
500 metrics a page; shared by every mapping of a scan on that cluster) and one GetEventSourceMapping per
UUID-named group other than the mapping's own (shared too). `observe.reads` makes the calls; this module
says which. Limits: self-managed clusters publish no such metric (the probe's DescribeGroups names one
group, not a topic's groups); a group with a colon in its name, or an unstable one, has no metric; which
function the deleted mapping invoked is not in these reads.
"""

from __future__ import annotations

import re
from typing import Any, Final

from remediate.facts import Esm

PERMISSIONS: Final = ("cloudwatch:ListMetrics",)
UUID: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def wanted(esm: Esm, metrics_minutes: int) -> bool:
    return (
        esm.consumer_group_id is None
        and esm.source_kind == "msk"
        and bool(esm.event_source_arn)
        and metrics_minutes > 0
    )


def cluster_name(arn: str) -> str:
    """`arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID` -> NAME (MSK's "Cluster Name" dimension)."""
    return arn.split(":", 5)[-1].split("/")[1]


def listing(name: str) -> dict[str, Any]:
    """ListMetrics parameters: the cluster's consumer-lag metric, one per group and topic."""
    return {
        "Namespace": "AWS/Kafka",
        "MetricName": "MaxOffsetLag",
        "Dimensions": [{"Name": "Cluster Name", "Value": name}],
    }


def candidates(metrics: list[dict[str, Any]], esm: Esm) -> list[tuple[str, str]]:
    """(group, topic) of the UUID-named groups on the mapping's topics, other than its own, in order."""
    found = set()
    for metric in metrics:
        dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
        group, topic = dims.get("Consumer Group", ""), dims.get("Topic", "")
        if topic in esm.topics and group != esm.uuid and UUID.match(group):
            found.add((group, topic))
    return sorted(found)
