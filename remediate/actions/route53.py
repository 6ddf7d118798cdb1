"""associate_vpc_with_hosted_zone: let the ESM's VPC resolve broker names held in a private zone.

A private hosted zone answers only inside the VPCs associated with it. When the broker names of a
self-managed source live in such a zone and the ESM's VPC is not one of them, associating the VPC is
the whole fix, and it is additive: no existing association changes. Every other cause of an
unresolvable name (no record, no zone, public names that do not resolve) needs a person, so this
action plans exact manual steps for those.

An association cannot be tagged; the run id goes into the change's Comment instead.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from remediate.actions.base import Action, ApplyContext, Draft, register
from remediate.errors import AwsError
from remediate.evidence import BrokerDnsUnresolvable
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep


def zone_vpcs(ctx: ApplyContext, zone_id: str) -> list[str]:
    """The VPCs the zone is associated with now (a fresh read)."""
    raw = ctx.aws.call("route53", "get_hosted_zone", Id=zone_id)
    return [v["VPCId"] for v in raw.get("VPCs", []) if v.get("VPCId")]


def _manual(facts: Facts, ev: BrokerDnsUnresolvable) -> str:
    hosts = ", ".join(ev.hosts)
    cause = ev.cause
    if cause == "zone-without-record" and facts.esm.source_kind == "msk":  # issue 21 (item 7)
        brokers = ", ".join(ev.broker_ids) or "?"
        return (
            f"Private hosted zone {ev.zone_name} ({ev.zone_id}) answers for the MSK broker name(s) {hosts} "
            f"(broker(s) {brokers}) in {ev.vpc_id}, shadowing MSK's own DNS there, but has no record for "
            "them. Add an A record with each broker's address (its ClientVpcIpAddress in `aws kafka "
            f"list-nodes --cluster-arn {facts.esm.event_source_arn}`): `aws route53 "
            f"change-resource-record-sets --hosted-zone-id {ev.zone_id} --change-batch "
            "file://broker-records.json`; or, if the zone was not meant to answer for MSK's names, "
            f"disassociate it from {ev.vpc_id}."
        )
    if cause == "zone-without-record":
        zone = ev.zone_id
        return (
            f"Private hosted zone {ev.zone_name} ({zone}) answers for {hosts} in {ev.vpc_id} "
            "but has no record for it. Add an A record with each broker's address (write the change "
            "batch to a file first): `aws route53 change-resource-record-sets --hosted-zone-id "
            f"{zone} --change-batch file://broker-records.json`, or correct the bootstrap servers: "
            f"`aws lambda update-event-source-mapping --uuid {facts.esm.uuid} --self-managed-event-source "
            '\'{"Endpoints":{"KAFKA_BOOTSTRAP_SERVERS":["HOST:PORT"]}}\'`.'
        )
    where = (
        "the internet (the ESM has no VPC access configured, so it uses public DNS)"
        if ev.placement == "internet"
        else f"VPC {ev.vpc_id}"
    )
    return (
        f"Broker name(s) {hosts} do not resolve (checked from {ev.resolved_from or 'this machine'}). "
        f"The ESM resolves them from {where}. Publish them in DNS that place can reach: for private "
        "brokers, configure the ESM with VPC_SUBNET and VPC_SECURITY_GROUP source access in a VPC whose "
        "resolver knows them (a Route 53 private hosted zone associated with that VPC, or a Route 53 "
        "Resolver forwarding rule to your DNS servers); or correct the bootstrap servers with "
        f"`aws lambda update-event-source-mapping --uuid {facts.esm.uuid} --self-managed-event-source "
        '\'{"Endpoints":{"KAFKA_BOOTSTRAP_SERVERS":["HOST:PORT"]}}\'`. Check the names from inside '
        "the VPC with `dig +short BROKER_HOST` on an instance in one of the ESM's subnets."
    )


@register
class AssociateVpcWithHostedZone(Action):
    """Associate the ESM's VPC with the private hosted zone that holds the broker names."""

    name = "associate_vpc_with_hosted_zone"
    accepts = (BrokerDnsUnresolvable,)
    order = 15
    permissions = (
        "route53:GetHostedZone",
        "route53:AssociateVPCWithHostedZone",
        "route53:DisassociateVPCFromHostedZone",
        "route53:GetChange",
        "ec2:DescribeVpcs",  # Route 53 checks the caller may see the VPC it associates
    )

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        if not isinstance(ev, BrokerDnsUnresolvable) or ev.cause in (
            "vpc-dns-support-off",
            "vpc-dns-hostnames-off",
        ):
            return []  # modify_vpc_attribute turns the attribute on (hostnames: issue 24, audit #10)
        zone = next((z for z in facts.dns.zones if z.id == ev.zone_id), None) if facts.dns else None
        if ev.cause != "zone-not-associated" or zone is None or not ev.vpc_id:
            return [ManualStep(because=(finding.code,), text=_manual(facts, ev))]
        vpc_id = ev.vpc_id
        change = Change(
            id="",
            action=self.name,
            resource=zone.id,
            before={"VPCs": sorted(zone.vpc_ids)},
            after={
                "VPCs": sorted({*zone.vpc_ids, vpc_id}),
                "AddVPC": {"VPCId": vpc_id, "VPCRegion": facts.region},
            },
        )
        return [Draft(change)]

    def inverse(self, change: Change, outputs: dict[str, Any]) -> Change | None:
        """Undo the association this run made (a rollback never removes one it did not make)."""
        return change.model_copy(
            update={
                "id": f"undo-{change.id}",
                "before": {"VPCs": change.after["VPCs"]},
                "after": {"VPCs": (change.before or {}).get("VPCs", []), "RemoveVPC": change.after["AddVPC"]},
            }
        )

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        if "RemoveVPC" in change.after:
            return change.after["RemoveVPC"]["VPCId"] not in zone_vpcs(ctx, change.resource)
        return change.after["AddVPC"]["VPCId"] in zone_vpcs(ctx, change.resource)

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        if "RemoveVPC" in change.after:
            gone = change.after["RemoveVPC"]
            ctx.progress(f"disassociating {gone['VPCId']} from private hosted zone {change.resource}")
            result = ctx.aws.call(
                "route53",
                "disassociate_vpc_from_hosted_zone",
                HostedZoneId=change.resource,
                VPC={"VPCId": gone["VPCId"], "VPCRegion": gone["VPCRegion"]},
                Comment=f"remediate:run-id={ctx.run_id} rollback",
            )
            self._wait_in_sync(ctx, str(result["ChangeInfo"]["Id"]))
            return {"previous": change.before}
        vpc = change.after["AddVPC"]
        ctx.progress(f"associating {vpc['VPCId']} with private hosted zone {change.resource}")
        try:
            result = ctx.aws.call(
                "route53",
                "associate_vpc_with_hosted_zone",
                HostedZoneId=change.resource,
                VPC={"VPCId": vpc["VPCId"], "VPCRegion": vpc["VPCRegion"]},
                Comment=f"remediate:run-id={ctx.run_id}",
            )
        except AwsError:
            if self.is_done(change, ctx):  # a concurrent run made the same association
                return {"previous": change.before, "associated": vpc["VPCId"]}
            raise
        self._wait_in_sync(ctx, str(result["ChangeInfo"]["Id"]))
        return {"previous": change.before, "associated": vpc["VPCId"]}

    def _wait_in_sync(self, ctx: ApplyContext, change_id: str) -> None:
        """Route 53 applies an association asynchronously; wait (bounded) until it reports INSYNC."""
        deadline = time.monotonic() + ctx.settings.esm_transition_timeout
        while ctx.aws.call("route53", "get_change", Id=change_id)["ChangeInfo"]["Status"] != "INSYNC":
            if time.monotonic() >= deadline:
                raise AwsError(f"Route 53 change {change_id} still PENDING", operation="GetChange")
            time.sleep(ctx.settings.esm_poll_interval)

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        if "RemoveVPC" in change.after:
            vpc_id = change.after["RemoveVPC"]["VPCId"]
            if vpc_id not in zone_vpcs(ctx, change.resource):
                return None
            return f"private hosted zone {change.resource} is still associated with {vpc_id}"
        vpc_id = change.after["AddVPC"]["VPCId"]
        if vpc_id in zone_vpcs(ctx, change.resource):
            return None
        return f"private hosted zone {change.resource} is not associated with {vpc_id}"
