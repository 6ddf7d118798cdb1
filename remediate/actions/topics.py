"""Manual steps for the mapping's topics (issue 21): a missing topic, a topic with a single replica.

A mapping's Topics cannot be changed (UpdateEventSourceMapping has no Topics), and a topic is made by a
Kafka client or MSK's CreateTopic with partitions and a replication factor someone must choose: the plan
names the near misses and the cluster's usual sizes, and a person decides.
"""

from __future__ import annotations

from pydantic import BaseModel

from remediate.actions.base import Draft, ManualAction, register
from remediate.evidence import TopicNotFound, TopicReplicationFactorOne
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import ManualStep


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
                "are the cluster's most common ones) and check that the producers write to it."
            )
        else:
            assert isinstance(ev, TopicReplicationFactorOne)
            text = (
                f"Topic {ev.topic} on {ev.cluster} has a single replica: give it replication factor 3 "
                "(`kafka-reassign-partitions.sh` with a plan that adds two replicas per partition), so MSK's "
                "patching of one broker does not stop the mapping."
            )
        return [ManualStep(because=(finding.code,), text=text)]
