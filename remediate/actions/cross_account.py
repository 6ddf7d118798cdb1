"""cross_account_owner_steps: what the owner of a cross-account MSK cluster must allow, as manual steps.

A cross-account mapping reads the cluster through a managed VPC connection ("Creating cross-account event
source mappings in Lambda", https://docs.aws.amazon.com/lambda/latest/dg/msk-cross-account.html). From the
consumer's account remediate can read the connection (kafka:DescribeVpcConnection) and its own role, but
not the owner's cluster, its cluster policy or its Kafka ACLs: those are the owner's to change, so this
action only plans the steps for the owner's side, naming the exact cluster, topic and group ARNs.
"""

from __future__ import annotations

from pydantic import BaseModel

from remediate import required_access
from remediate.actions.base import Draft, ManualAction, register
from remediate.evidence import ClusterAuthzCrossAccount
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import ManualStep


@register
class CrossAccountOwnerSteps(ManualAction):
    """The cluster owner's side of a cross-account mapping: the cluster policy, or the Kafka ACLs."""

    name = "cross_account_owner_steps"
    accepts = (ClusterAuthzCrossAccount,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        if not isinstance(ev, ClusterAuthzCrossAccount):
            return []
        cluster = ev.cluster or "CLUSTER_ARN (the VPC connection's TargetClusterArn)"
        owner = ev.owner_account or "the cluster's"
        consumer = required_access.account_of(facts) or "this account"
        role = facts.role.arn if facts.role else facts.function.role_arn if facts.function else "the role"
        lines = [
            f"The cluster {cluster} belongs to account {owner}; from account {consumer} only the VPC "
            f"connection {ev.connection} can be read. In account {owner}:",
            f"  1. aws kafka get-cluster-policy --cluster-arn {cluster}   # must let account {consumer} use "
            "the cluster over multi-VPC connectivity",
        ]
        if ev.mode == "iam":
            grants = "; ".join(
                f"{n.primary.action} on {n.primary.resource}"
                for n in required_access.kafka_cluster_needs(facts)
            )
            lines.append(
                f"  2. the cluster policy must allow {role}: {grants or 'the kafka-cluster actions on the '}"
                f"cluster, topic and group ARNs; add them with `aws kafka put-cluster-policy --cluster-arn "
                f"{cluster} --policy file://cluster-policy.json --current-version VERSION` (keep its current "
                "statements)"
            )
        else:
            topics = ", ".join(ev.topics)
            lines.append(
                "  2. the Kafka ACLs must allow the consumer's principal (the SCRAM user or the client "
                f"certificate's subject): Describe and Read on topic {topics}, Describe and Read on group "
                f"{ev.group}, DescribeConfigs on the cluster (kafka-acls.sh --add --allow-principal ...)"
            )
        return [ManualStep(because=(finding.code,), text="\n".join(lines))]
