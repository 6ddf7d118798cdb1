"""Security-group actions: add one rule (ingress or egress), or create the group VPC endpoints use.

Rules are planned from the blocked paths of the network findings (`network_plan`) and always name a
security group as the peer, or at most the VPC's own CIDR for a self-managed broker: `RuleSpec`
refuses any CIDR of prefix length 0 (0.0.0.0/0, ::/0), in the plan and again at apply time. Every write is
idempotent: a rule that already exists (InvalidPermission.Duplicate) or a group that another run
created (InvalidGroup.Duplicate, found again by its name) is success, not an error.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from remediate.actions.base import Action, ApplyContext, Draft, register
from remediate.actions.network_plan import fix_for
from remediate.errors import AwsError
from remediate.evidence import BrokerPortsBlocked, ServiceEndpointsUnreachable
from remediate.facts import Facts, SecurityGroup
from remediate.findings import Finding
from remediate.observe.builders import security_group_from_api, security_group_rule_from_api
from remediate.plan import Change, ManualStep
from remediate.reachability import Peer, rule_allows

RUN_TAG = "remediate:run-id"


class RuleSpec(BaseModel):
    """One tcp rule to add to a group, peer by group (or by a CIDR no wider than the VPC's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    IpProtocol: Literal["tcp"] = "tcp"
    FromPort: int
    ToPort: int
    PeerGroupId: str | None = None
    PeerGroupName: str | None = None  # set when the peer is a group this plan creates
    CidrIp: str | None = None
    Description: str

    @field_validator("CidrIp")
    @classmethod
    def _not_open(cls, value: str | None) -> str | None:
        if value is not None and ipaddress.ip_network(value, strict=False).prefixlen == 0:
            raise ValueError(f"refusing to open a security group to {value}")
        return value

    def permission(self, peer_group: str | None) -> dict[str, Any]:
        perm: dict[str, Any] = {
            "IpProtocol": self.IpProtocol,
            "FromPort": self.FromPort,
            "ToPort": self.ToPort,
        }
        if peer_group:
            perm["UserIdGroupPairs"] = [{"GroupId": peer_group, "Description": self.Description}]
        else:
            perm["IpRanges"] = [{"CidrIp": self.CidrIp, "Description": self.Description}]
        return perm


def tag_spec(resource_type: str, ctx: ApplyContext, name: str = "") -> list[dict[str, Any]]:
    tags = [{"Key": RUN_TAG, "Value": ctx.run_id}] + ([{"Key": "Name", "Value": name}] if name else [])
    return [{"ResourceType": resource_type, "Tags": tags}]


def read_group(ctx: ApplyContext, group_id: str) -> SecurityGroup:
    """A fresh read of one group (apply and verify must see AWS as it is now, not the cache)."""
    raw = ctx.aws.call("ec2", "describe_security_groups", GroupIds=[group_id])["SecurityGroups"][0]
    return security_group_from_api(raw)


def find_group(ctx: ApplyContext, vpc_id: str, name: str) -> SecurityGroup | None:
    """The group of that name in the VPC: how a created group is found again by a re-run."""
    raw = ctx.aws.call(
        "ec2",
        "describe_security_groups",
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [name]}],
    )["SecurityGroups"]
    return security_group_from_api(raw[0]) if raw else None


