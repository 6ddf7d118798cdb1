"""kafka_acls: the Kafka ACLs a SASL/SCRAM or mTLS consumer needs, as exact manual commands.

Kafka ACLs live in the cluster, not in any AWS API, so remediate can neither read nor write them:
this action only ever plans manual steps: it makes no changes (so it has no apply or verify) and
needs no permissions. The user
name (SCRAM) or certificate subject (mTLS) is in the secret's value, which the plan never shows.
"""

from __future__ import annotations

from pydantic import BaseModel

from remediate import kafka
from remediate.actions.base import Draft, ManualAction, register
from remediate.evidence import ClusterAuthzAcl
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import ManualStep


@register
class KafkaAcls(ManualAction):
    """Manual kafka-acls.sh commands for the consumer's topic, group and cluster permissions."""

    name = "kafka_acls"
    accepts = (ClusterAuthzAcl,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        if not isinstance(ev, ClusterAuthzAcl):
            return []
        auth = ev.auth
        esm = facts.esm
        brokers = (
            facts.cluster.bootstrap_brokers.get(kafka.BROKER_STRING[auth]) if facts.cluster else None
        ) or ",".join(esm.bootstrap_servers)
        principal = (
            "User:USERNAME (the username in secret " + ev.secret + ")"
            if auth == "scram"
            else "User:CERTIFICATE_SUBJECT (the client certificate's subject, e.g. User:CN=consumer)"
        )
        base = (
            f"kafka-acls.sh --bootstrap-server {brokers.split(',')[0] or 'BROKER:PORT'} "
            "--command-config admin.properties --add --allow-principal"
        )
        user = "User:USERNAME" if auth == "scram" else "User:CERTIFICATE_SUBJECT"
        commands = [
            f'{base} "{user}" --operation Describe --operation Read --topic {topic}' for topic in esm.topics
        ]
        commands.append(f'{base} "{user}" --operation Describe --operation Read --group {esm.group_id}')
        commands.append(f'{base} "{user}" --operation DescribeConfigs --cluster')
        text = (
            f"Grant the consumer's Kafka principal ({principal}) the ACLs Lambda needs, with an admin "
            "client configuration:\n" + "\n".join(commands)
        )
        return [ManualStep(because=(finding.code,), text=text)]
