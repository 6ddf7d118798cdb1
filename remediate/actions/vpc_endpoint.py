"""Create a VPC endpoint for an AWS service the ESM's pollers cannot otherwise reach.

Exactly one endpoint per service and VPC, however often or concurrently this runs: the create call
carries a ClientToken derived from the plan and change ids (a retried or concurrent apply of the same
plan gets the same endpoint back), and `is_done` looks for any live endpoint of the service in the
VPC first (a re-plan after a crash sees the endpoint the first run made).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from remediate.actions.base import Action, ApplyContext, Draft, register
from remediate.actions.network_plan import fix_for
from remediate.actions.security_group import tag_spec
from remediate.errors import AwsError
from remediate.evidence import ServiceEndpointsUnreachable
from remediate.facts import VPC_ENDPOINT_LIVE_STATES, Facts
from remediate.findings import Finding
from remediate.observe.builders import vpc_endpoint_from_api
from remediate.plan import Change, ManualStep


class EndpointSpec(BaseModel):
    """CreateVpcEndpoint's parameters as planned: interface (private DNS, one subnet per AZ) or gateway."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    VpcId: str
    ServiceName: str
    VpcEndpointType: Literal["Interface", "Gateway"]
    PrivateDnsEnabled: bool | None = None
    SubnetIds: tuple[str, ...] | None = None
    SecurityGroupIds: tuple[str, ...] | None = None
    RouteTableIds: tuple[str, ...] | None = None


def live_endpoints(ctx: ApplyContext, vpc_id: str, service_name: str) -> list[dict[str, Any]]:
    """Endpoints of the service in the VPC that exist or are being made (a fresh read)."""
    found: list[dict[str, Any]] = ctx.aws.call(
        "ec2",
        "describe_vpc_endpoints",
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "service-name", "Values": [service_name]},
            {"Name": "vpc-endpoint-state", "Values": list(VPC_ENDPOINT_LIVE_STATES)},
        ],
    )["VpcEndpoints"]
    return found


@register
class CreateVpcEndpoint(Action):
    """Create the interface (or, for S3, gateway) endpoint the finding says is missing."""

    name = "create_vpc_endpoint"
    created_id = "VpcEndpointId"
    order = 30
    permissions = (
        "ec2:DescribeVpcEndpoints",
        "ec2:CreateVpcEndpoint",
        "ec2:CreateTags",
        "ec2:DeleteVpcEndpoints",
        # Private DNS associates the service's private hosted zone with the VPC on the caller's behalf.
        "route53:AssociateVPCWithHostedZone",
    )

    accepts = (ServiceEndpointsUnreachable,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        out: list[Draft | ManualStep] = []
        for wanted in fix_for(facts, finding.evidence).endpoints:
            spec = EndpointSpec.model_validate(wanted)
            after = spec.model_dump(mode="json", exclude_none=True)
            out.append(
                Draft(Change(id="", action=self.name, resource=spec.ServiceName, kind="create", after=after))
            )
        return out

    def _alive(self, ctx: ApplyContext, endpoint_id: str) -> bool:
        try:
            found = ctx.aws.call("ec2", "describe_vpc_endpoints", VpcEndpointIds=[endpoint_id])[
                "VpcEndpoints"
            ]
        except AwsError as exc:
            if exc.code == "InvalidVpcEndpointId.NotFound":
                return False
            raise
        return any(vpc_endpoint_from_api(e).live for e in found)

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        if change.kind == "delete":
            return not self._alive(ctx, change.resource)
        spec = EndpointSpec.model_validate(change.after)
        return bool(live_endpoints(ctx, spec.VpcId, spec.ServiceName))

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        if change.kind == "delete":
            ctx.progress(f"deleting endpoint {change.resource}")
            ctx.aws.call("ec2", "delete_vpc_endpoints", VpcEndpointIds=[change.resource])
            return {"previous": change.before}
        spec = EndpointSpec.model_validate(change.after)
        existing = live_endpoints(ctx, spec.VpcId, spec.ServiceName)
        if existing:
            return {"VpcEndpointId": existing[0]["VpcEndpointId"], "created": False}
        ctx.progress(f"creating {spec.VpcEndpointType.lower()} endpoint {spec.ServiceName} in {spec.VpcId}")
        params = spec.model_dump(exclude_none=True)
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
        short = spec.ServiceName.rsplit(".", 1)[-1]
        endpoint = ctx.aws.call(
            "ec2",
            "create_vpc_endpoint",
            ClientToken=ctx.client_token(change),
            TagSpecifications=tag_spec("vpc-endpoint", ctx, f"remediate-{short}"),
            **params,
        )["VpcEndpoint"]
        return {"VpcEndpointId": endpoint["VpcEndpointId"], "created": True}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        if change.kind == "delete":
            return f"endpoint {change.resource} still exists" if self._alive(ctx, change.resource) else None
        spec = EndpointSpec.model_validate(change.after)
        found = live_endpoints(ctx, spec.VpcId, spec.ServiceName)
        if not found:
            return f"no endpoint for {spec.ServiceName} in {spec.VpcId}"
        if len(found) > 1:
            return f"{len(found)} endpoints for {spec.ServiceName} in {spec.VpcId}, expected one"
        return None
