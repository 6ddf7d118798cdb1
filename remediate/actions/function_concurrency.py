"""clear_reserved_concurrency: remove a reserved concurrency of 0 from the mapping's function
(lambda:DeleteFunctionConcurrency), so it draws from the account's unreserved pool again; and the manual
steps for a function that cannot run for any other reason, is throttled, or fails.

Reserved concurrency is the most concurrent instances a function may have (Lambda developer guide,
"Configuring reserved concurrency for a function"; PutFunctionConcurrency "sets the maximum number of
simultaneous executions"): at 0 none runs, so no batch is ever processed. Clearing it is a change like
any other: planned, approved, journaled, verified; its rollback puts 0 back (PutFunctionConcurrency),
exactly what was there before. Every other cause (a Failed or Inactive function, a failed update, code
errors) needs a person, and the plan names where to look: the function's log group.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from remediate import health
from remediate.actions.base import Action, ApplyContext, Draft, ManualAction, register
from remediate.evidence import FunctionCannotRun, FunctionFailing, FunctionThrottled
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep


def _reserved(ctx: ApplyContext, function: str) -> int | None:
    raw = ctx.aws.call("lambda", "get_function_concurrency", FunctionName=function)
    value = raw.get("ReservedConcurrentExecutions")
    return int(value) if value is not None else None


@register
class ClearReservedConcurrency(Action):
    """Set the function's reserved concurrency to `after` (None: no reservation)."""

    name = "clear_reserved_concurrency"
    accepts = (FunctionCannotRun,)
    order = 45
    permissions = (
        "lambda:GetFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency",
        "lambda:PutFunctionConcurrency",  # the rollback restores the reservation it removed
    )

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, FunctionCannotRun)
        if ev.cause != "reserved-concurrency-zero":
            return []
        function = ":".join(ev.function.split(":")[:7])
        change = Change(
            id="",
            action=self.name,
            resource=function,
            before={"ReservedConcurrentExecutions": 0},
            after={"ReservedConcurrentExecutions": None},
        )
        return [Draft(change)]

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        return bool(_reserved(ctx, change.resource) == change.after["ReservedConcurrentExecutions"])

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        wanted = change.after["ReservedConcurrentExecutions"]
        if wanted is None:
            ctx.progress(f"removing the reserved concurrency of {change.resource}")
            ctx.aws.call("lambda", "delete_function_concurrency", FunctionName=change.resource)
        else:
            ctx.progress(f"setting the reserved concurrency of {change.resource} to {wanted}")
            ctx.aws.call(
                "lambda",
                "put_function_concurrency",
                FunctionName=change.resource,
                ReservedConcurrentExecutions=wanted,
            )
        return {"previous": change.before}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        now = _reserved(ctx, change.resource)
        wanted = change.after["ReservedConcurrentExecutions"]
        return (
            None if now == wanted else f"{change.resource} has reserved concurrency {now}, expected {wanted}"
        )


@register
class FunctionSteps(ManualAction):
    """What a person fixes on the function: its state, a failed update, throttling, errors in its code."""

    name = "function_steps"
    accepts = (FunctionCannotRun, FunctionThrottled, FunctionFailing)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        fn = facts.function
        group = health.log_group(fn.name, fn.log_group) if fn is not None else "its log group"
        if isinstance(ev, FunctionFailing):
            text = (
                f"{ev.errors:g} of {ev.invocations:g} invocation(s) of {ev.function} failed in the last "
                f"{ev.window_minutes} min: read the errors in log group {group} (`aws logs tail {group} "
                "--since "
                f"{ev.window_minutes}m --filter-pattern ERROR`), fix the code and deploy it. Kafka batches "
                "that "
                "keep failing are retried until they succeed or expire, holding back their partitions."
            )
        elif isinstance(ev, FunctionThrottled):
            text = (
                f"{ev.function} was throttled {ev.throttles:g} time(s) in the last {ev.window_minutes} min "
                "(reserved concurrency "
                f"{ev.reserved_concurrency if ev.reserved_concurrency is not None else 'none'}"
                "): raise its reserved concurrency (`aws lambda put-function-concurrency --function-name "
                f"{ev.function} --reserved-concurrent-executions N`) or the account's concurrency quota, or "
                "lower other functions' use of the unreserved pool."
            )
        else:
            assert isinstance(ev, FunctionCannotRun)
            if ev.cause == "reserved-concurrency-zero":
                return []
            if ev.cause == "last-update-failed":
                text = (
                    f"The last update of {ev.function} failed "
                    f"({ev.last_update_status_reason or 'no reason given'}); "
                    "Lambda still runs the previous code and configuration. Fix what the reason names and "
                    "deploy "
                    f"again; `aws lambda get-function-configuration --function-name {ev.function} --query "
                    "'[LastUpdateStatus,LastUpdateStatusReason]'` shows the outcome."
                )
            else:
                text = (
                    f"{ev.function} is {ev.state} ({ev.state_reason or 'no reason given'}) and only an "
                    "Active "
                    "function runs. A Failed function must be fixed (the reason names what, often its VPC "
                    "subnets, security groups or execution role) and deployed again, or re-created; an "
                    "Inactive one becomes Pending on its next invocation while Lambda re-creates its "
                    f"resources. Its logs are in {group}."
                )
        return [ManualStep(because=(finding.code,), text=text)]
