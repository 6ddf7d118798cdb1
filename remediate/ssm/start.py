"""Starting the runbook in AWS: for one ESM, or across an AWS Organization's accounts and regions.

Across accounts, Automation runs the document in each target account and region as the execution
role named there (`AWS-SystemsManager-AutomationExecutionRole` by convention), with MaxConcurrency
and MaxErrors bounding how many run at once and how many failures stop the rollout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from remediate.aws import Aws
from remediate.errors import InputError
from remediate.observe.reads import parse_esm_id

DEFAULT_EXECUTION_ROLE = "AWS-SystemsManager-AutomationExecutionRole"


@dataclass(frozen=True)
class StartRequest:
    document_name: str
    esm_id: str
    assume_role_arn: str
    mode: str = "Plan"
    approvers: tuple[str, ...] = ()
    auto_approve: bool = False
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    execution_role_name: str = DEFAULT_EXECUTION_ROLE
    max_concurrency: str = "10%"
    max_errors: str = "1"

    def params(self) -> dict[str, Any]:
        """The StartAutomationExecution request (parameters are lists of strings, as the API takes them)."""
        parse_esm_id(self.esm_id)
        if self.mode not in ("Diagnose", "Plan", "Apply"):
            raise InputError(f"mode must be Diagnose, Plan or Apply, not {self.mode!r}")
        if self.mode == "Apply" and not self.auto_approve and not self.approvers:
            raise InputError("Apply mode needs --approver (or --auto-approve)")
        if bool(self.accounts) != bool(self.regions):
            raise InputError(
                "give --accounts and --regions together (or neither, for this account and region)"
            )
        parameters: dict[str, list[str]] = {
            "EsmId": [self.esm_id],
            "AutomationAssumeRole": [self.assume_role_arn],
            "Mode": [self.mode],
            "AutoApprove": ["true" if self.auto_approve else "false"],
        }
        if self.approvers:
            parameters["Approvers"] = list(self.approvers)
        request: dict[str, Any] = {"DocumentName": self.document_name, "Parameters": parameters}
        if self.accounts:
            request["TargetLocations"] = [
                {
                    "Accounts": list(self.accounts),
                    "Regions": list(self.regions),
                    "ExecutionRoleName": self.execution_role_name,
                    "TargetLocationMaxConcurrency": self.max_concurrency,
                    "TargetLocationMaxErrors": self.max_errors,
                }
            ]
            request["MaxConcurrency"] = self.max_concurrency
            request["MaxErrors"] = self.max_errors
        return request


def start(aws: Aws, request: StartRequest) -> str:
    """Start the execution; return its AutomationExecutionId."""
    response = aws.call("ssm", "start_automation_execution", **request.params())
    return str(response["AutomationExecutionId"])
