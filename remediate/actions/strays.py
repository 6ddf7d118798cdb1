"""Deleting a stray mapping (issue 25, item 7): only when asked, with `--fix-with delete-strays` (or
`scan --fix --delete-strays`); by default a stray's plan is the manual step of `flow.StraySteps`.

DeleteEventSourceMapping cannot be undone: a mapping created again gets a new UUID, and with it a new
consumer group unless its ConsumerGroupId is set (Lambda developer guide, "Customizable consumer group ID in
Lambda"). So apply journals the whole configuration it deleted (GetEventSourceMapping, as AWS returned it)
before the call, and the rollback of a deletion is a refusal that points at that record.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from remediate.actions.base import Action, ApplyContext, Draft, register
from remediate.actions.esm import read_esm
from remediate.errors import AwsError
from remediate.evidence import StrayDisabled, StrayMapping
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep

_GONE = "ResourceNotFoundException"
_KEPT = (
    "EventSourceArn",
    "SelfManagedEventSource",
    "FunctionArn",
    "Topics",
    "StartingPosition",
    "BatchSize",
    "AmazonManagedKafkaEventSourceConfig",
    "SelfManagedKafkaEventSourceConfig",
    "SourceAccessConfigurations",
    "DestinationConfig",
    "FilterCriteria",
    "ProvisionedPollerConfig",
    "State",
)
"""What the journal keeps of a deleted mapping: enough to create it again."""


def _read(ctx: ApplyContext, uuid: str) -> dict[str, Any] | None:
    try:
        return read_esm(ctx, uuid)
    except AwsError as exc:
        if exc.code == _GONE:
            return None
        raise


@register
class DeleteStrayMapping(Action):
    """DeleteEventSourceMapping of a stray, after approval; shown in the diff with what it deletes."""

    name = "delete_stray_mapping"
    accepts = (StrayMapping, StrayDisabled)
    # Last of the mapping's changes (its playbook is exclusive: no restart follows), and before the restart
    # order (90) that the SSM runbook makes natively after `apply`.
    order = 89
    permissions = ("lambda:GetEventSourceMapping", "lambda:DeleteEventSourceMapping")

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        esm = facts.esm
        before = {
            "State": esm.state,
            "FunctionArn": esm.function_arn,
            "Source": esm.event_source_arn or ",".join(esm.bootstrap_servers),
            "Topics": list(esm.topics),
            "ConsumerGroupId": esm.group_id,
        }
        change = Change(
            id="", action=self.name, resource=esm.uuid, kind="delete", before=before, after={"Deleted": True}
        )
        return [Draft(change)]

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        return _read(ctx, change.resource) is None

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        current = _read(ctx, change.resource)
        if current is None:
            return {"deleted": None}
        kept = {k: current[k] for k in _KEPT if k in current}
        ctx.progress(f"deleting stray ESM {change.resource}")
        try:
            ctx.aws.call("lambda", "delete_event_source_mapping", UUID=change.resource)
        except AwsError as exc:
            if exc.code != _GONE:
                raise
        return {"deleted": kept}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        left = _read(ctx, change.resource)
        if left is None or left.get("State") == "Deleting":
            return None
        return f"ESM {change.resource} still exists ({left.get('State')})"

    def inverse(self, change: Change, outputs: dict[str, Any]) -> Change | None:
        raise NotImplementedError(
            f"ESM {change.resource} was deleted and cannot be restored with its UUID: its configuration is "
            "journaled under this change's `deleted` output; create a new mapping from it, with its "
            f"ConsumerGroupId set to {change.before.get('ConsumerGroupId') if change.before else 'its UUID'} "
            "to keep its offsets"
        )
