"""Actions on the mapping: change its settings, and restart its pollers (disable, then enable).

AWS refuses updates while an ESM is Creating/Enabling/Disabling/Updating (ResourceInUseException),
so every write first waits for a settled state and is retried on that error within the configured
deadline; every wait is bounded by the same deadline and reports each state it sees.

Neither action plans a change while the MSK cluster is not ACTIVE (or a cross-account VPC connection not
AVAILABLE): a new batch size or a restart against a cluster in MAINTENANCE or REBOOTING_BROKER proves
nothing and would be undone by nobody; the plan says to wait and plan again instead.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from remediate import kafka, restart_mark
from remediate.actions.base import Action, ApplyContext, Draft, ManualAction, register
from remediate.error_text import hints_for
from remediate.errors import AwsError, VerificationError
from remediate.evidence import ClusterNotActive
from remediate.facts import ESM_DISABLED_STATES, ESM_SETTLED_STATES, Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep
from remediate.run.lock import aws_now

IN_USE = frozenset({"ResourceInUseException", "ResourceConflictException"})


def read_esm(ctx: ApplyContext, uuid: str) -> dict[str, Any]:
    """A fresh (uncached) read: apply and verify must see AWS as it is now."""
    return ctx.aws.call("lambda", "get_event_source_mapping", UUID=uuid)


def wait_for_state(ctx: ApplyContext, uuid: str, wanted: frozenset[str]) -> dict[str, Any]:
    """Poll until the ESM's State is one of `wanted`; bounded by settings.esm_transition_timeout."""
    deadline = time.monotonic() + ctx.settings.esm_transition_timeout
    last = None
    while True:
        esm = read_esm(ctx, uuid)
        state = esm.get("State")
        if state in wanted:
            if last is not None:
                ctx.progress(f"ESM {uuid} is {state}")
            return esm
        if state != last:
            ctx.progress(f"ESM {uuid} is {state}; waiting for {'/'.join(sorted(wanted))}")
            last = state
        if time.monotonic() >= deadline:
            raise AwsError(
                f"ESM {uuid} still {state} after {ctx.settings.esm_transition_timeout:.0f}s "
                f"(waiting for {'/'.join(sorted(wanted))})"
            )
        time.sleep(ctx.settings.esm_poll_interval)


def update_esm(ctx: ApplyContext, uuid: str, **params: Any) -> dict[str, Any]:
    wait_for_state(ctx, uuid, ESM_SETTLED_STATES)
    return ctx.aws.call(
        "lambda",
        "update_event_source_mapping",
        retry_codes=IN_USE,
        deadline=ctx.settings.esm_transition_timeout,
        UUID=uuid,
        **params,
    )


class EsmFieldWrite(Action):
    """An action whose change is one field of the mapping's configuration (`field`): written with one
    UpdateEventSourceMapping, waited on until the mapping settles, and read back (`mismatch`). The
    provisioned pollers, the metrics and the system logs are each such a field."""

    field: str
    doing: str
    """What the progress line says it does, before "ESM <uuid>: <field> <value>"."""

    def written(self, change: Change) -> Any:
        """The value sent for `field` (by default the change's `after`)."""
        return change.after[self.field]

    def mismatch(self, change: Change, esm: dict[str, Any]) -> str | None:
        """What differs between the mapping as read and the change's `after`; None when it holds."""
        raise NotImplementedError

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        return self.verify(change, ctx) is None

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        value = self.written(change)
        ctx.progress(f"{self.doing} ESM {change.resource}: {self.field} {value}")
        update_esm(ctx, change.resource, **{self.field: value})
        wait_for_state(ctx, change.resource, ESM_SETTLED_STATES)
        return {"previous": change.before}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        return self.mismatch(change, read_esm(ctx, change.resource))