class _AuthorizeRule(Action):
    """Add one rule in `direction` to a group; shared by the ingress and egress actions."""

    direction: Literal["ingress", "egress"]
    accepts = (BrokerPortsBlocked, ServiceEndpointsUnreachable)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        """This direction's rules of the finding's network fix, and the fix's manual steps (NACL rules,
        443 to the internet, private DNS): both rule actions list them, the plan keeps one of each."""
        fix = fix_for(facts, finding.evidence)
        out: list[Draft | ManualStep] = []
        for rule in fix.unique_rules():
            if rule["direction"] != self.direction:
                continue
            spec = RuleSpec.model_validate(
                {k: v for k, v in rule.items() if k not in ("direction", "GroupId")}
            )
            after = spec.model_dump(exclude_none=True)
            out.append(
                Draft(Change(id="", action=self.name, resource=rule["GroupId"], kind="create", after=after))
            )
        return out + [ManualStep(because=(finding.code,), text=t) for t in fix.unique_manual()]

    def _peer(self, change: Change, ctx: ApplyContext, spec: RuleSpec) -> str | None:
        """The peer group id; a reference to a group this plan creates is found again by its name."""
        peer = spec.PeerGroupId
        if peer and peer.startswith("${") and spec.PeerGroupName:
            vpc_id = read_group(ctx, change.resource).vpc_id or ""
            found = find_group(ctx, vpc_id, spec.PeerGroupName)
            return found.id if found else None
        return peer

    def _in_effect(self, change: Change, ctx: ApplyContext) -> bool:
        spec = RuleSpec.model_validate(change.after)
        group = read_group(ctx, change.resource)
        peer = self._peer(change, ctx, spec)
        target = Peer("peer", spec.CidrIp or "0.0.0.0/0", group_ids=(peer,) if peer else ())
        rules = group.ingress if self.direction == "ingress" else group.egress
        return any(rule_allows(r, spec.FromPort, target) for r in rules)

    def _present(self, change: Change, ctx: ApplyContext) -> list[str]:
        """Which of the rule ids a delete change names still exist on the group."""
        ids = set(change.after["SecurityGroupRuleIds"])
        rules = ctx.aws.call(
            "ec2",
            "describe_security_group_rules",
            Filters=[{"Name": "group-id", "Values": [change.resource]}],
        )["SecurityGroupRules"]
        found = (security_group_rule_from_api(r)[1].rule_id for r in rules)
        return [rule_id for rule_id in found if rule_id is not None and rule_id in ids]

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        if change.kind == "delete":
            return not self._present(change, ctx)
        return self._in_effect(change, ctx)

    def inverse(self, change: Change, outputs: dict[str, Any]) -> Change | None:
        """Revoke exactly the rules this run added (by id); a rule that already existed is not ours."""
        if not outputs.get("created") or not outputs.get("SecurityGroupRuleIds"):
            return None
        return Change(
            id=f"undo-{change.id}",
            action=self.name,
            resource=change.resource,
            kind="delete",
            before=change.after,
            after={"SecurityGroupRuleIds": list(outputs["SecurityGroupRuleIds"])},
        )

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        if change.kind == "delete":
            ctx.progress(
                f"revoking {self.direction} rule(s) {change.after['SecurityGroupRuleIds']} "
                f"of {change.resource}"
            )
            ctx.aws.call(
                "ec2",
                f"revoke_security_group_{self.direction}",
                GroupId=change.resource,
                SecurityGroupRuleIds=self._present(change, ctx),
            )
            return {"previous": change.before}
        spec = RuleSpec.model_validate(change.after)
        peer = self._peer(change, ctx, spec)
        op = f"authorize_security_group_{self.direction}"
        ctx.progress(
            f"adding {self.direction} tcp/{spec.FromPort} to {change.resource} ({peer or spec.CidrIp})"
        )
        try:
            raw = ctx.aws.call(
                "ec2",
                op,
                GroupId=change.resource,
                IpPermissions=[spec.permission(peer)],
                TagSpecifications=tag_spec("security-group-rule", ctx),
            )
        except AwsError as exc:
            if exc.code != "InvalidPermission.Duplicate":
                raise
            return {"GroupId": change.resource, "created": False}
        ids = [r["SecurityGroupRuleId"] for r in raw.get("SecurityGroupRules", [])]
        return {"GroupId": change.resource, "created": True, "SecurityGroupRuleIds": ids}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        if change.kind == "delete":
            left = self._present(change, ctx)
            return f"{change.resource} still has rule(s) {left}" if left else None
        if self._in_effect(change, ctx):
            return None
        return f"{change.resource} has no {self.direction} rule for tcp/{change.after.get('FromPort')}"


@register
class AuthorizeSgIngress(_AuthorizeRule):
    """Let the event source's pollers into a group: brokers on their port, endpoints on 443."""

    name = "authorize_sg_ingress"
    order = 25
    direction = "ingress"
    permissions = (
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:CreateTags",
    )


@register
class AuthorizeSgEgress(_AuthorizeRule):
    """Let the event source's pollers out of their group: to the brokers' port, to endpoints on 443."""

    name = "authorize_sg_egress"
    order = 26
    direction = "egress"
    permissions = (
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:CreateTags",
    )


class IngressSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    IpProtocol: Literal["tcp"] = "tcp"
    FromPort: int
    ToPort: int
    SourceGroupId: str
    Description: str


class GroupSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    GroupName: str
    Description: str
    VpcId: str
    Ingress: tuple[IngressSpec, ...] = ()


