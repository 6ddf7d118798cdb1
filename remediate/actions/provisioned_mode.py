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
from remediate.actions.base import Draft, register
from remediate.actions.esm import EsmFieldWrite, wait_for_source
from remediate.evidence import ServiceEndpointsUnreachable
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep

COST_BASIS = (
    f"billed per event poller unit (EPU) while provisioned, at least {health.PROVISIONED_MIN_POLLERS} "
    "always on "
    f"and up to {health.PROVISIONED_MAX_POLLERS}; each poller handles {health.POLLER_CAPACITY}; see the "
    "Lambda pricing page for the EPU price in this Region (not quoted by remediate)"
)


class PollerConfigWrite(EsmFieldWrite):
    """An action whose change is the mapping's `ProvisionedPollerConfig`, read back key by key."""

    field = "ProvisionedPollerConfig"
    doing = "setting the provisioned pollers of"

    def mismatch(self, change: Change, esm: dict[str, Any]) -> str | None:
        have = esm.get(self.field) or {}
        wanted = change.after[self.field]
        wrong = {k: have.get(k) for k, v in wanted.items() if have.get(k) != v}
        return f"ESM {change.resource} has {self.field} {have}, expected {wanted}" if wrong else None


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
