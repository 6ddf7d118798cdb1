"""Who else relies on what a rollback would remove: the shared resources of a VPC, of a role, and the
on-failure queue of a function.

Interface endpoints, and the security group remediate makes for them, belong to a VPC; the inline
policy `remediate-esm-access` belongs to an execution role. Every mapping whose pollers reach the
same cluster or VPC, or whose function runs with that role, relies on them, whether or not a remediate
run ever touched it (audit 2026-12-06, N2: another mapping of the same cluster planned "No problems
found" and broke when the first mapping's run was rolled back). So before a rollback deletes one of
them it lists the other Kafka mappings of the region, as it finds them now, and keeps the resource
while any of them relies on it, saying which. A mapping it cannot read is taken to rely on it: keeping
a resource is always safe, deleting one another mapping needs is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from remediate.aws import Aws
from remediate.errors import AwsError
from remediate.observe.listing import kafka_mappings
from remediate.plan import Change, Target

VPC_SHARED = frozenset({"create_vpc_endpoint", "create_security_group"})
ROLE_SHARED = frozenset({"put_role_policy"})
QUEUE_SHARED = frozenset({"create_failure_queue"})
"""The on-failure queue is named after the function (`remediate-failures-FUNCTION`), so another mapping of
the function, or one a person pointed at it, may send its discarded records there (issue 25)."""


@dataclass(frozen=True)
class Mapping:
    uuid: str
    function_arn: str
    source_arn: str
    subnets: tuple[str, ...]
    destination: str  # DestinationConfig.OnFailure.Destination, "" for none


def _mapping(raw: dict[str, Any]) -> Mapping:
    subnets = tuple(
        str(a.get("URI", "")).removeprefix("subnet:")
        for a in raw.get("SourceAccessConfigurations") or []
        if a.get("Type") == "VPC_SUBNET"
    )
    return Mapping(
        uuid=str(raw.get("UUID", "")),
        function_arn=str(raw.get("FunctionArn", "")),
        source_arn=str(raw.get("EventSourceArn", "")),
        subnets=subnets,
        destination=str(
            ((raw.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination") or ""
        ),
    )


class Dependants:
    """The other live Kafka mappings of the region, read once per rollback, and what each relies on."""

    def __init__(self, aws: Aws, target: Target) -> None:
        self.aws = aws
        self.target = target
        self._others: list[Mapping] | None = None
        self._vpcs: dict[str, str | None] = {}
        self._roles: dict[str, str | None] = {}

    def others(self) -> list[Mapping]:
        if self._others is None:
            self._others = [
                _mapping(raw)
                for raw in kafka_mappings(self.aws)
                if raw.get("UUID") != self.target.esm_uuid and raw.get("State") != "Deleting"
            ]
        return self._others

    def _vpc_of(self, mapping: Mapping) -> str | None:
        """The VPC the mapping's pollers run in (its cluster's, or its own subnets'); "" for none (a
        self-managed cluster reached over the internet), None if it cannot be read."""
        key = mapping.source_arn or ",".join(mapping.subnets)
        if key not in self._vpcs:
            try:
                subnets = list(mapping.subnets)
                if not subnets and mapping.source_arn.startswith("arn:") and ":kafka:" in mapping.source_arn:
                    info = self.aws.call("kafka", "describe_cluster_v2", ClusterArn=mapping.source_arn)
                    cluster = info.get("ClusterInfo") or {}
                    provisioned = (cluster.get("Provisioned") or {}).get("BrokerNodeGroupInfo") or {}
                    serverless = ((cluster.get("Serverless") or {}).get("VpcConfigs") or [{}])[0]
                    subnets = list(provisioned.get("ClientSubnets") or serverless.get("SubnetIds") or [])
                if not subnets:
                    self._vpcs[key] = ""
                    return ""
                found = self.aws.call("ec2", "describe_subnets", SubnetIds=subnets[:1])["Subnets"]
                self._vpcs[key] = str(found[0]["VpcId"]) if found else None
            except AwsError:
                self._vpcs[key] = None
        return self._vpcs[key]

    def _role_of(self, function_arn: str) -> str | None:
        if function_arn not in self._roles:
            try:
                config = self.aws.call("lambda", "get_function_configuration", FunctionName=function_arn)
                self._roles[function_arn] = str(config.get("Role", "")).rsplit("/", 1)[-1] or None
            except AwsError:
                self._roles[function_arn] = None
        return self._roles[function_arn]

    def relying_on(self, original: Change, vpc_id: str | None) -> list[str]:
        """The other mappings that rely on what `original` (a change of the run being undone) made."""
        found = []
        for m in self.others():
            if original.action in VPC_SHARED:
                same_cluster = bool(self.target.cluster_arn) and m.source_arn == self.target.cluster_arn
                vpc = None if same_cluster else self._vpc_of(m)
                if same_cluster or vpc is None or vpc == vpc_id:
                    found.append(m.uuid)
            elif original.action in ROLE_SHARED:
                role = self._role_of(m.function_arn)
                if role is None or role == original.resource:
                    found.append(m.uuid)
            elif original.action in QUEUE_SHARED and m.destination == (original.after or {}).get("QueueArn"):
                found.append(m.uuid)
        return found
