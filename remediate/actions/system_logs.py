"""enable_system_logs (issue 21, item 3): turn on a Kafka mapping's own system logs, as a named alternative.

Lambda developer guide, "Kafka event source mapping logging" (https://docs.aws.amazon.com/lambda/latest/dg/
esm-logging.html): system logs are "only available for Kafka event source mappings, and with Provisioned
mode"; they go to "the same log destination with your Lambda function" ("Make sure the execution role of your
Lambda function has the necessary logging permissions": `required_access.LOG_ACTIONS`, checked by the role
checks), in the mapping's own log stream. Levels (Lambda API reference, EventSourceMappingLoggingConfig):
DEBUG | INFO | WARN, where WARN is the least detail ("Messages about potential warns and errors that may
lead to unexpected behavior"), which is what an unexplained connection error needs, at the least volume.

It costs what the function's log group bills for the records (CloudWatch Logs ingestion and storage, per
GB), so it is never planned silently: the connection-unexplained playbook lists it and `--fix-with
system-logs` plans it. A mapping in on-demand mode cannot take it (Lambda refuses LoggingConfig there): its
plan is the manual step of switching it first.

Undoing it sends an empty LoggingConfig (no SystemLogLevel): the API reference marks SystemLogLevel "Required:
No" and names no other way to turn the logs off; that an empty object clears it is not confirmed there.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from remediate.actions.base import ApplyContext, Draft, register
from remediate.actions.esm import EsmFieldWrite, read_esm, wait_for_source
from remediate.evidence import ConnectionUnexplained
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep

LEVEL: Final = "WARN"
COST_BASIS: Final = (
    "the pollers' WARN records (warnings and errors only, the least detail) are written to the function's "
    "log group: CloudWatch Logs ingestion and storage billed per GB, kept as long as the group's retention "
    "(see the CloudWatch pricing page; not quoted by remediate); the execution role needs "
    "logs:CreateLogStream and logs:PutLogEvents on that group"
)


def _level(raw: dict[str, Any]) -> str | None:
    return (raw.get("LoggingConfig") or {}).get("SystemLogLevel") or None


@register
class EnableSystemLogs(EsmFieldWrite):
    """Set the mapping's LoggingConfig.SystemLogLevel to WARN, so its pollers log the Kafka error of each
    failure; verify reads the level back, rollback clears it."""

    name = "enable_system_logs"
    field = "LoggingConfig"
    doing = "setting the system logs of"
    order = 82
    permissions = ("lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping")
    accepts = (ConnectionUnexplained,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        esm = facts.esm
        if esm.system_log_level is not None:
            return []  # already logging
        if not esm.provisioned_pollers:
            return [
                ManualStep(
                    because=(finding.code,),
                    text=f"ESM {esm.uuid} polls on demand, and system logs exist only in provisioned mode "
                    "(Lambda refuses a LoggingConfig otherwise): switch it to provisioned mode first "
                    f"(`aws lambda update-event-source-mapping --uuid {esm.uuid} --provisioned-poller-config "
                    "MinimumPollers=1`, billed per event poller unit), then plan again.",
                )
            ]
        waiting = wait_for_source(facts, finding)
        if waiting is not None:
            return [waiting]
        change = Change(
            id="",
            action=self.name,
            resource=esm.uuid,
            before={"LoggingConfig": None},
            after={"LoggingConfig": {"SystemLogLevel": LEVEL}, "CostBasis": COST_BASIS},
        )
        return [Draft(change)]

    @staticmethod
    def _wanted(change: Change) -> str | None:
        return ((change.after or {}).get("LoggingConfig") or {}).get("SystemLogLevel") or None

    def moved(self, change: Change, ctx: ApplyContext) -> str | None:
        before = ((change.before or {}).get("LoggingConfig") or {}).get("SystemLogLevel") or None
        now = _level(read_esm(ctx, change.resource))
        return None if now == before else f"ESM {change.resource} now has SystemLogLevel {now}"

    def written(self, change: Change) -> dict[str, str]:
        wanted = self._wanted(change)
        return {"SystemLogLevel": wanted} if wanted else {}

    def mismatch(self, change: Change, esm: dict[str, Any]) -> str | None:
        have = _level(esm)
        wanted = self._wanted(change)
        return (
            None
            if have == wanted
            else f"ESM {change.resource} has SystemLogLevel {have}, expected {wanted or 'none (logs off)'}"
        )
