"""put_vpc_endpoint_policy: let the calls the ESM needs through a VPC endpoint's policy.

The plan is the smallest patch `remediate.policy` can make to the endpoint's current policy for every
need of that endpoint (not only the finding's): two findings about one endpoint then plan the same
change, and applying it once fixes both. For Lambda's service principal the statement it adds is the one
the Lambda guide documents (the one action, on "Resource": "*"); a policy limited to the organization
gets that statement too, since the service principal belongs to no organization. Apply writes the
document only if the endpoint still has the policy the plan was made from, so a policy edited in
between is never overwritten, and sends the compact text whose size was checked against the 20,480
characters AWS counts whitespace included (`policy.to_text`).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from remediate import required_access
from remediate.actions.base import Action, ApplyContext, Draft, register
from remediate.errors import AwsError
from remediate.evidence import EndpointPolicyDenies, RoleNotAssumable
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep
from remediate.policy import FULL_ACCESS, VPC_ENDPOINT_POLICY_LIMIT, PolicyError, parse, patch, to_text

_SIDS = {
    "lambda": "RemediateLambdaInvoke",
    "sts": "RemediateLambdaAssumeRole",
    "secretsmanager": "RemediateSecretRead",
}


def read_endpoint_policy(ctx: ApplyContext, endpoint_id: str) -> dict[str, Any] | None:
    raw = ctx.aws.call("ec2", "describe_vpc_endpoints", VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
    if not raw:
        raise AwsError(f"VPC endpoint {endpoint_id} no longer exists", code="InvalidVpcEndpointId.NotFound")
    return parse(raw[0].get("PolicyDocument"))


def _same(current: dict[str, Any] | None, wanted: dict[str, Any] | None) -> bool:
    """No policy and the default full-access policy are the same thing to AWS (and to a rollback)."""
    return (current or FULL_ACCESS) == (wanted or FULL_ACCESS)


@register
class PutVpcEndpointPolicy(Action):
    """Patch the policy of each endpoint the finding names: the Lambda, Secrets Manager or destination
    endpoint that denies a need, or the STS endpoint that keeps Lambda from assuming the role."""

    name = "put_vpc_endpoint_policy"
    accepts = (EndpointPolicyDenies, RoleNotAssumable)
    order = 60
    permissions = ("ec2:DescribeVpcEndpoints", "ec2:ModifyVpcEndpoint")

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        out: list[Draft | ManualStep] = []
        by_id = {e.id: e for e in required_access.routed_endpoints(facts)}
        ev = finding.evidence
        if not isinstance(ev, EndpointPolicyDenies | RoleNotAssumable):
            return []
        for endpoint_id in ev.endpoints:
            endpoint = by_id.get(endpoint_id)
            if endpoint is None:
                continue
            service = required_access.endpoint_service(endpoint)
            current = required_access.endpoint_document(endpoint)
            requests = [n.primary for n in required_access.endpoint_needs(facts, endpoint)]
            try:
                new = patch(
                    current,
                    requests,
                    sid=_SIDS.get(service, "RemediateDestinationDelivery"),
                    limit=VPC_ENDPOINT_POLICY_LIMIT,
                )
            except PolicyError as exc:
                out.append(
                    ManualStep(
                        because=(finding.code,),
                        text=f"Edit the policy of VPC endpoint {endpoint_id} by hand: {exc}. It must allow "
                        + "; ".join(json.dumps(r.to_json(), sort_keys=True) for r in requests),
                    )
                )
                continue
            if new == current:
                continue
            change = Change(
                id="",
                action=self.name,
                resource=endpoint_id,
                before={"PolicyDocument": endpoint.policy},
                after={"PolicyDocument": new},
            )
            out.append(Draft(change))
        return out

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        return _same(read_endpoint_policy(ctx, change.resource), change.after["PolicyDocument"])

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        previous = (change.before or {}).get("PolicyDocument")
        current = read_endpoint_policy(ctx, change.resource)
        if not _same(current, previous):
            raise AwsError(
                f"the policy of {change.resource} changed since the plan was made; "
                "run `remediate plan` again",
                code="PolicyChanged",
            )
        ctx.progress(f"writing the policy of VPC endpoint {change.resource}")
        document = change.after["PolicyDocument"]
        # No document (a rollback to an endpoint that had none) means AWS's default policy, written out:
        # ResetPolicy is for gateway endpoints only (EC2 API reference, ModifyVpcEndpoint), and the
        # Lambda, STS and Secrets Manager endpoints are interface endpoints (issue 24, N12).
        text = to_text(document if document is not None else FULL_ACCESS)
        ctx.aws.call("ec2", "modify_vpc_endpoint", VpcEndpointId=change.resource, PolicyDocument=text)
        return {"previous": change.before}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        if _same(read_endpoint_policy(ctx, change.resource), change.after["PolicyDocument"]):
            return None
        return f"the policy of VPC endpoint {change.resource} is not the planned one"
