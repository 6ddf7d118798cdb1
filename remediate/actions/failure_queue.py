"""A new on-failure destination for a mapping that retries a failing record forever (issue 25, item 1).

A Kafka mapping with an on-failure destination keeps the records it discards, and "when you configure both
infinite retries and an on-failure destination, Lambda automatically applies a maximum of 10 retry
attempts" (Lambda developer guide, "Using a Kafka topic as an on-failure destination",
kafka-on-failure-destination.html): a destination alone bounds the retries, in either scaling mode. When
the mapping has none, `create_failure_queue` plans three changes, each shown in the diff:

1. `create_failure_queue`: CreateQueue `remediate-failures-FUNCTION` (deterministic, so a second run finds
   the queue instead of making another; GetQueueUrl), encrypted with SSE-SQS (`SqsManagedSseEnabled`,
   Amazon SQS developer guide, "Encryption at rest") and tagged `remediate:run-id`;
2. `put_role_policy`: the execution role gets `sqs:SendMessage` on exactly that queue ("For an SQS
   destination: sqs:SendMessage", Lambda developer guide, "Capturing discarded batches for Amazon MSK and
   self-managed Apache Kafka event sources"), through the role's own policy patch (Sid'd statement);
3. `set_failure_destination`: UpdateEventSourceMapping `DestinationConfig.OnFailure.Destination`.

Rollback restores the destination and the policy, and deletes the queue only if this run created it and it
holds no message (the discarded records are the operator's to read first).
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from remediate import poller_paths
from remediate.actions.base import Action, ApplyContext, Draft, register
from remediate.actions.esm import read_esm, update_esm, wait_for_state
from remediate.actions.role_policy import _role_changes
from remediate.actions.security_group import RUN_TAG
from remediate.errors import AwsError
from remediate.evidence import RetriesUnbounded
from remediate.facts import ESM_SETTLED_STATES, Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep
from remediate.policy import PolicyError, Request

PREFIX: Final = "remediate-failures-"
QUEUE_NAME_MAX: Final = 80
"""SQS: a queue name has up to 80 characters (Amazon SQS API reference, CreateQueue)."""
_GONE: Final = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})
_COUNTS: Final = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


class FailureQueueParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    switch_mode: bool = False
    """The same plan switches the mapping to provisioned mode (whose pollers call no service from the VPC)."""


def unreachable_from_vpc(facts: Facts) -> list[str]:
    """The subnets from which on-demand pollers could not reach SQS: no NAT or other way out, and no live
    SQS endpoint. A destination they cannot reach turns a working mapping into "PROBLEM: Connection error.
    Your event source VPC must be able to connect to ... the OnFailure Destination (if one is configured)"
    (failure-classes, verbatim strings), so it is not set there."""
    net, closed = poller_paths.needs_endpoints(facts)
    if net is None or not closed or poller_paths.live_endpoint(facts, net, "sqs") is not None:
        return []
    return closed


def queue_name(function_arn: str) -> str:
    """`remediate-failures-FUNCTION`: one queue per function, the same on every run."""
    return (PREFIX + function_arn.split(":")[6])[:QUEUE_NAME_MAX]


def queue_arn(facts: Facts) -> str:
    _, _, _, region, account, *_ = facts.esm.function_arn.split(":")
    return f"arn:aws:sqs:{region}:{account}:{queue_name(facts.esm.function_arn)}"


def _url(ctx: ApplyContext, name: str) -> str | None:
    try:
        return str(ctx.aws.call("sqs", "get_queue_url", QueueName=name)["QueueUrl"])
    except AwsError as exc:
        if exc.code in _GONE:
            return None
        raise


@register
class CreateFailureQueue(Action):
    """The encrypted queue, the role's permission on it, and the mapping's destination (three changes)."""

    name = "create_failure_queue"
    accepts = (RetriesUnbounded,)
    order = 54  # before the role's policy (55), which names it
    permissions = (
        "sqs:GetQueueUrl",
        "sqs:CreateQueue",
        "sqs:TagQueue",
        "sqs:ListQueueTags",
        "sqs:GetQueueAttributes",
        "sqs:DeleteQueue",
    )
    created_id = "QueueUrl"
    Params = FailureQueueParams

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, RetriesUnbounded)
        assert isinstance(params, FailureQueueParams)
        if ev.on_failure_destination or facts.role is None:
            return []
        arn = queue_arn(facts)
        closed = [] if params.switch_mode else unreachable_from_vpc(facts)
        if closed:
            return [
                ManualStep(
                    because=(finding.code,),
                    text=f"ESM {facts.esm.uuid} is in on-demand mode, whose pollers would call an on-failure "
                    f"destination from subnets {', '.join(closed)}, which reach no SQS endpoint and no NAT: "
                    "a destination there would stop the mapping with a connection error. Give the VPC an "
                    "SQS interface endpoint, or plan with `--fix-with provisioned-mode`, then plan again: "
                    f"the queue {queue_name(facts.esm.function_arn)} is then created and named.",
                )
            ]
        try:
            grants, manual = _role_changes(facts.role, [Request.make("sqs:SendMessage", arn)])
        except PolicyError as exc:
            return [
                ManualStep(
                    because=(finding.code,),
                    text=f"Give ESM {facts.esm.uuid} an on-failure destination: role {facts.role.arn} "
                    f"cannot be granted sqs:SendMessage on {arn} ({exc})",
                )
            ]
        queue = Change(
            id="",
            action=self.name,
            resource=queue_name(facts.esm.function_arn),
            kind="create",
            before=None,
            after={"QueueArn": arn, "Attributes": {"SqsManagedSseEnabled": "true"}},
        )
        destination = Change(
            id="",
            action=SetFailureDestination.name,
            resource=facts.esm.uuid,
            before={"DestinationConfig": None},
            after={"DestinationConfig": {"OnFailure": {"Destination": arn}}},
        )
        return [
            Draft(queue),
            *(Draft(g) for g in grants),
            Draft(destination),
            *(ManualStep(because=(finding.code,), text=t) for t in manual),
        ]

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        if change.kind == "delete":
            return _url(ctx, change.resource.rsplit("/", 1)[-1]) is None
        return _url(ctx, change.resource) is not None

    def found(self, change: Change, ctx: ApplyContext) -> dict[str, Any] | None:
        url = _url(ctx, change.resource)
        if url is None:
            return None
        tags = ctx.aws.call("sqs", "list_queue_tags", QueueUrl=url).get("Tags") or {}
        return {"QueueUrl": url, "created": True} if tags.get(RUN_TAG) == ctx.run_id else None

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        if change.kind == "delete":
            ctx.progress(f"deleting queue {change.resource}")
            try:
                ctx.aws.call("sqs", "delete_queue", QueueUrl=change.resource)
            except AwsError as exc:
                if exc.code not in _GONE:
                    raise
            return {}
        url = _url(ctx, change.resource)
        if url is not None:  # a run before this one (or a person) made it: found, not created
            return {"QueueUrl": url, "created": False}
        ctx.progress(f"creating encrypted queue {change.resource}")
        made = ctx.aws.call(
            "sqs",
            "create_queue",
            QueueName=change.resource,
            Attributes=change.after["Attributes"],
            tags={RUN_TAG: ctx.run_id},
        )
        return {"QueueUrl": str(made["QueueUrl"]), "created": True}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        if change.kind == "delete":
            return None if self.is_done(change, ctx) else f"queue {change.resource} still exists"
        url = _url(ctx, change.resource)
        if url is None:
            return f"queue {change.resource} does not exist"
        attrs = ctx.aws.call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=["All"])
        sse = (attrs.get("Attributes") or {}).get("SqsManagedSseEnabled")
        if sse == "true":
            return None
        return f"queue {change.resource} is not encrypted (SqsManagedSseEnabled {sse})"

    def drift(self, change: Change, outputs: dict[str, Any], ctx: ApplyContext) -> str | None:
        """A queue holding messages (records the mapping discarded) is not deleted by a rollback."""
        url = _url(ctx, change.resource)
        if url is None:
            return None
        attrs = ctx.aws.call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=list(_COUNTS))
        held = sum(int((attrs.get("Attributes") or {}).get(k, 0)) for k in _COUNTS)
        if held:
            return f"queue {change.resource} holds {held} message(s): read them, then delete it by hand"
        return self.verify(change, ctx)


@register
class SetFailureDestination(Action):
    """UpdateEventSourceMapping DestinationConfig: where the mapping sends the records it discards."""

    name = "set_failure_destination"
    accepts = (RetriesUnbounded,)
    order = 79  # after the queue and the role's permission; before bound_retries (80)
    permissions = ("lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping")

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        return []  # drafted by create_failure_queue, with the queue it names

    def _current(self, ctx: ApplyContext, uuid: str) -> str:
        raw = read_esm(ctx, uuid)
        return str(((raw.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination") or "")

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        return self.verify(change, ctx) is None

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        wanted = change.after["DestinationConfig"]
        sent = wanted if wanted else {"OnFailure": {"Destination": ""}}  # an empty ARN removes it
        ctx.progress(f"setting the on-failure destination of ESM {change.resource}: {sent}")
        update_esm(ctx, change.resource, DestinationConfig=sent)
        wait_for_state(ctx, change.resource, ESM_SETTLED_STATES)
        return {"previous": change.before}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        wanted = ((change.after["DestinationConfig"] or {}).get("OnFailure") or {}).get("Destination") or ""
        have = self._current(ctx, change.resource)
        if have == wanted:
            return None
        return f"ESM {change.resource} sends failures to {have!r}, expected {wanted!r}"
