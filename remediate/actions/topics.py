"""Manual steps for the mapping's topics (issue 21): a missing topic, a topic with a single replica.

A mapping's Topics cannot be changed (UpdateEventSourceMapping has no Topics), and a topic is made by a
Kafka client or MSK's CreateTopic with partitions and a replication factor someone must choose: the plan
names the near misses and the cluster's usual sizes, and a person decides.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from remediate.actions.base import Action, ApplyContext, Draft, ManualAction, register
from remediate.errors import AwsError
from remediate.evidence import TopicNotFound, TopicReplicationFactorOne
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.observe import topics
from remediate.plan import Change, ManualStep


@register
class TopicSteps(ManualAction):
    name = "topic_steps"
    accepts = (TopicNotFound, TopicReplicationFactorOne)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        uuid = facts.esm.uuid
        if isinstance(ev, TopicNotFound):
            near = (
                f" If the mapping meant {' or '.join(ev.near_misses)}, recreate it with that topic: a "
                "mapping's topics cannot be changed (`aws lambda delete-event-source-mapping --uuid "
                f"{uuid}`, then `create-event-source-mapping` with the same settings and the right "
                "`--topics`)."
                if ev.near_misses
                else ""
            )
            sizes = (
                f" --partitions {ev.sibling_partitions} --replication-factor {ev.sibling_replication_factor}"
                if ev.sibling_partitions and ev.sibling_replication_factor
                else " --partitions N --replication-factor R"
            )
            text = (
                f"Topic {', '.join(ev.missing)} does not exist on {ev.cluster}.{near} Otherwise create it "
                f"with a Kafka client (`kafka-topics.sh --create --topic {ev.missing[0]}{sizes}`; the sizes "
                "are the cluster's most common ones) or with MSK's CreateTopic (`remediate apply --esm "
                f"{uuid} --fix-with create-topic`), and check that the producers write to it."
            )
        else:
            assert isinstance(ev, TopicReplicationFactorOne)
            text = (
                f"Topic {ev.topic} on {ev.cluster} has a single replica: give it replication factor 3 "
                "(`kafka-reassign-partitions.sh` with a plan that adds two replicas per partition), so MSK's "
                "patching of one broker does not stop the mapping."
            )
        return [ManualStep(because=(finding.code,), text=text)]


# issue 21 (item 2's alternative): MSK's CreateTopic, chosen by name (`--fix-with create-topic`)
@register
class CreateTopic(Action):
    """Create the mapping's missing topic with MSK's CreateTopic, sized like the cluster's other topics.

    MSK developer guide, "Create topics in an Amazon MSK cluster" (msk-create-topic.html): "You can create
    topics in your MSK Provisioned cluster using this API directly without setting up any custom Kafka
    AdminClient ... you specify the topic name, partition count, replication factor"; MSK API reference /
    AWS CLI reference, create-topic: PartitionCount and ReplicationFactor required, minimum 1; "Topic
    Operations": the topic APIs need an MSK Provisioned cluster on Apache Kafka 3.6.0 or later, ACTIVE, and
    their answers "reflect data that updates approximately every minute" (so apply waits for DescribeTopic
    to show it). "Semantics of IAM authorization policy actions and resources": kafka-cluster:CreateTopic
    on the topic, with kafka-cluster:Connect. A topic is never deleted by a rollback: by then it may hold
    records, so that is a person's decision.
    """

    name = "create_topic"
    accepts = (TopicNotFound,)
    order = 45
    permissions = ("kafka-cluster:Connect", "kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic")

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev, cluster = finding.evidence, facts.cluster
        if not isinstance(ev, TopicNotFound) or cluster is None:
            return []
        why = topics.not_applicable(cluster)
        if why is not None:
            return [ManualStep(because=(finding.code,), text=f"MSK's CreateTopic cannot be used: {why}.")]
        if not ev.sibling_partitions or not ev.sibling_replication_factor:
            return [
                ManualStep(
                    because=(finding.code,),
                    text=f"Cluster {ev.cluster} has no other topic to size {ev.missing[0]} from: choose its "
                    "partitions and replication factor and create it (`aws kafka create-topic --cluster-arn "
                    f"{ev.cluster} --topic-name {ev.missing[0]} --partition-count N "
                    "--replication-factor R`).",
                )
            ]
        return [
            Draft(
                Change(
                    id="",
                    action=self.name,
                    resource=ev.cluster,
                    kind="create",
                    before={"exists": False},
                    after={
                        "TopicName": topic,
                        "PartitionCount": ev.sibling_partitions,
                        "ReplicationFactor": ev.sibling_replication_factor,
                    },
                )
            )
            for topic in ev.missing
        ]

    def _described(self, change: Change, ctx: ApplyContext) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = ctx.aws.call(
                "kafka", "describe_topic", ClusterArn=change.resource, TopicName=change.after["TopicName"]
            )
        except AwsError as exc:
            if exc.code == "NotFoundException":
                return None
            raise
        return found

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        return self._described(change, ctx) is not None

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        name = change.after["TopicName"]
        ctx.progress(
            f"creating topic {name} on {change.resource} ({change.after['PartitionCount']} partitions, "
            f"replication factor {change.after['ReplicationFactor']})"
        )
        made = ctx.aws.call(
            "kafka",
            "create_topic",
            ClusterArn=change.resource,
            TopicName=name,
            PartitionCount=int(change.after["PartitionCount"]),
            ReplicationFactor=int(change.after["ReplicationFactor"]),
        )
        deadline = time.monotonic() + ctx.settings.esm_transition_timeout
        while self._described(change, ctx) is None:  # the topic APIs' answers lag up to about a minute
            if time.monotonic() >= deadline:
                raise AwsError(f"topic {name} is not yet listed on {change.resource}")
            ctx.progress(f"waiting for MSK to list topic {name}")
            time.sleep(ctx.settings.esm_poll_interval)
        return {"TopicArn": made.get("TopicArn"), "created": True}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        found = self._described(change, ctx)
        if found is None:
            return f"topic {change.after['TopicName']} does not exist on {change.resource}"
        return None

    def inverse(self, change: Change, outputs: dict[str, Any]) -> Change | None:
        raise NotImplementedError(
            f"topic {change.after['TopicName']} on {change.resource} is kept: it may hold records by now "
            f"(`aws kafka delete-topic --cluster-arn {change.resource} --topic-name "
            f"{change.after['TopicName']}` if it certainly holds none)"
        )
