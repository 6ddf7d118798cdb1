"""restore_secret: cancel the scheduled deletion of a secret the mapping uses (Secrets Manager API reference,
RestoreSecret: "Cancels the scheduled deletion of a secret by removing the DeletedDate time stamp. You can
access a secret again after it has been restored"). Its value and versions are as they were: nothing is
loosened or rewritten. Undoing it would schedule the deletion again, with a recovery window this tool cannot
know: a person does that, with the exact command in the error.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from remediate.actions.base import Action, ApplyContext, Draft, register
from remediate.evidence import SecretScheduledForDeletion
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep


def _deleted_date(ctx: ApplyContext, secret: str) -> str | None:
    raw = ctx.aws.call("secretsmanager", "describe_secret", SecretId=secret)
    value = raw.get("DeletedDate")
    return str(value) if value else None


@register
class RestoreSecret(Action):
    """Remove a secret's DeletedDate (RestoreSecret)."""

    name = "restore_secret"
    accepts = (SecretScheduledForDeletion,)
    order = 30
    permissions = ("secretsmanager:DescribeSecret", "secretsmanager:RestoreSecret")

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, SecretScheduledForDeletion)
        change = Change(
            id="",
            action=self.name,
            resource=ev.secret,
            before={"DeletedDate": ev.deleted_date},
            after={"DeletedDate": None},
        )
        return [Draft(change)]

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        return _deleted_date(ctx, change.resource) is None

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        ctx.progress(f"cancelling the scheduled deletion of secret {change.resource}")
        ctx.aws.call("secretsmanager", "restore_secret", SecretId=change.resource)
        return {"previous": change.before}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        when = _deleted_date(ctx, change.resource)
        return None if when is None else f"secret {change.resource} is still scheduled for deletion on {when}"

    def inverse(self, change: Change, outputs: dict[str, Any]) -> Change | None:
        raise NotImplementedError(
            f"secret {change.resource} stays restored: to schedule its deletion again, run "
            f"`aws secretsmanager delete-secret --secret-id {change.resource} "
            "--recovery-window-in-days N` (7 to 30)"
        )
