"""Consumer groups: another mapping that joins this mapping's group on the same source and topic.

"Kafka distributes messages across all consumers in a consumer group. If you specify a consumer group ID
that has other active consumers, Lambda receives only a portion of the messages from the Kafka topic";
"if you specify a consumer group ID, and Kafka finds a valid existing consumer group with the same ID,
Lambda ignores the StartingPosition for your event source mapping"; "The consumer group ID that you
specify must be unique among all your Kafka event sources" (Lambda developer guide, "Customizable consumer
group ID in Lambda", https://docs.aws.amazon.com/lambda/latest/dg/kafka-consumer-group-id.html). Without a
ConsumerGroupId the group is the mapping's UUID (`Esm.group_id`), so only a configured id, or another
mapping configured with this one's UUID, can collide. Observation keeps the mappings on the same source in
the same group (`Facts.peers`); consumers other than Lambda mappings are not visible through AWS's APIs.
"""

from __future__ import annotations

from typing import Literal

from remediate.checks.base import check
from remediate.evidence import ConsumerGroupReset, ConsumerGroupShared
from remediate.facts import Facts
from remediate.findings import Finding


@check("consumer_group_shared", "CONSUMER_GROUP_SHARED")
def consumer_group_shared(facts: Facts) -> list[Finding]:
    """Mappings on the same source in the same consumer group that read a topic this one reads."""
    esm = facts.esm
    peers = [p for p in facts.peers or () if p.group_id == esm.group_id and set(p.topics) & set(esm.topics)]
    if not peers:
        return []
    topics = tuple(sorted({t for p in peers for t in p.topics} & set(esm.topics)))
    source = esm.event_source_arn or ", ".join(esm.bootstrap_servers)
    return [
        Finding(
            code="CONSUMER_GROUP_SHARED",
            summary=(
                f"consumer group {esm.group_id} is joined on {source} by {len(peers)} other mapping(s) "
                f"({', '.join(p.uuid for p in peers)}) reading {', '.join(topics)}: Kafka splits the "
                "topic's messages between them, and StartingPosition is ignored while the group exists"
            ),
            evidence=ConsumerGroupShared(
                group_id=esm.group_id,
                configured=esm.consumer_group_id is not None,
                source=source,
                topics=topics,
                peers=tuple(p.uuid for p in peers),
                peer_functions=tuple(p.function_arn for p in peers),
            ),
        )
    ]


# issue 25, item 5
_CONSEQUENCE: dict[str | None, Literal["skipped", "re-read", "from-timestamp"]] = {
    "LATEST": "skipped",
    "TRIM_HORIZON": "re-read",
    "AT_TIMESTAMP": "from-timestamp",
}
_SAID: dict[Literal["skipped", "re-read", "from-timestamp", "unknown"], str] = {
    "skipped": "LATEST skipped the records written after the old group's last commit and before this "
    "mapping started polling",
    "re-read": "TRIM_HORIZON read the topic again from its oldest record",
    "from-timestamp": "AT_TIMESTAMP started at its timestamp, not at the old group's offsets",
    "unknown": "its StartingPosition decided where it began, not the old group's offsets",
}


@check("consumer_group_reset", "CONSUMER_GROUP_RESET")
def consumer_group_reset(facts: Facts) -> list[Finding]:
    """A mapping without ConsumerGroupId reads under its UUID; a deleted mapping's group on the same topic
    (`observe.former_groups`) means it was re-created (IaC replaces a mapping with a new UUID) and started
    over: "if you specify a consumer group ID, and Kafka finds a valid existing consumer group with the same
    ID, Lambda ignores the StartingPosition" (kafka-consumer-group-id.html) is what it did not do."""
    esm = facts.esm
    if not facts.former_groups or esm.consumer_group_id is not None:
        return []
    groups = tuple(sorted({g.group for g in facts.former_groups}))
    topics = tuple(sorted({g.topic for g in facts.former_groups}))
    consequence: Literal["skipped", "re-read", "from-timestamp", "unknown"] = _CONSEQUENCE.get(
        esm.starting_position, "unknown"
    )
    return [
        Finding(
            code="CONSUMER_GROUP_RESET",
            summary=f"ESM {esm.uuid} reads {', '.join(topics)} under a new consumer group ({esm.uuid}) while "
            f"deleted mapping(s)' group(s) {', '.join(groups)} still hold offsets there: "
            f"{_SAID[consequence]}",
            evidence=ConsumerGroupReset(
                group_id=esm.group_id,
                former_groups=groups,
                topics=topics,
                starting_position=esm.starting_position,
                consequence=consequence,
            ),
        )
    ]
