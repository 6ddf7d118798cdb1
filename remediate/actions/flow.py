"""Fixes for a trigger that connects but does not deliver (issue 25).

bound_retries: a Kafka mapping retries a failed batch forever by default, so one record the function always
fails on blocks its partition. The smallest API fix is one UpdateEventSourceMapping: MaximumRetryAttempts 10
(what Lambda itself applies once a destination exists) and BisectBatchOnFunctionError, which splits the
failing batch until the poison record is isolated. Lambda configures these error handling controls under
provisioned mode (`health.RECORD_AGE_RANGE`'s page), so on an on-demand mapping the same update also sets a
ProvisionedPollerConfig, which costs event poller units: that is only planned when chosen with
`--fix-with provisioned-mode`; otherwise the plan lists it as the alternative, with its cost basis. Records
that exhaust their retries are discarded unless an on-failure destination keeps them: without one, the plan
adds the exact commands to create an encrypted queue and name it (a manual step; the execution role then
needs sqs:SendMessage on it, which the next diagnosis checks).

set_function_timeout: a function whose timeout Kafka mappings do not support (over 14 minutes) gets 840 s; one
whose longest observed run is close to its timeout gets twice that run (at most 840 s). When the timeout is
already at the cap, the only lever left is a smaller batch: that is a manual step, never combined with a
timeout change, because either alone changes how long a batch takes and both at once hide which one helped.

raise_max_pollers / lag_steps: lag that keeps growing on a provisioned-mode mapping gets twice its
MaximumPollers; partitions, which cap the pollers, and provisioned pollers for an on-demand mapping are
manual.
filter_steps and stray_steps are manual: only the owner knows what a filter meant or whether a mapping on a
deleted cluster is to be re-created elsewhere.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import BaseModel, ConfigDict

from remediate import health
from remediate.actions.base import Action, ApplyContext, Draft, ManualAction, register
from remediate.actions.esm import read_esm, update_esm, wait_for_state
from remediate.actions.provisioned_mode import COST_BASIS, PollerConfigWrite
from remediate.evidence import (
    FiltersDropRecords,
    FunctionTimeoutRisk,
    OffsetLagGrowing,
    RetriesUnbounded,
    StrayDisabled,
    StrayMapping,
)
from remediate.facts import ESM_SETTLED_STATES, Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep

_NOT_SENT = ("CostBasis",)
"""Keys of a change's `after` shown to the approver but not sent to AWS."""


class BoundRetriesParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    switch_mode: bool = False
    """Also switch an on-demand mapping to provisioned mode (the `provisioned-mode` alternative)."""


def _retry_settings(raw: dict[str, Any]) -> dict[str, Any]:
    """What GetEventSourceMapping says of the settings bound_retries writes (absent: Lambda's defaults)."""
    return {
        "MaximumRetryAttempts": raw.get("MaximumRetryAttempts", health.RETRY_DEFAULT),
        "BisectBatchOnFunctionError": bool(raw.get("BisectBatchOnFunctionError")),
        "ProvisionedPollerConfig": raw.get("ProvisionedPollerConfig") or None,
    }


def destination_step(facts: Facts, finding: Finding) -> ManualStep:
    """The exact commands that give the mapping an encrypted SQS on-failure destination."""
    esm = facts.esm
    account, region = esm.function_arn.split(":")[4], esm.function_arn.split(":")[3]
    queue = f"{esm.function_arn.split(':')[6]}-failures"[:80]
    arn = f"arn:aws:sqs:{region}:{account}:{queue}"
    return ManualStep(
        because=(finding.code,),
        text=(
            f"Keep the records ESM {esm.uuid} discards after its retries: create an encrypted queue "
            f"(`aws sqs create-queue --queue-name {queue} --attributes SqsManagedSseEnabled=true`), name it "
            f"as the on-failure destination (`aws lambda update-event-source-mapping --uuid {esm.uuid} "
            f'--destination-config \'{{"OnFailure":{{"Destination":"{arn}"}}}}\'`), then run `remediate '
            f"plan --esm {esm.uuid}`: it checks that the execution role may sqs:SendMessage to {arn}."
        ),
    )


