"""update_broker_storage: grow every broker's EBS storage (kafka:UpdateBrokerStorage); free_broker_storage,
its manual alternative (`--fix-with free-space`); and the manual steps for what no safe API call fixes on
the brokers (CPU, connections).

MSK's rules (`remediate.health`): storage only grows, to at most 16384 GiB per broker, only while the cluster
is ACTIVE, every update names the cluster's current version, and a cool-down of at least six hours follows
each storage scaling event. So the change is planned from the finding's computed target, re-reads the
cluster before writing (its current version, whether the size is already there), and is never undone:
storage cannot shrink, so a rollback leaves it and says so.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from remediate import health, kafka
from remediate.actions.base import Action, ApplyContext, Draft, ManualAction, register
from remediate.errors import AwsError
from remediate.evidence import BrokerConnectionsExhausted, BrokerCpuSaturated, BrokerStorageFull
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep


def _cluster(ctx: ApplyContext, arn: str) -> dict[str, Any]:
    info: dict[str, Any] = ctx.aws.call("kafka", "describe_cluster_v2", ClusterArn=arn)["ClusterInfo"]
    return info


def _volume(info: dict[str, Any]) -> int | None:
    nodes = info.get("Provisioned", {}).get("BrokerNodeGroupInfo", {})
    size = ((nodes.get("StorageInfo") or {}).get("EbsStorageInfo") or {}).get("VolumeSize")
    return int(size) if size is not None else None


def _storage_alternative(ev: BrokerStorageFull) -> str:
    return (
        f"Free storage on the brokers of {ev.cluster}: lower `retention.ms` / `retention.bytes` of the "
        f"largest topics (`kafka-configs.sh --alter --entity-type topics ...`), or turn on tiered storage. "
        f"MSK storage only grows (at most {ev.max_gib} GiB per broker) and each scaling event is followed by "
        f"a cool-down of at least {health.STORAGE_COOLDOWN_HOURS} hours; `aws kafka "
        "list-cluster-operations-v2 --cluster-arn CLUSTER_ARN` shows the last one."
    )


@register
class UpdateBrokerStorage(Action):
    """Grow the EBS storage of every broker to the target the finding computed."""

    name = "update_broker_storage"
    accepts = (BrokerStorageFull,)
    order = 40
    permissions = ("kafka:DescribeClusterV2", "kafka:UpdateBrokerStorage", "kafka:TagResource")
    irreversible = True  # MSK storage only grows

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, BrokerStorageFull)
        if facts.cluster is not None and facts.cluster.express:
            return []  # issue 21 (item 8): Express brokers have no storage to grow (`remediate.express`)
        why = kafka.updates_refused(facts.cluster)
        if why is not None:
            return [
                ManualStep(because=(finding.code,), text=f"{why}: storage can be scaled only when ACTIVE.")
            ]
        if ev.target_gib is None or ev.volume_gib is None:
            # Nothing to grow (at the maximum, or MSK manages the storage): freeing space is the fix.
            return [ManualStep(because=(finding.code,), text=_storage_alternative(ev))]
        change = Change(
            id="",
            action=self.name,
            resource=ev.cluster,
            before={"VolumeSizeGB": ev.volume_gib},
            after={"VolumeSizeGB": ev.target_gib},
        )
        return [Draft(change)]

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        return (_volume(_cluster(ctx, change.resource)) or 0) >= int(change.after["VolumeSizeGB"])

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        target = int(change.after["VolumeSizeGB"])
        info = _cluster(ctx, change.resource)
        ctx.progress(f"growing the storage of every broker of {change.resource} to {target} GiB")
        # KafkaBrokerNodeId "All", as in the MSK developer guide's example ("Manual scaling for Standard
        # brokers"): storage is updated for every broker or none.
        made = ctx.aws.call(
            "kafka",
            "update_broker_storage",
            ClusterArn=change.resource,
            CurrentVersion=info["CurrentVersion"],
            TargetBrokerEBSVolumeInfo=[{"KafkaBrokerNodeId": "All", "VolumeSizeGB": target}],
        )
        self._wait(ctx, change.resource, target)
        # issue 23 (N9): the disk readings of the next metrics window are percents of the old size
        before = int(change.before["VolumeSizeGB"]) if change.before else target
        grown = health.storage_grown_value(before, target, time.time())
        try:
            ctx.aws.call(
                "kafka", "tag_resource", ResourceArn=change.resource, Tags={health.STORAGE_GROWN_TAG: grown}
            )
        except AwsError as exc:  # the growth is made; only the next plan's reading of old readings suffers
            ctx.progress(f"could not tag {change.resource} with {health.STORAGE_GROWN_TAG} ({exc})")
        return {"ClusterOperationArn": made.get("ClusterOperationArn"), "previous": change.before}

    def _wait(self, ctx: ApplyContext, arn: str, target: int) -> None:
        """Until MSK reports the new size and the cluster is ACTIVE again, within the transition timeout."""
        deadline = time.monotonic() + ctx.settings.esm_transition_timeout
        while True:
            info = _cluster(ctx, arn)
            if (_volume(info) or 0) >= target and info.get("State") == kafka.CLUSTER_ACTIVE:
                return
            if time.monotonic() >= deadline:
                raise AwsError(
                    f"MSK cluster {arn} is {info.get('State')} with {_volume(info)} GiB per broker"
                )
            ctx.progress(f"MSK cluster {arn} is {info.get('State')}; waiting for {target} GiB and ACTIVE")
            time.sleep(ctx.settings.esm_poll_interval)

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        size = _volume(_cluster(ctx, change.resource))
        target = int(change.after["VolumeSizeGB"])
        return (
            None
            if (size or 0) >= target
            else f"{change.resource} has {size} GiB per broker, expected {target}"
        )

    def inverse(self, change: Change, outputs: dict[str, Any]) -> Change | None:
        raise NotImplementedError(
            f"MSK storage only grows: {change.resource} keeps {change.after['VolumeSizeGB']} GiB per broker"
        )


@register
class FreeBrokerStorage(ManualAction):
    """The manual alternative to growing storage: free it (retention, tiered storage)."""

    name = "free_broker_storage"
    accepts = (BrokerStorageFull,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, BrokerStorageFull)
        return [ManualStep(because=(finding.code,), text=_storage_alternative(ev))]


@register
class BrokerCapacitySteps(ManualAction):
    """What a person decides on the brokers: more or larger brokers, fewer connections."""

    name = "broker_capacity_steps"
    accepts = (BrokerCpuSaturated, BrokerConnectionsExhausted)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        if isinstance(ev, BrokerCpuSaturated):
            text = (
                f"Broker CPU (user + system) reached {ev.worst:g}% on MSK cluster {ev.cluster} "
                f"({ev.instance_type or 'instance type unknown'}); MSK advises staying under "
                f"{ev.limit:g}%. Add "
                f"brokers (`aws kafka update-broker-count`) or move to a larger broker type (`aws kafka "
                f"update-broker-type --cluster-arn {ev.cluster} --current-version VERSION "
                "--target-instance-type "
                "TYPE`), then rebalance partitions; or lower the load (fewer partitions per broker, larger "
                "producer batches)."
            )
        else:
            assert isinstance(ev, BrokerConnectionsExhausted)
            text = (
                f"Brokers of MSK cluster {ev.cluster} hold up to {ev.worst:g} connections against the IAM "
                "access "
                f"control quota of {ev.limit:g} per broker. Find the clients that open the most (each "
                "client, "
                "producer and consumer, and each Lambda poller holds its own), raise "
                "`reconnect.backoff.ms` on "
                "clients that reconnect in loops, or add brokers; the quota itself is set by the "
                "`listener.name.client_iam.max.connections` broker configuration (MSK warns that raising it "
                "can make brokers unavailable)."
            )
        return [ManualStep(because=(finding.code,), text=text)]
