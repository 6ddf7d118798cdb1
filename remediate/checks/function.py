"""Checks on the mapping's function: it cannot run (its state, a failed update, reserved concurrency 0),
it is throttled, or most of its invocations fail. The ESM's pollers may be perfectly healthy while the
trigger does nothing, because the function they invoke does not run.

The counts come from the function's CloudWatch metrics over the window (`FunctionHealth`), the state from
GetFunctionConfiguration, the reserved concurrency from GetFunctionConcurrency.
"""

from __future__ import annotations

from remediate import health
from remediate.checks.base import check
from remediate.evidence import CouldNotCheck, FunctionCannotRun, FunctionFailing, FunctionThrottled
from remediate.facts import Facts
from remediate.findings import Finding


@check("function_runs", "FUNCTION_CANNOT_RUN", "FUNCTION_THROTTLED", "FUNCTION_FAILING", "COULD_NOT_CHECK")
def function_runs(facts: Facts) -> list[Finding]:
    """The function must be Active, updated, allowed to run at all, not throttled, and mostly succeed."""
    fn, fh = facts.function, facts.function_health
    if fn is None:
        return []
    found: list[Finding] = []
    reserved = fh.reserved_concurrency if fh is not None else None

    def cannot(cause: str, why: str) -> Finding:
        return Finding(
            code="FUNCTION_CANNOT_RUN",
            summary=f"function {fn.name}: {why}",
            evidence=FunctionCannotRun(
                function=fn.arn,
                cause=cause,  # type: ignore[arg-type]
                state=fn.state,
                state_reason=fn.state_reason,
                last_update_status=fn.last_update_status,
                last_update_status_reason=fn.last_update_status_reason,
                reserved_concurrency=reserved,
            ),
        )

    if fn.state in health.FUNCTION_NOT_RUNNING_STATES:
        found.append(
            cannot(
                "state",
                f"State {fn.state} ({fn.state_reason or 'no reason given'}): only an Active function runs",
            )
        )
    if fn.last_update_status == "Failed":
        found.append(
            cannot(
                "last-update-failed",
                f"its last update failed ({fn.last_update_status_reason or 'no reason given'}): Lambda "
                "abandoned "
                "it and keeps running the previous code and configuration",
            )
        )
    if reserved == 0:
        found.append(
            cannot(
                "reserved-concurrency-zero",
                "reserved concurrency is 0: every invocation is throttled, so no batch is ever processed",
            )
        )
    if fh is None:
        return found
    if fh.unread:
        what = f"the health of function {fn.name} (reserved concurrency, metrics)"
        found.append(
            Finding(
                code="COULD_NOT_CHECK",
                summary=f"could not check {what}: {'; '.join(fh.unread)}",
                evidence=CouldNotCheck(what=what, reason="; ".join(fh.unread)),
            )
        )
    invocations = fh.invocations or 0.0
    if fh.throttles and reserved != 0:
        found.append(
            Finding(
                code="FUNCTION_THROTTLED",
                summary=f"function {fn.name}: {fh.throttles:g} throttled invocation(s) against "
                f"{invocations:g} run "
                f"in the last {fh.window_minutes} min (reserved concurrency "
                f"{reserved if reserved is not None else 'none'})",
                evidence=FunctionThrottled(
                    function=fn.arn,
                    window_minutes=fh.window_minutes,
                    throttles=fh.throttles,
                    invocations=invocations,
                    reserved_concurrency=reserved,
                ),
            )
        )
    if fh.errors and fh.errors >= health.FAILING_SHARE * invocations:
        group = health.log_group(fn.name, fn.log_group)
        found.append(
            Finding(
                code="FUNCTION_FAILING",
                summary=f"function {fn.name}: {fh.errors:g} of {invocations:g} invocation(s) returned an "
                "error in the "
                f"last {fh.window_minutes} min; its log group is {group}",
                evidence=FunctionFailing(
                    function=fn.arn,
                    window_minutes=fh.window_minutes,
                    errors=fh.errors,
                    invocations=invocations,
                    log_group=group,
                ),
            )
        )
    return found
