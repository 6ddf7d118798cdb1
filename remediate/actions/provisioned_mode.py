"""switch_to_provisioned_mode: the Lambda guide's alternative to a NAT gateway or VPC endpoints.

In on-demand mode the pollers call Lambda, STS (and Secrets Manager, the destination) from the event
source's VPC; in provisioned mode they do not (`poller_paths.reaches_services_from_vpc`, with its source).
So where the VPC cannot reach those services, setting a ProvisionedPollerConfig answers the finding without
any endpoint. It costs money the endpoints do not, so it is never planned silently: the service-endpoints
playbook lists it as an alternative, shown in every such plan and chosen with `--fix-with provisioned-mode`.

Its cost basis is shown, not guessed: the pollers are billed as event poller units; the tool plans the
fewest (MinimumPollers 1) with Lambda's default ceiling, and quotes no price (none was found in the
documentation it was built from). Undoing it is left to a person: how to return a mapping to on-demand mode
is not in the API reference this tool follows.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from remediate import health, poller_paths
from remediate.actions.base import Action, ApplyContext, Draft, register
from remediate.actions.esm import read_esm, update_esm, wait_for_source, wait_for_state
from remediate.evidence import ServiceEndpointsUnreachable
from remediate.facts import ESM_SETTLED_STATES, Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep

COST_BASIS = (
    f"billed per event poller unit (EPU) while provisioned, at least {health.PROVISIONED_MIN_POLLERS} "
    "always on "
    f"and up to {health.PROVISIONED_MAX_POLLERS}; each poller handles {health.POLLER_CAPACITY}; see the "
    "Lambda pricing page for the EPU price in this Region (not quoted by remediate)"
)


class PollerConfigWrite(Action):
    """An action whose change is the mapping's `ProvisionedPollerConfig`: written with one
    UpdateEventSourceMapping, waited on until the mapping settles, and read back key by key."""

    doing = "setting the provisioned pollers of"
    """What the progress line says it does, before "ESM <uuid>: <config>"."""

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        return self.verify(change, ctx) is None

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        config = change.after["ProvisionedPollerConfig"]
        ctx.progress(f"{self.doing} ESM {change.resource}: {config}")
        update_esm(ctx, change.resource, ProvisionedPollerConfig=config)
        wait_for_state(ctx, change.resource, ESM_SETTLED_STATES)
        return {"previous": change.before}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        have = read_esm(ctx, change.resource).get("ProvisionedPollerConfig") or {}
        wanted = change.after["ProvisionedPollerConfig"]
        wrong = {k: have.get(k) for k, v in wanted.items() if have.get(k) != v}
        return (
            f"ESM {change.resource} has ProvisionedPollerConfig {have}, expected {wanted}" if wrong else None
        )


@register
class SwitchToProvisionedMode(PollerConfigWrite):
    """Give the mapping a ProvisionedPollerConfig, so its pollers need no path to AWS services from the "
    "VPC."""

    name = "switch_to_provisioned_mode"
    doing = "switching to provisioned mode"
    accepts = (ServiceEndpointsUnreachable,)
    order = 85
    permissions = ("lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping")

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        if not poller_paths.reaches_services_from_vpc(facts):
            return []  # already provisioned, or not in a VPC: nothing this changes
        waiting = wait_for_source(facts, finding)
        if waiting is not None:
            return [waiting]
        config = {
            "MinimumPollers": health.PROVISIONED_MIN_POLLERS,
            "MaximumPollers": health.PROVISIONED_MAX_POLLERS,
        }
        change = Change(
            id="",
            action=self.name,
            resource=facts.esm.uuid,
            before={"ProvisionedPollerConfig": None},
            after={"ProvisionedPollerConfig": config, "CostBasis": COST_BASIS},
        )
        return [Draft(change)]

    def inverse(self, change: Change, outputs: dict[str, Any]) -> Change | None:
        raise NotImplementedError(
            f"ESM {change.resource} stays in provisioned mode: return it to on-demand mode in the Lambda "
            "console "
            "(the API reference remediate follows does not say how)"
        )
