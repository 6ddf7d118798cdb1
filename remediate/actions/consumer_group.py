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
from remediate.evidence import ConsumerGroupShared
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
