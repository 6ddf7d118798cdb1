"""Create a VPC endpoint for an AWS service the ESM's pollers cannot otherwise reach.

Exactly one endpoint per service and VPC, however often or concurrently this runs: `apply` first
looks for this run's own endpoint (its run-id tag, for a create the crash or a lost answer
interrupted), then for any live endpoint of the service in the VPC (adopted, not made); the create
call carries a ClientToken derived from the facts the plan came from and the change itself, so every
run that planned it from the same state (a retry, a resume, a concurrent run) gets one endpoint.
Verification waits for `available` and compares every planned attribute; a rollback refuses an
endpoint whose policy or settings were changed since.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from remediate.actions.base import Action, ApplyContext, Draft, register
from remediate.actions.network_plan import fix_for
from remediate.actions.security_group import RUN_TAG, tag_spec
from remediate.errors import AwsError
from remediate.evidence import ServiceEndpointsUnreachable
from remediate.facts import VPC_ENDPOINT_LIVE_STATES, Facts, VpcEndpoint
from remediate.findings import Finding
from remediate.observe.builders import vpc_endpoint_from_api
from remediate.plan import Change, ManualStep
from remediate.policy import FULL_ACCESS


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
    finds_own = True
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

    def _read(self, ctx: ApplyContext, endpoint_id: str) -> dict[str, Any] | None:
        """A fresh read of one endpoint; None once it is deleted (or was never there)."""
        try:
            found = ctx.aws.call("ec2", "describe_vpc_endpoints", VpcEndpointIds=[endpoint_id])[
                "VpcEndpoints"
            ]
        except AwsError as exc:
            if exc.code == "InvalidVpcEndpointId.NotFound":
                return None
            raise
        live = [e for e in found if vpc_endpoint_from_api(e).live]
        return live[0] if live else None

    def found(self, change: Change, ctx: ApplyContext) -> dict[str, Any] | None:
        if change.kind != "create":
            return None
        spec = EndpointSpec.model_validate(change.after)
        for endpoint in live_endpoints(ctx, spec.VpcId, spec.ServiceName):
            if vpc_endpoint_from_api(endpoint).tags.get(RUN_TAG) == ctx.run_id:
                return {"VpcEndpointId": endpoint["VpcEndpointId"], "created": True}
        return None

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        if change.kind == "delete":
            return self._read(ctx, change.resource) is None
        spec = EndpointSpec.model_validate(change.after)
        return bool(live_endpoints(ctx, spec.VpcId, spec.ServiceName))

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        if change.kind == "delete":
            return self._delete(change, ctx)
        mine = self.found(change, ctx)
        if mine is not None:  # made by this run before a crash or a lost answer
            return mine
        spec = EndpointSpec.model_validate(change.after)
        existing = live_endpoints(ctx, spec.VpcId, spec.ServiceName)
        if existing:
            return {"VpcEndpointId": existing[0]["VpcEndpointId"], "created": False}
        ctx.progress(f"creating {spec.VpcEndpointType.lower()} endpoint {spec.ServiceName} in {spec.VpcId}")
        endpoint = self._create(change, ctx, spec, ctx.client_token(change))
        if endpoint["State"].lower() in GONE:
            # The token was spent on an endpoint since deleted (an earlier run, rolled back): EC2
            # answers a reused token with that original endpoint, so this run needs a token of its own.
            endpoint = self._create(change, ctx, spec, ctx.client_token(change, salt=ctx.run_id))
        made = vpc_endpoint_from_api(endpoint)
        # The same token is sent by every run that planned this change from the same state: the
        # endpoint may be another run's, which its run-id tag tells.
        return {"VpcEndpointId": made.id, "created": made.tags.get(RUN_TAG, ctx.run_id) == ctx.run_id}

    def _create(self, change: Change, ctx: ApplyContext, spec: EndpointSpec, token: str) -> dict[str, Any]:
        params = spec.model_dump(exclude_none=True)
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
        short = spec.ServiceName.rsplit(".", 1)[-1]
        endpoint: dict[str, Any] = ctx.aws.call(
            "ec2",
            "create_vpc_endpoint",
            ClientToken=token,
            TagSpecifications=tag_spec("vpc-endpoint", ctx, f"remediate-{short}"),
            **params,
        )["VpcEndpoint"]
        return endpoint

    def _delete(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        ctx.progress(f"deleting endpoint {change.resource}")
        answer = ctx.aws.call("ec2", "delete_vpc_endpoints", VpcEndpointIds=[change.resource])
        for failed in answer.get("Unsuccessful", []):
            error = failed.get("Error", {})
            raise AwsError(
                f"ec2:delete_vpc_endpoints failed for {change.resource}: "
                f"{error.get('Code', '')}: {error.get('Message', '')}",
                code=str(error.get("Code", "")),
                operation="delete_vpc_endpoints",
            )
        # Deletion is asynchronous (`deleting`, then `deleted`); a security group the endpoint used
        # can be deleted only after, so wait here, bounded like every wait of an apply.
        deadline = time.monotonic() + ctx.settings.esm_transition_timeout
        while self._read(ctx, change.resource) is not None:
            if time.monotonic() >= deadline:
                raise AwsError(f"endpoint {change.resource} still exists after deletion was requested")
            time.sleep(ctx.settings.esm_poll_interval)
        return {"previous": change.before}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        """The endpoint is `available` (waited for, bounded) and has every planned attribute."""
        if change.kind == "delete":
            return f"endpoint {change.resource} still exists" if self._read(ctx, change.resource) else None
        spec = EndpointSpec.model_validate(change.after)
        deadline = time.monotonic() + ctx.settings.esm_transition_timeout
        while True:
            found = live_endpoints(ctx, spec.VpcId, spec.ServiceName)
            if not found:
                return f"no endpoint for {spec.ServiceName} in {spec.VpcId}"
            if len(found) > 1:
                return f"{len(found)} endpoints for {spec.ServiceName} in {spec.VpcId}, expected one"
            endpoint = vpc_endpoint_from_api(found[0])
            if endpoint.state.lower() != "pending":
                break
            if time.monotonic() >= deadline:
                waited = ctx.settings.esm_transition_timeout
                return f"endpoint {endpoint.id} is still pending after {waited:.0f}s"
            ctx.check_cancelled()
            time.sleep(ctx.settings.esm_poll_interval)
        if endpoint.state.lower() != "available":
            # pendingAcceptance: the service did not accept it (AWS services accept automatically)
            return f"endpoint {endpoint.id} is {endpoint.state}, not available"
        return _differences(endpoint, spec)

    def drift(self, change: Change, outputs: dict[str, Any], ctx: ApplyContext) -> str | None:
        """A created endpoint is refused by a rollback once its policy or settings were changed."""
        if change.kind != "create":
            return self.verify(change, ctx)
        raw = self._read(ctx, str(outputs.get("VpcEndpointId", "")))
        if raw is None:
            return None  # already gone: nothing left to undo
        endpoint = vpc_endpoint_from_api(raw)
        if not _default_policy(endpoint.policy):
            return f"the policy of endpoint {endpoint.id} was replaced"
        return _differences(endpoint, EndpointSpec.model_validate(change.after))

    def releases(self, change: Change, ctx: ApplyContext) -> set[str]:
        """The endpoint and its network interfaces, which hold its security groups until released."""
        raw = self._read(ctx, change.resource)
        return {change.resource, *(raw or {}).get("NetworkInterfaceIds", [])}


GONE = ("deleting", "deleted")


def _differences(endpoint: VpcEndpoint, spec: EndpointSpec) -> str | None:
    """The first planned attribute the endpoint does not have, in one line."""
    wanted: list[tuple[str, Any, Any]] = [
        ("type", spec.VpcEndpointType.lower(), endpoint.type.lower()),
    ]
    if spec.SubnetIds is not None:
        wanted.append(("subnets", sorted(spec.SubnetIds), sorted(endpoint.subnet_ids)))
    if spec.SecurityGroupIds is not None:
        wanted.append(("security groups", sorted(spec.SecurityGroupIds), sorted(endpoint.security_group_ids)))
    if spec.RouteTableIds is not None:
        wanted.append(("route tables", sorted(spec.RouteTableIds), sorted(endpoint.route_table_ids)))
    if spec.PrivateDnsEnabled is not None:
        wanted.append(("private DNS", spec.PrivateDnsEnabled, endpoint.private_dns))
    for name, planned, actual in wanted:
        if planned != actual:
            return f"endpoint {endpoint.id} has {name} {actual}, planned {planned}"
    return None


def _default_policy(document: dict[str, Any] | None) -> bool:
    """No policy, or the full-access one AWS gives an endpoint created without one (any Version)."""
    if document is None:
        return True
    statements = document.get("Statement")
    statements = statements if isinstance(statements, list) else [statements]
    return bool(statements == FULL_ACCESS["Statement"])