@register
class CreateSecurityGroup(Action):
    """Create the security group for new VPC endpoints, admitting 443 from the pollers' groups only.

    The group has one name per VPC (`remediate-endpoints-<vpc>`), so a second run, a concurrent run
    or a run resumed after a crash finds it instead of creating another. Its ingress references
    security groups only; its egress is AWS's default (an endpoint never initiates connections).
    """

    name = "create_security_group"
    created_id = "GroupId"
    order = 20
    permissions = (
        "ec2:DescribeSecurityGroups",
        "ec2:CreateSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:CreateTags",
        "ec2:DeleteSecurityGroup",
    )

    accepts = (ServiceEndpointsUnreachable,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        wanted = fix_for(facts, finding.evidence).create_group
        if not wanted:
            return []
        spec = GroupSpec.model_validate({k: v for k, v in wanted.items() if k != "key"})
        change = Change(
            id="",
            action=self.name,
            resource=spec.GroupName,
            kind="create",
            after=spec.model_dump(mode="json"),
        )
        return [Draft(change, key=wanted["key"])]

    def _exists(self, ctx: ApplyContext, group_id: str) -> bool:
        found = ctx.aws.call(
            "ec2", "describe_security_groups", Filters=[{"Name": "group-id", "Values": [group_id]}]
        )["SecurityGroups"]
        return bool(found)

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        if change.kind == "delete":
            return not self._exists(ctx, change.resource)
        # Later changes refer to this group's id (`${cN.GroupId}`), an output only `apply` records;
        # `apply` finds an existing group by name and adds nothing twice, so it always runs.
        return False

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        if change.kind == "delete":
            ctx.progress(f"deleting security group {change.resource}")
            # Endpoints using it are deleted first (rollback runs newest first) but release their
            # network interfaces asynchronously: DependencyViolation clears within minutes.
            ctx.aws.call(
                "ec2",
                "delete_security_group",
                retry_codes=frozenset({"DependencyViolation"}),
                deadline=ctx.settings.esm_transition_timeout,
                GroupId=change.resource,
            )
            return {"previous": change.before}
        spec = GroupSpec.model_validate(change.after)
        group = find_group(ctx, spec.VpcId, spec.GroupName)
        created = group is None
        if group is None:
            ctx.progress(f"creating security group {spec.GroupName} in {spec.VpcId}")
            try:
                ctx.aws.call(
                    "ec2",
                    "create_security_group",
                    GroupName=spec.GroupName,
                    Description=spec.Description,
                    VpcId=spec.VpcId,
                    TagSpecifications=tag_spec("security-group", ctx, spec.GroupName),
                )
            except AwsError as exc:
                if exc.code != "InvalidGroup.Duplicate":
                    raise
                created = False  # a concurrent run made it first
            group = find_group(ctx, spec.VpcId, spec.GroupName)
            assert group is not None, f"security group {spec.GroupName} vanished right after creation"
        for rule in spec.Ingress:
            source = Peer("source", "0.0.0.0/0", group_ids=(rule.SourceGroupId,))
            if any(rule_allows(r, rule.FromPort, source) for r in group.ingress):
                continue
            perm = RuleSpec(
                FromPort=rule.FromPort,
                ToPort=rule.ToPort,
                PeerGroupId=rule.SourceGroupId,
                Description=rule.Description,
            ).permission(rule.SourceGroupId)
            try:
                ctx.aws.call(
                    "ec2",
                    "authorize_security_group_ingress",
                    GroupId=group.id,
                    IpPermissions=[perm],
                    TagSpecifications=tag_spec("security-group-rule", ctx),
                )
            except AwsError as exc:
                if exc.code != "InvalidPermission.Duplicate":
                    raise
        return {"GroupId": group.id, "created": created}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        if change.kind == "delete":
            return (
                f"security group {change.resource} still exists"
                if self._exists(ctx, change.resource)
                else None
            )
        spec = GroupSpec.model_validate(change.after)
        group = find_group(ctx, spec.VpcId, spec.GroupName)
        if group is None:
            return f"security group {spec.GroupName} does not exist in {spec.VpcId}"
        for rule in spec.Ingress:
            source = Peer("source", "0.0.0.0/0", group_ids=(rule.SourceGroupId,))
            if not any(rule_allows(r, rule.FromPort, source) for r in group.ingress):
                return f"{group.id} does not admit tcp/{rule.FromPort} from {rule.SourceGroupId}"
        return None