@register
class BoundRetries(Action):
    """Bound the retries of a Kafka mapping and split failing batches (one UpdateEventSourceMapping)."""

    name = "bound_retries"
    accepts = (RetriesUnbounded,)
    order = 80
    permissions = ("lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping")
    Params = BoundRetriesParams

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, RetriesUnbounded)
        assert isinstance(params, BoundRetriesParams)
        out: list[Draft | ManualStep] = []
        if not ev.provisioned_mode and not params.switch_mode:
            # issue 25: the on-failure destination `create_failure_queue` plans bounds the retries (Lambda
            # caps infinite retries at 10 once a destination exists); the switch stays an alternative.
            if facts.role is None:
                out.append(
                    ManualStep(
                        because=(finding.code,),
                        text=f"ESM {facts.esm.uuid} is in on-demand mode, and Lambda configures a Kafka "
                        "mapping's retry limits and batch splitting in provisioned mode: plan with "
                        "`--fix-with provisioned-mode` to switch it and bound its retries in one update "
                        f"(cost: {COST_BASIS}).",
                    )
                )
        else:
            before: dict[str, Any] = {
                "MaximumRetryAttempts": ev.maximum_retry_attempts,
                "BisectBatchOnFunctionError": ev.bisect_on_error,
            }
            after: dict[str, Any] = {
                "MaximumRetryAttempts": health.RETRY_BOUND,
                "BisectBatchOnFunctionError": True,
            }
            if not ev.provisioned_mode:
                before["ProvisionedPollerConfig"] = None
                after["ProvisionedPollerConfig"] = {
                    "MinimumPollers": health.PROVISIONED_MIN_POLLERS,
                    "MaximumPollers": health.PROVISIONED_MAX_POLLERS,
                }
                after["CostBasis"] = COST_BASIS
            out.append(
                Draft(Change(id="", action=self.name, resource=facts.esm.uuid, before=before, after=after))
            )
        if not ev.on_failure_destination and facts.role is None:
            # issue 25: with the role read, create_failure_queue plans the queue, its grant and the
            # destination; without it the grant cannot be planned, so the commands are a manual step.
            out.append(destination_step(facts, finding))
        return out

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        return self.verify(change, ctx) is None

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        params = {k: v for k, v in change.after.items() if k not in _NOT_SENT}
        ctx.progress(f"bounding the retries of ESM {change.resource}: {params}")
        update_esm(ctx, change.resource, **params)
        wait_for_state(ctx, change.resource, ESM_SETTLED_STATES)
        return {"previous": change.before}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        have = _retry_settings(read_esm(ctx, change.resource))
        wrong = {k: have[k] for k, v in change.after.items() if k not in _NOT_SENT and have[k] != v}
        return f"ESM {change.resource} has {wrong}, expected {change.after}" if wrong else None

    def inverse(self, change: Change, outputs: dict[str, Any]) -> Change | None:
        if "ProvisionedPollerConfig" in change.after:
            raise NotImplementedError(
                f"ESM {change.resource} stays in provisioned mode with bounded retries: return it to "
                "on-demand mode in the Lambda console (the API reference remediate follows does not say how)"
            )
        return super().inverse(change, outputs)


def _function(arn: str) -> str:
    return ":".join(arn.split(":")[:7])


def _timeout(ctx: ApplyContext, function: str) -> int:
    raw = ctx.aws.call("lambda", "get_function_configuration", FunctionName=function)
    return int(raw["Timeout"])


@register
class SetFunctionTimeout(Action):
    """Set the function's Timeout (UpdateFunctionConfiguration); its rollback restores the old one."""

    name = "set_function_timeout"
    accepts = (FunctionTimeoutRisk,)
    order = 46
    permissions = ("lambda:GetFunctionConfiguration", "lambda:UpdateFunctionConfiguration")

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, FunctionTimeoutRisk)
        if ev.cause == "over-kafka-limit":
            target = ev.limit_seconds
        else:
            wanted = math.ceil((ev.duration_max_ms or 0) * health.TIMEOUT_HEADROOM / 10_000) * 10
            target = min(ev.limit_seconds, wanted)
        if ev.cause == "near-observed-duration" and target <= ev.timeout_seconds:
            smaller = max(1, (ev.batch_size or 2) // 2)
            return [
                ManualStep(
                    because=(finding.code,),
                    text=f"{ev.function} already has the longest timeout a Kafka mapping supports "
                    f"({ev.limit_seconds} s) and its longest run is close to it: make each batch smaller "
                    "(`aws lambda update-event-source-mapping --uuid "
                    f"{facts.esm.uuid} --batch-size {smaller}`) "
                    "or the function faster.",
                )
            ]
        change = Change(
            id="",
            action=self.name,
            resource=_function(ev.function),
            before={"Timeout": ev.timeout_seconds},
            after={"Timeout": target},
        )
        return [Draft(change)]

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        return self.verify(change, ctx) is None

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        ctx.progress(f"setting the timeout of {change.resource} to {change.after['Timeout']} s")
        ctx.aws.call(
            "lambda",
            "update_function_configuration",
            FunctionName=change.resource,
            Timeout=change.after["Timeout"],
        )
        return {"previous": change.before}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        now = _timeout(ctx, change.resource)
        wanted = change.after["Timeout"]
        return None if now == wanted else f"{change.resource} has Timeout {now}, expected {wanted}"


@register
class FilterSteps(ManualAction):
    """Only the filters' owner knows which records they meant: the plan shows the patterns and the exact
    command that replaces them, keeping every pattern that is not at fault as written."""

    name = "filter_steps"
    accepts = (FiltersDropRecords,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, FiltersDropRecords)
        uuid = facts.esm.uuid
        kept = [{"Pattern": p} for p in facts.esm.filter_patterns if p not in ev.patterns]
        command = (
            f"aws lambda update-event-source-mapping --uuid {uuid} --filter-criteria "
            f"'{json.dumps({'Filters': kept}, separators=(',', ':'))}'"
        )
        listed = "; ".join(ev.patterns)
        if ev.cause == "all-filtered-out":
            text = (
                f"The filters of ESM {uuid} dropped all {ev.polled_events:g} record(s) polled in the last "
                f"{ev.window_minutes} min, and Lambda committed their offsets. Check the patterns ({listed}) "
                f"against the records' `{health.KAFKA_FILTER_KEY}` (JSON, matched after base64 decoding) and "
                f"rewrite them, or remove them (`{command}`) to pass every record to the function."
            )
        else:
            text = (
                f"ESM {uuid} has filter pattern(s) that match no Kafka record ({listed}: "
                f"{'; '.join(ev.problems)}). Rewrite each under `{health.KAFKA_FILTER_KEY}`, or remove them "
                f"and keep the others as written (`{command}`)."
            )
        return [ManualStep(because=(finding.code,), text=text)]


@register
class RaiseMaxPollers(PollerConfigWrite):
    """Double a provisioned-mode mapping's MaximumPollers (at most 2,000), keeping MinimumPollers."""

    name = "raise_max_pollers"
    doing = "raising the provisioned pollers of"
    accepts = (OffsetLagGrowing,)
    order = 81
    permissions = ("lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping")

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, OffsetLagGrowing)
        if ev.cause != "provisioned-maximum" or ev.maximum_pollers is None:
            return []
        if ev.maximum_pollers >= health.MAX_POLLERS_LIMIT:
            return []  # lag_steps says what is left
        minimum = ev.minimum_pollers or health.PROVISIONED_MIN_POLLERS
        wanted = min(health.MAX_POLLERS_LIMIT, ev.maximum_pollers * 2)
        change = Change(
            id="",
            action=self.name,
            resource=facts.esm.uuid,
            before={
                "ProvisionedPollerConfig": {"MinimumPollers": minimum, "MaximumPollers": ev.maximum_pollers}
            },
            after={"ProvisionedPollerConfig": {"MinimumPollers": minimum, "MaximumPollers": wanted}},
        )
        return [Draft(change)]


