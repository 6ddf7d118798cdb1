"""Security-group actions: add one rule (ingress or egress), or create the group VPC endpoints use.

Rules are planned from the blocked paths of the network findings (`network_plan`) and always name a
security group as the peer, or at most the VPC's own CIDR for a self-managed broker: `RuleSpec`
refuses any CIDR of prefix length 0 (0.0.0.0/0, ::/0), in the plan and again at apply time. Every write is
idempotent: a rule that already exists (InvalidPermission.Duplicate) or a group that already exists
(InvalidGroup.Duplicate, found again by its name) is success, not an error; whether the run made it
or found it, the `remediate:run-id` tag it carries from its creation says, so a retried or resumed
create is recognised as the run's own and a rollback deletes only that. A rollback refuses a group
that gained rules since, or that anything else still uses.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from remediate.actions.base import Action, ApplyContext, Draft, register
from remediate.actions.network_plan import fix_for
from remediate.errors import AwsError
from remediate.evidence import BrokerPortsBlocked, ServiceEndpointsUnreachable
from remediate.facts import Facts, SecurityGroup
from remediate.findings import Finding
from remediate.observe.builders import security_group_from_api, vpc_endpoint_from_api
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


def group_rules(ctx: ApplyContext, group_id: str) -> list[dict[str, Any]]:
    """Every rule of a group as DescribeSecurityGroupRules gives it: with its id and its tags."""
    rules: list[dict[str, Any]] = ctx.aws.call(
        "ec2", "describe_security_group_rules", Filters=[{"Name": "group-id", "Values": [group_id]}]
    )["SecurityGroupRules"]
    return rules


def run_tag(resource: dict[str, Any]) -> str | None:
    """The `remediate:run-id` tag of a described resource (rule, group, endpoint), if any."""
    return next((t.get("Value") for t in resource.get("Tags") or [] if t.get("Key") == RUN_TAG), None)


class _AuthorizeRule(Action):
    """Add one rule in `direction` to a group; shared by the ingress and egress actions."""

    direction: Literal["ingress", "egress"]
    finds_own = True
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
        return [
            r["SecurityGroupRuleId"]
            for r in group_rules(ctx, change.resource)
            if r["SecurityGroupRuleId"] in ids
        ]

    def _matches(self, rule: dict[str, Any], spec: RuleSpec, peer: str | None) -> bool:
        """A described rule is the planned one: direction, protocol, ports and peer."""
        return (
            bool(rule.get("IsEgress")) == (self.direction == "egress")
            and rule.get("IpProtocol") == spec.IpProtocol
            and (rule.get("FromPort"), rule.get("ToPort")) == (spec.FromPort, spec.ToPort)
            and (
                (rule.get("ReferencedGroupInfo") or {}).get("GroupId") == peer
                if peer
                else rule.get("CidrIpv4") == spec.CidrIp
            )
        )

    def found(self, change: Change, ctx: ApplyContext) -> dict[str, Any] | None:
        """The planned rule, if this run added it (its run-id tag, given at creation)."""
        if change.kind != "create":
            return None
        spec = RuleSpec.model_validate(change.after)
        peer = self._peer(change, ctx, spec)
        ids = [
            r["SecurityGroupRuleId"]
            for r in group_rules(ctx, change.resource)
            if run_tag(r) == ctx.run_id and self._matches(r, spec, peer)
        ]
        return {"GroupId": change.resource, "created": True, "SecurityGroupRuleIds": ids} if ids else None

    def drift(self, change: Change, outputs: dict[str, Any], ctx: ApplyContext) -> str | None:
        """A rule the run added is refused by a rollback once it was modified; one already revoked
        is simply nothing left to undo."""
        if change.kind != "create":
            return self.verify(change, ctx)
        spec = RuleSpec.model_validate(change.after)
        ids = set(outputs.get("SecurityGroupRuleIds", []))
        peer = self._peer(change, ctx, spec)
        for rule in group_rules(ctx, change.resource):
            if rule["SecurityGroupRuleId"] in ids and not self._matches(rule, spec, peer):
                return f"rule {rule['SecurityGroupRuleId']} of {change.resource} was modified"
        return None

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
                f"revoking {self.direction} rule(s) {', '.join(change.after['SecurityGroupRuleIds'])} "
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
            # The rule exists: this run's own (a retry after a lost answer, a resume after a crash
            # mid-call; its run-id tag says so) or someone else's, which is not ours to undo.
            return self.found(change, ctx) or {"GroupId": change.resource, "created": False}
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
    finds_own = True
    order = 20
    permissions = (
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeNetworkInterfaces",
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
        return self._raw(ctx, group_id) is not None

    def _raw(self, ctx: ApplyContext, group_id: str) -> dict[str, Any] | None:
        found: list[dict[str, Any]] = ctx.aws.call(
            "ec2", "describe_security_groups", Filters=[{"Name": "group-id", "Values": [group_id]}]
        )["SecurityGroups"]
        return found[0] if found else None

    def _by_name(self, ctx: ApplyContext, spec: GroupSpec) -> dict[str, Any] | None:
        found: list[dict[str, Any]] = ctx.aws.call(
            "ec2",
            "describe_security_groups",
            Filters=[
                {"Name": "vpc-id", "Values": [spec.VpcId]},
                {"Name": "group-name", "Values": [spec.GroupName]},
            ],
        )["SecurityGroups"]
        return found[0] if found else None

    def found(self, change: Change, ctx: ApplyContext) -> dict[str, Any] | None:
        if change.kind != "create":
            return None
        raw = self._by_name(ctx, GroupSpec.model_validate(change.after))
        if raw is None or run_tag(raw) != ctx.run_id:
            return None
        return {"GroupId": raw["GroupId"], "created": True}

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        if change.kind == "delete":
            return not self._exists(ctx, change.resource)
        # Later changes refer to this group's id (`${cN.GroupId}`), an output only `apply` records;
        # `apply` finds an existing group by name and adds nothing twice, so it always runs.
        return False

    def users(self, ctx: ApplyContext, group_id: str, leaving: frozenset[str]) -> list[tuple[str, str]]:
        """What uses the group, as (id, description): live VPC endpoints and network interfaces
        attached to it, and rules of other groups that name it, all of which make AWS refuse its
        deletion (DependencyViolation, API_DeleteSecurityGroup); ids in `leaving` are left out."""
        raw = self._raw(ctx, group_id)
        if raw is None:
            return []
        vpc = [{"Name": "vpc-id", "Values": [raw.get("VpcId", "")]}]
        out: list[tuple[str, str]] = []
        for endpoint in ctx.aws.call("ec2", "describe_vpc_endpoints", Filters=vpc)["VpcEndpoints"]:
            made = vpc_endpoint_from_api(endpoint)
            if made.live and group_id in made.security_group_ids and made.id not in leaving:
                out.append((made.id, f"endpoint {made.id}"))
        enis = ctx.aws.call(
            "ec2", "describe_network_interfaces", Filters=[{"Name": "group-id", "Values": [group_id]}]
        )["NetworkInterfaces"]
        out += [
            (e["NetworkInterfaceId"], f"network interface {e['NetworkInterfaceId']}")
            for e in enis
            if e["NetworkInterfaceId"] not in leaving
        ]
        for name in ("ip-permission.group-id", "egress.ip-permission.group-id"):
            others = ctx.aws.call(
                "ec2",
                "describe_security_groups",
                Filters=[*vpc, {"Name": name, "Values": [group_id]}],
            )["SecurityGroups"]
            for other in others:
                if other["GroupId"] == group_id:
                    continue
                for rule in group_rules(ctx, other["GroupId"]):
                    rid = rule["SecurityGroupRuleId"]
                    named = (rule.get("ReferencedGroupInfo") or {}).get("GroupId") == group_id
                    if named and rid not in leaving and (rid, f"rule {rid} of {other['GroupId']}") not in out:
                        out.append((rid, f"rule {rid} of {other['GroupId']}"))
        return out

    def ready_to_delete(self, change: Change, ctx: ApplyContext, leaving: frozenset[str]) -> Change | str:
        everyone = self.users(ctx, change.resource, frozenset())
        others = [what for uid, what in everyone if uid not in leaving]
        if others:
            return ", ".join(others)
        releasing = sorted(uid for uid, _ in everyone if uid in leaving)
        if not releasing:
            return change
        return change.model_copy(update={"after": {**change.after, "Releasing": releasing}})

    def drift(self, change: Change, outputs: dict[str, Any], ctx: ApplyContext) -> str | None:
        """A group the run created is refused by a rollback once rules were added to it by anyone
        else: every rule it has must carry the run's tag, or be AWS's default egress rule."""
        if change.kind != "create":
            return self.verify(change, ctx)
        group_id = str(outputs.get("GroupId", ""))
        if self._raw(ctx, group_id) is None:
            return None  # already gone: nothing left to undo
        added = [
            r["SecurityGroupRuleId"]
            for r in group_rules(ctx, group_id)
            if run_tag(r) != ctx.run_id and not _default_egress(r)
        ]
        return f"rule(s) {', '.join(added)} were added to {group_id}" if added else None

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        if change.kind == "delete":
            return self._delete(change, ctx)
        spec = GroupSpec.model_validate(change.after)
        raw = self._by_name(ctx, spec)
        if raw is None:
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
                # Made by this run (a retry after a lost answer: its tag says so) or another one.
            raw = self._by_name(ctx, spec)
            if raw is None:
                raise AwsError(f"security group {spec.GroupName} vanished right after its creation")
        group = security_group_from_api(raw)
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
        # Whose group it is, its run-id tag says: a group another run (or a user) made is adopted,
        # never deleted by this run's rollback.
        return {"GroupId": group.id, "created": run_tag(raw) == ctx.run_id}

    def _delete(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        """Delete the group once nothing uses it; refuse (one line, a manual step) if something does,
        rather than retrying AWS's DependencyViolation. The network interfaces of endpoints this
        rollback just deleted (`after["Releasing"]`) are released asynchronously: those are awaited."""
        releasing = set(change.after.get("Releasing", []))
        deadline = time.monotonic() + ctx.settings.esm_transition_timeout
        while True:
            users = self.users(ctx, change.resource, frozenset())
            if not users:
                break
            if {u for u, _ in users} <= releasing and time.monotonic() < deadline:
                time.sleep(ctx.settings.esm_poll_interval)
                continue
            raise AwsError(
                f"security group {change.resource} was left in place: it is still used by "
                f"{', '.join(what for _, what in users)}; remove that use by hand, then delete the group",
                code="DependencyViolation",
                operation="delete_security_group",
            )
        ctx.progress(f"deleting security group {change.resource}")
        ctx.aws.call("ec2", "delete_security_group", GroupId=change.resource)
        return {"previous": change.before}

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


def _default_egress(rule: dict[str, Any]) -> bool:
    """The egress rule AWS gives every new group of a VPC: all traffic to 0.0.0.0/0 (it is not tagged)."""
    return (
        bool(rule.get("IsEgress")) and rule.get("IpProtocol") == "-1" and rule.get("CidrIpv4") == "0.0.0.0/0"
    )
