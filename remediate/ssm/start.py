"""Starting the runbook in AWS: for one ESM in this account, or across an Organization.

One ESM (any Mode): StartAutomationExecution with the runbook's parameters; the approval step's
approvers are in the deployed document, not in the request.

Across accounts and Regions (Diagnose or Plan only: aws:approve "doesn't support multi-account and
Region automations", automation-action-approve.html): the request carries `TargetLocations` (accounts
or OUs, Regions, the execution role each target account has) and targets one parameter value, `Mode`
(`TargetParameterName: Mode`, `Targets: [{Key: ParameterValues, Values: [MODE]}]`; targeting
parameter values, automation-working-targets.html), so each account and Region runs one child
automation. No ESM id travels: a UUID names one mapping in one account and Region, so each child
finds its account's Kafka mappings itself (an empty EsmId) and writes one report to the deployment's
bucket. `AutomationAssumeRole` is the management account's `Remediate-AutomationAdministrationRole`
(running-automations-multiple-accounts-regions.html).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from remediate.aws import Aws
from remediate.errors import AwsError, InputError
from remediate.observe.reads import parse_esm_id
from remediate.ssm.limits import MAX_TARGET_LOCATION_ITEMS

DEFAULT_EXECUTION_ROLE = "Remediate-AutomationExecutionRole"
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,64}$")
ACCOUNT_OR_OU = re.compile(r"^(\d{12}|ou-[a-z0-9]{4,32}-[a-z0-9]{8,32})$")
"""TargetLocation accounts: account ids or OU ids (the pattern API_TargetLocation gives ExcludeAccounts)."""
REGION = re.compile(r"^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$")
RATE = re.compile(r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$")
"""MaxConcurrency / MaxErrors: a number or a percentage (the API's pattern, zero excluded)."""
ROLE_NAME = re.compile(r"^[\w+=,.@/-]{1,64}$")


@dataclass(frozen=True)
class StartRequest:
    document_name: str
    assume_role_arn: str
    esm_id: str = ""
    mode: str = "Plan"
    auto_approve: bool = False
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    execution_role_name: str = DEFAULT_EXECUTION_ROLE
    max_concurrency: str = "10%"
    max_errors: str = "1"
    probe: bool = False
    """issue 27, item 7: the runbook's `Probe` (the deployment must allow it: AllowProbe)."""

    def params(self) -> dict[str, Any]:
        """The StartAutomationExecution request; every input is checked here, before any call."""
        if not ROLE_ARN.match(self.assume_role_arn):
            raise InputError(f"--role-arn {self.assume_role_arn!r} is not an IAM role ARN")
        if self.mode not in ("Diagnose", "Plan", "Apply"):
            raise InputError(f"mode must be Diagnose, Plan or Apply, not {self.mode!r}")
        if bool(self.accounts) != bool(self.regions):
            raise InputError(
                "give --accounts and --regions together (or neither, for this account and region)"
            )
        parameters: dict[str, list[str]] = {"AutomationAssumeRole": [self.assume_role_arn]}
        if self.auto_approve:
            if self.mode != "Apply":
                raise InputError("--auto-approve applies to Mode Apply only")
            parameters["AutoApprove"] = ["true"]
        if self.probe:  # issue 27, item 7: the plan step refuses the rest too; refused here before a call
            if self.mode == "Apply" or self.accounts:
                raise InputError("--probe runs with --mode Diagnose or Plan and one --esm")
            parameters["Probe"] = ["true"]
        if not self.accounts:
            if not self.esm_id:
                raise InputError("give --esm (one mapping here), or --accounts and --regions (a fleet)")
            parse_esm_id(self.esm_id)
            parameters.update(EsmId=[self.esm_id], Mode=[self.mode])
            return {"DocumentName": self.document_name, "Parameters": parameters}
        return self._across(parameters)

    def _across(self, parameters: dict[str, list[str]]) -> dict[str, Any]:
        if self.mode == "Apply":
            raise InputError(
                "Mode Apply cannot run across accounts (aws:approve does not support multi-account "
                "automations); run Diagnose or Plan across them, then Apply per account and ESM"
            )
        if self.esm_id:
            raise InputError("--esm names one mapping in one account; across accounts each run finds its own")
        checks = (
            ("--accounts", self.accounts, ACCOUNT_OR_OU, "an account or OU id"),
            ("--regions", self.regions, REGION, "a region"),
        )
        for name, values, pattern, what in checks:
            bad = [v for v in values if not pattern.match(v)]
            if bad:
                raise InputError(f"{name}: {bad[0]!r} is not {what}")
            if len(values) > MAX_TARGET_LOCATION_ITEMS:
                raise InputError(f"{name}: at most {MAX_TARGET_LOCATION_ITEMS} per run, not {len(values)}")
        for name, value in (("--max-concurrency", self.max_concurrency), ("--max-errors", self.max_errors)):
            if not RATE.match(value):
                raise InputError(f"{name} {value!r} is not a number or a percentage like 10%")
        if not ROLE_NAME.match(self.execution_role_name):
            raise InputError(f"--execution-role-name {self.execution_role_name!r} is not a role name")
        location: dict[str, Any] = {
            "Accounts": list(self.accounts),
            "Regions": list(self.regions),
            "ExecutionRoleName": self.execution_role_name,
            "TargetLocationMaxConcurrency": self.max_concurrency,
            "TargetLocationMaxErrors": self.max_errors,
        }
        if any(a.startswith("ou-") for a in self.accounts):
            # issue 27, D7: the StackSet deploys to nested OUs too, and IncludeChildOrganizationUnits
            # "The default is false" (API_TargetLocation): without it nested accounts are never diagnosed.
            location["IncludeChildOrganizationUnits"] = True
        return {
            "DocumentName": self.document_name,
            "Parameters": parameters,
            "TargetParameterName": "Mode",
            "Targets": [{"Key": "ParameterValues", "Values": [self.mode]}],
            "TargetLocations": [location],
            "MaxConcurrency": self.max_concurrency,
            "MaxErrors": self.max_errors,
        }


def start(aws: Aws, request: StartRequest) -> str:
    """Start the execution; return its AutomationExecutionId. One attempt: a person is waiting."""
    from botocore.exceptions import BotoCoreError

    params = request.params()
    aws.attempts = 1
    try:
        response = aws.call("ssm", "start_automation_execution", **params)
    except AwsError as exc:
        raise AwsError(_one_line(str(exc)), code=exc.code, operation=exc.operation) from None
    except BotoCoreError as exc:
        raise AwsError(f"ssm:StartAutomationExecution failed: {_one_line(str(exc))}") from None
    return str(response["AutomationExecutionId"])


def _one_line(text: str) -> str:
    """An error as one readable line: an HTML body (a proxy, an endpoint without the API) is cut."""
    if "<" in text and ">" in text:
        text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."