@register
class LagSteps(ManualAction):
    """What no API call here can do for growing lag: more partitions (pollers are capped by them)."""

    name = "lag_steps"
    accepts = (OffsetLagGrowing,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, OffsetLagGrowing)
        topics = ", ".join(facts.esm.topics) or "the topic"
        partitions = (
            f"Lambda runs at most one poller per partition of {topics}, so lag that outgrows every poller "
            f"needs more partitions (`kafka-topics.sh --bootstrap-server BROKERS --alter --topic {topics} "
            "--partitions N`; records with the same key may then land on another partition)"
        )
        if ev.cause == "provisioned-maximum":
            text = (
                f"{partitions}. Raising MaximumPollers above the partition count changes nothing: Lambda "
                "caps it there."
            )
        else:
            text = (
                f"ESM {facts.esm.uuid} is in on-demand mode, whose pollers Lambda adds within three minutes "
                f"of seeing lag: {partitions}; or give it provisioned pollers (`aws lambda "
                f"update-event-source-mapping --uuid {facts.esm.uuid} --provisioned-poller-config "
                f"MinimumPollers={health.PROVISIONED_MIN_POLLERS},MaximumPollers=N`; cost: {COST_BASIS})."
            )
        return [ManualStep(because=(finding.code,), text=text)]


@register
class StraySteps(ManualAction):
    """A stray mapping is deleted by a person: deleting is never planned without being asked for."""

    name = "stray_steps"
    accepts = (StrayMapping, StrayDisabled)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        uuid = facts.esm.uuid
        if isinstance(ev, StrayDisabled):  # issue 25: disabled for longer than stray_disabled_days
            return [
                ManualStep(
                    because=(finding.code,),
                    text=f"ESM {uuid} has been {ev.state} since {ev.disabled_since} ({ev.days:g} days): "
                    f"enable it (`aws lambda update-event-source-mapping --uuid {uuid} --enabled`) if it is "
                    f"still wanted, or delete it (`aws lambda delete-event-source-mapping --uuid {uuid}`, or "
                    "`remediate scan --fix --delete-strays`) and remove it from the template that created "
                    "it.",
                )
            ]
        assert isinstance(ev, StrayMapping)
        elsewhere = "function" if ev.cause == "function-deleted" else "cluster"
        return [
            ManualStep(
                because=(finding.code,),
                text=f"{ev.source} no longer exists, so ESM {uuid} can never deliver: keep its settings "
                f"(`aws lambda get-event-source-mapping --uuid {uuid}`) if it is to be re-created for "
                f"another {elsewhere}, then delete it "
                f"(`aws lambda delete-event-source-mapping --uuid {uuid}`), and remove it from the template "
                "that created it, or the next deployment re-creates it.",
            )
        ]
