"""Turn on a VPC DNS attribute (enableDnsSupport / enableDnsHostnames) that private-DNS endpoints need.

ModifyVpcAttribute takes one attribute per call, so each attribute is its own change.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from remediate.actions.base import Action, ApplyContext, Draft, register
from remediate.evidence import BrokerDnsUnresolvable, VpcDnsDisabled
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep

ATTRIBUTES = {"EnableDnsSupport": "enableDnsSupport", "EnableDnsHostnames": "enableDnsHostnames"}


def read_attribute(ctx: ApplyContext, vpc_id: str, key: str) -> bool:
    raw = ctx.aws.call("ec2", "describe_vpc_attribute", VpcId=vpc_id, Attribute=ATTRIBUTES[key])
    return bool(raw[key]["Value"])


@register
class ModifyVpcAttribute(Action):
    """Set one DNS attribute of the VPC: on when planned, back to its previous value on rollback
    (the default `inverse` swaps before and after)."""

    name = "modify_vpc_attribute"
    order = 10
    permissions = ("ec2:DescribeVpcAttribute", "ec2:ModifyVpcAttribute")

    accepts = (VpcDnsDisabled, BrokerDnsUnresolvable)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        """The attributes that are off: both may be, for private-DNS endpoints; DNS support alone, for
        broker names the VPC's resolver cannot answer while support is off."""
        ev = finding.evidence
        if isinstance(ev, VpcDnsDisabled):
            vpc_id, off = (
                ev.vpc_id,
                {
                    "EnableDnsSupport": not ev.enableDnsSupport,
                    "EnableDnsHostnames": not ev.enableDnsHostnames,
                },
            )
        elif isinstance(ev, BrokerDnsUnresolvable) and ev.cause == "vpc-dns-support-off" and ev.vpc_id:
            vpc_id, off = ev.vpc_id, {"EnableDnsSupport": True}
        elif isinstance(ev, BrokerDnsUnresolvable) and ev.cause == "vpc-dns-hostnames-off" and ev.vpc_id:
            vpc_id, off = ev.vpc_id, {"EnableDnsHostnames": True}  # issue 24 (audit #10)
        else:
            return []
        return [
            Draft(Change(id="", action=self.name, resource=vpc_id, before={key: False}, after={key: True}))
            for key in ATTRIBUTES
            if off.get(key)
        ]

    def _key(self, change: Change) -> str:
        (key,) = change.after
        if key not in ATTRIBUTES:
            raise ValueError(f"modify_vpc_attribute: unknown attribute {key!r}")
        return str(key)

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        key = self._key(change)
        return read_attribute(ctx, change.resource, key) is bool(change.after[key])

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        key = self._key(change)
        wanted = bool(change.after[key])
        if (
            wanted
            and key == "EnableDnsHostnames"
            and not read_attribute(ctx, change.resource, "EnableDnsSupport")
        ):
            # AWS enables hostnames only on a VPC with DNS support; when both are off the plan holds
            # both changes, so turning support on first only brings forward a change already approved.
            ctx.progress(f"enabling enableDnsSupport on {change.resource} (hostnames need it)")
            ctx.aws.call(
                "ec2", "modify_vpc_attribute", VpcId=change.resource, EnableDnsSupport={"Value": True}
            )
        ctx.progress(f"setting {ATTRIBUTES[key]} to {str(wanted).lower()} on {change.resource}")
        value: dict[str, Any] = {key: {"Value": wanted}}
        ctx.aws.call("ec2", "modify_vpc_attribute", VpcId=change.resource, **value)
        return {"previous": change.before}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        key = self._key(change)
        actual = read_attribute(ctx, change.resource, key)
        return None if actual == change.after[key] else f"{change.resource} has {ATTRIBUTES[key]} {actual}"
