"""recreate_with_own_group: the manual steps that give a mapping a consumer group of its own.

No API changes a mapping's group: "After creating a Kafka event source mapping with the consumer group ID
specified, you cannot update this value" (Lambda developer guide, "Customizable consumer group ID in
Lambda"). So the fix is a new mapping with a unique ConsumerGroupId, then deleting the old one, which is a
person's decision (which consumer keeps the group, and from which offset the new one starts: a new group
starts at StartingPosition, an existing one at its committed offsets, same page). This action plans those
steps with the mapping's own values; it changes nothing.
"""

from __future__ import annotations

import json

from pydantic import BaseModel

from remediate.actions.base import Draft, ManualAction, register
from remediate.evidence import ConsumerGroupReset, ConsumerGroupShared
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import ManualStep


def new_group_id(facts: Facts) -> str:
    """A group id no other mapping uses: the function's name and this mapping's UUID."""
    function = facts.esm.function_arn.split(":")[6] if facts.esm.function_arn.count(":") >= 6 else "lambda"
    return f"{function}-{facts.esm.uuid}"


@register
class RecreateWithOwnGroup(ManualAction):
    """Recreate the mapping with a consumer group of its own (a group id cannot be updated)."""

    name = "recreate_with_own_group"
    accepts = (ConsumerGroupShared,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        if not isinstance(ev, ConsumerGroupShared):
            return []
        esm = facts.esm
        group = new_group_id(facts)
        config = json.dumps({"ConsumerGroupId": group})
        if esm.source_kind == "msk":
            source = (
                f"--event-source-arn {esm.event_source_arn} "
                f"--amazon-managed-kafka-event-source-config '{config}'"
            )
        else:
            servers = json.dumps({"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": list(esm.bootstrap_servers)}})
            source = (
                f"--self-managed-event-source '{servers}' --self-managed-kafka-event-source-config '{config}'"
            )
        others = ", ".join(f"{u} ({f})" for u, f in zip(ev.peers, ev.peer_functions, strict=True))
        text = (
            f"Consumer group {ev.group_id} is shared with {others} on topic(s) {', '.join(ev.topics)}: Kafka "
            "gives each consumer only part of the partitions. If that is not intended, decide which mapping "
            f"keeps the group; to give this one ({esm.uuid}) its own, recreate it (a group id cannot be "
            "updated):\n"
            f"1. aws lambda get-event-source-mapping --uuid {esm.uuid} > esm-{esm.uuid}.json  "
            "(keep its settings: batch size, source access, destination, filters, pollers)\n"
            f"2. aws lambda create-event-source-mapping --function-name {esm.function_arn} {source} "
            f"--topics {' '.join(esm.topics)} --starting-position TRIM_HORIZON "
            "(a new group starts at StartingPosition: TRIM_HORIZON re-reads what the topic retains, LATEST "
            "skips what arrives before it starts, AT_TIMESTAMP with --starting-position-timestamp starts "
            "from a chosen time), adding the settings kept in step 1\n"
            f"3. once the new mapping is Enabled: aws lambda delete-event-source-mapping --uuid {esm.uuid}\n"
            "Records may be processed twice around the switch: the function must tolerate duplicates."
        )
        return [ManualStep(because=(finding.code,), text=text)]


# issue 25, item 5
@register
class ResumeFormerGroup(ManualAction):
    """Resume a re-created mapping from the group its predecessor left: ConsumerGroupId is set only at
    creation ("After creating a Kafka event source mapping with the consumer group ID specified, you cannot
    update this value", kafka-consumer-group-id.html), and a second mapping with the same function, source
    and topic is refused (ResourceConflictException), so the current one is deleted first."""

    name = "resume_former_group"
    accepts = (ConsumerGroupReset,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, ConsumerGroupReset)
        esm = facts.esm
        group = ev.former_groups[0]
        config = json.dumps({"ConsumerGroupId": group})
        text = (
            f"ESM {esm.uuid} started a new consumer group; the offsets its predecessor committed are in "
            f"group {', '.join(ev.former_groups)} on {', '.join(ev.topics)}. If the records since then must "
            "be processed exactly from there, re-create the mapping in that group (a ConsumerGroupId is set "
            "only when a mapping is created; Lambda ignores StartingPosition for a group that exists):\n"
            f"1. aws lambda get-event-source-mapping --uuid {esm.uuid} > esm-{esm.uuid}.json  "
            "(keep its settings)\n"
            f"2. aws lambda delete-event-source-mapping --uuid {esm.uuid}  (Lambda refuses a second mapping "
            "with the same function, source and topic)\n"
            f"3. aws lambda create-event-source-mapping --function-name {esm.function_arn} "
            f"--event-source-arn {esm.event_source_arn} --topics {' '.join(esm.topics)} "
            "--starting-position TRIM_HORIZON "
            f"--amazon-managed-kafka-event-source-config '{config}', adding the settings kept in step 1\n"
            "4. set the same ConsumerGroupId in the template that creates the mapping "
            "(AmazonManagedKafkaEventSourceConfig.ConsumerGroupId), so the next replacement keeps the "
            "group.\nRecords this mapping already processed since it started are processed again."
        )
        return [ManualStep(because=(finding.code,), text=text)]
