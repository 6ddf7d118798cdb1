"""schema_registry_steps: what a person does when the schema registry cannot be reached.

A missing Glue registry, a Confluent registry's missing secret, a name that resolves nowhere or pollers with
no way out are not the mapping's to change: a registry is created or pointed at, a secret restored, a DNS
record or a NAT gateway added by whoever owns them. Changing the mapping's SchemaRegistryConfig is possible
(UpdateEventSourceMapping takes AmazonManagedKafkaEventSourceConfig and SelfManagedKafkaEventSourceConfig),
but which registry is right is not something remediate can know. So this action plans manual steps only.
"""

from __future__ import annotations

from pydantic import BaseModel

from remediate.actions.base import Draft, ManualAction, register
from remediate.evidence import SchemaRegistryUnreachable
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import ManualStep

_STEPS = {
    "not-found": "Create the Glue registry ({registry}) with `aws glue create-registry --registry-name "
    "NAME`, or point the mapping at an existing one: aws lambda update-event-source-mapping --uuid {uuid} "
    '--{config} \'{{"SchemaRegistryConfig": {{"SchemaRegistryURI": "REGISTRY_ARN", ...}}}}\' '
    "(keep the mapping's other SchemaRegistryConfig fields).",
    "secret-missing": "Restore or recreate the access secret of the registry {registry} "
    "(`aws secretsmanager restore-secret --secret-id ARN` if it is scheduled for deletion), or update the "
    "mapping's SchemaRegistryConfig AccessConfigs to a secret that exists.",
    "unresolvable": "Make the registry's name resolvable where the pollers run: a record in a Route 53 "
    "private hosted zone associated with the pollers' VPC, or the correct SchemaRegistryURI ({registry}).",
    "no-egress": "Give the pollers' subnets a way out to the registry {registry}: a NAT gateway with a route "
    "to an internet gateway in their route tables, or a private path (peering, Transit Gateway, PrivateLink) "
    "to where the registry runs.",
}


@register
class SchemaRegistrySteps(ManualAction):
    """Manual steps for a schema registry that is missing or not reachable."""

    name = "schema_registry_steps"
    accepts = (SchemaRegistryUnreachable,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        if not isinstance(ev, SchemaRegistryUnreachable):
            return []
        config = (
            "amazon-managed-kafka-event-source-config"
            if facts.esm.source_kind == "msk"
            else "self-managed-kafka-event-source-config"
        )
        text = _STEPS[ev.cause].format(registry=ev.registry, uuid=facts.esm.uuid, config=config)
        return [ManualStep(because=(finding.code,), text=f"{ev.detail}. {text}")]