def wait_for_source(facts: Facts, finding: Finding) -> ManualStep | None:
    """The manual step that replaces any change to the trigger while its event source is not ready."""
    why = kafka.source_not_ready(facts.cluster, facts.vpc_connection)
    if why is None:
        return None
    watch = (
        f"aws kafka describe-cluster-v2 --cluster-arn {facts.cluster.arn} --query ClusterInfo.State"
        if facts.cluster is not None
        else f"aws kafka describe-vpc-connection --arn {facts.esm.event_source_arn} --query State"
    )
    return ManualStep(
        because=(finding.code,),
        text=f"{why}: remediate changes nothing on ESM {facts.esm.uuid} until it is. Watch it with "
        f"`{watch}`, then run `remediate plan --esm {facts.esm.uuid}` again.",
    )


@register
class WaitForCluster(ManualAction):
    """The plan for an event source that is not ready: wait, then plan again (nothing to apply)."""

    name = "wait_for_cluster"
    accepts = (ClusterNotActive,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        step = wait_for_source(facts, finding)
        return [step] if step is not None else []


class UpdateParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    BatchSize: int | None = Field(None, ge=1, le=10000)
    MaximumBatchingWindowInSeconds: int | None = Field(None, ge=0, le=300)


@register
class UpdateEsm(Action):
    """Set ESM settings (batch size, batching window) to the values a playbook asks for."""

    name = "update_esm"
    order = 80
    permissions = ("lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping")
    Params = UpdateParams

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        assert isinstance(params, UpdateParams)
        waiting = wait_for_source(facts, finding)
        if waiting is not None:
            return [waiting]
        wanted = params.model_dump(exclude_none=True)
        current = {
            "BatchSize": facts.esm.batch_size,
            "MaximumBatchingWindowInSeconds": facts.esm.maximum_batching_window,
        }
        diff = {k: v for k, v in wanted.items() if current.get(k) != v}
        if not diff:
            return []
        before = {k: current.get(k) for k in diff}
        change = Change(id="", action=self.name, resource=facts.esm.uuid, before=before, after=diff)
        return [Draft(change)]

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        esm = read_esm(ctx, change.resource)
        return all(esm.get(k) == v for k, v in change.after.items())

    def moved(self, change: Change, ctx: ApplyContext) -> str | None:
        esm = read_esm(ctx, change.resource)
        now = {k: esm.get(k) for k in change.before or {}}
        return None if now == (change.before or {}) else f"ESM {change.resource} now has {now}"

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        ctx.progress(
            f"updating ESM {change.resource}: " + ", ".join(f"{k}={v}" for k, v in change.after.items())
        )
        update_esm(ctx, change.resource, **change.after)
        wait_for_state(ctx, change.resource, ESM_SETTLED_STATES)
        return {"previous": change.before}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        esm = read_esm(ctx, change.resource)
        wrong = {k: esm.get(k) for k, v in change.after.items() if esm.get(k) != v}
        return f"ESM {change.resource} has {wrong}, expected {change.after}" if wrong else None


@register
class ReenableEsm(Action):
    """Restart the ESM's pollers: disable, wait for Disabled, enable, wait for Enabled.

    Restarting is what makes a new batch size or a fixed network take effect promptly; on a disabled
    ESM it is simply the enable. Re-running after a crash converges: a Disabled ESM is only enabled.
    """

    name = "reenable_esm"
    order = 90
    permissions = (
        "lambda:GetEventSourceMapping",
        "lambda:UpdateEventSourceMapping",
        *restart_mark.PERMISSIONS,  # issue 23: the mark of a restart in progress
    )
    before_is_setting = False  # `before` is the State, which moves by itself while the ESM settles

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        waiting = wait_for_source(facts, finding)
        if waiting is not None:
            return [waiting]
        restart = facts.esm.state not in ESM_DISABLED_STATES
        change = Change(
            id="",
            action=self.name,
            resource=facts.esm.uuid,
            before={"State": facts.esm.state},
            after={
                "State": "Enabled",
                **({"Restart": "disable, wait for Disabled, enable"} if restart else {}),
            },
        )
        return [Draft(change)]

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        # A restart is an event, not a state: only the journal knows it happened.
        return False

    def inverse(self, change: Change, outputs: dict[str, Any]) -> Change | None:
        """Undoing a restart of an ESM that was Enabled is nothing; of one that was Disabled, disabling it."""
        if (change.before or {}).get("State") not in ESM_DISABLED_STATES:
            return None
        return change.model_copy(
            update={"id": f"undo-{change.id}", "before": {"State": "Enabled"}, "after": {"State": "Disabled"}}
        )

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        uuid = change.resource
        esm = wait_for_state(ctx, uuid, ESM_SETTLED_STATES)
        arn = str(esm["EventSourceMappingArn"])
        if change.after.get("State") == "Disabled":  # a rollback: put the ESM back as it was
            if esm["State"] != "Disabled":
                ctx.progress(f"disabling ESM {uuid}")
                update_esm(ctx, uuid, Enabled=False)
                wait_for_state(ctx, uuid, frozenset({"Disabled"}))
            return {"previous": change.before}
        # The mark says "remediate turned it off" to whoever finds it off: this run, resumed or rolled
        # back, or a plain re-run (remediate/restart_mark.py). One left by an earlier run is ours to clear.
        marked = esm["State"] != "Enabled" and restart_mark.read(ctx.aws, arn) is not None
        if esm["State"] == "Enabled" and "Restart" in change.after:
            restart_mark.mark(ctx.aws, arn, ctx.run_id, aws_now(esm)[0])
            marked = True
            ctx.progress(f"disabling ESM {uuid}")
            update_esm(ctx, uuid, Enabled=False)
            esm = wait_for_state(ctx, uuid, frozenset({"Disabled"}))
        if esm["State"] != "Enabled":
            ctx.progress(f"enabling ESM {uuid}")
            update_esm(ctx, uuid, Enabled=True)
            wait_for_state(ctx, uuid, frozenset({"Enabled"}))
        if marked:
            try:
                restart_mark.clear(ctx.aws, arn)
            except AwsError as exc:  # the trigger is on; a mark left on an Enabled ESM is removed next time
                ctx.progress(f"could not remove the tag {restart_mark.TAG} from ESM {uuid}: {exc}")
        return {"previous": change.before}

    def undo_interrupted(self, change: Change, ctx: ApplyContext) -> Change | None:
        """A restart that stopped between its disable and its enable left the trigger off: undoing it
        is enabling it again. One that stopped before its disable, or after its enable, left nothing."""
        state = wait_for_state(ctx, change.resource, ESM_SETTLED_STATES)["State"]
        if (change.before or {}).get("State") in ESM_DISABLED_STATES or state == "Enabled":
            return None
        return change.model_copy(
            update={"id": f"undo-{change.id}", "before": {"State": state}, "after": {"State": "Enabled"}}
        )

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        # Only the State is read back: a restart leaves no trace but the journal.
        state = read_esm(ctx, change.resource).get("State")
        wanted = change.after["State"]
        return None if state == wanted else f"ESM {change.resource} is {state}, expected {wanted}"


def watch_error_text(ctx: ApplyContext, uuid: str, seconds: float) -> None:
    """Wait until the ESM no longer reports an error (`apply --watch`); VerificationError if it still does.

    AWS refreshes LastProcessingResult only as the pollers run, which can take minutes on a real
    account, so verification does not wait for it unless asked.
    """
    deadline = time.monotonic() + seconds
    while True:
        esm = read_esm(ctx, uuid)
        hints = hints_for(esm.get("LastProcessingResult", ""), esm.get("StateTransitionReason", ""))
        if esm.get("State") == "Enabled" and not hints:
            ctx.progress(f"ESM {uuid} reports no error: {esm.get('LastProcessingResult') or 'OK'}")
            return
        text = hints[0].text if hints else f"State {esm.get('State')}"
        left = deadline - time.monotonic()
        if left <= 0:
            raise VerificationError(f"after {seconds:.0f}s ESM {uuid} still reports: {text}")
        # The wait can last minutes: say so at every read, so a watcher never stares at silence.
        ctx.progress(f"watching ESM {uuid} ({left:.0f}s left): it still reports: {text}")
        ctx.check_cancelled()  # waiting changes nothing: stop at once when asked
        time.sleep(ctx.settings.esm_poll_interval)
