"""The Organization-wide Diagnose flow, end to end.

1. The operator starts Diagnose across accounts and Regions: the request is checked by botocore's own
   parameter validation against the StartAutomationExecution model (and by a Stubber).
2. Automation starts one child per account and Region with the targeted parameter value (Mode) and the
   request's Parameters. Each child is run here by the local runner against the sandbox (one account,
   one Region: what one child sees), with exactly those parameters: no ESM id.
3. The child finds the account's Kafka mappings itself and writes one report to the bucket the runbook
   was deployed with; the report names every mapping and its findings.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber
from botocore.validate import validate_parameters

from remediate.aws import Aws
from remediate.sandbox import Sandbox, build_scenario
from remediate.ssm.document import Deploy, runbook
from remediate.ssm.runner import Runner, answer_all
from remediate.ssm.start import StartRequest, start

ADMIN = "arn:aws:iam::123456789012:role/Remediate-AutomationAdministrationRole"
BUCKET = "remediate-central"
WRITES = ("Update", "Authorize", "Create", "Modify", "Associate", "Revoke", "Delete", "Tag", "Untag")


def _request(mode: str = "Diagnose") -> StartRequest:
    return StartRequest(
        document_name="Remediate-KafkaEventSourceMapping",
        assume_role_arn=ADMIN,
        mode=mode,
        accounts=("123456789012", "ou-ab12-cdef3456"),
        regions=("us-east-1", "eu-west-1"),
        max_concurrency="2",
        max_errors="10%",
    )


def _child_parameters(request: dict[str, Any]) -> dict[str, Any]:
    """What Automation gives each child: the request's Parameters plus the targeted parameter value."""
    [target] = request["Targets"]
    assert target["Key"] == "ParameterValues"
    return {**request["Parameters"], request["TargetParameterName"]: target["Values"]}


@pytest.mark.parametrize("mode", ["Diagnose", "Plan"])
def test_the_org_request_passes_botocore_validation(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    request = _request(mode).params()
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws = Aws(region="us-east-1", attempts=1)
    model = aws.client("ssm").meta.service_model.operation_model("StartAutomationExecution")
    validate_parameters(request, model.input_shape)  # raises ParamValidationError on any shape error
    assert request == {
        "DocumentName": "Remediate-KafkaEventSourceMapping",
        "Parameters": {"AutomationAssumeRole": [ADMIN]},
        "TargetParameterName": "Mode",
        "Targets": [{"Key": "ParameterValues", "Values": [mode]}],
        "TargetLocations": [
            {
                "Accounts": ["123456789012", "ou-ab12-cdef3456"],
                "Regions": ["us-east-1", "eu-west-1"],
                "ExecutionRoleName": "Remediate-AutomationExecutionRole",
                "TargetLocationMaxConcurrency": "2",
                "TargetLocationMaxErrors": "10%",
                "IncludeChildOrganizationUnits": True,  # issue 27, D7: an OU is given
            }
        ],
        "MaxConcurrency": "2",
        "MaxErrors": "10%",
    }
    with Stubber(aws.client("ssm")) as stub:
        stub.add_response("start_automation_execution", {"AutomationExecutionId": "e" * 36}, request)
        assert start(aws, _request(mode)) == "e" * 36


def test_a_child_diagnoses_its_accounts_mappings_and_writes_one_report(
    sandbox: Sandbox, cli_env: dict[str, str]
) -> None:
    healthy = build_scenario(sandbox, "healthy-msk")
    timeout = build_scenario(sandbox, "broker-timeout")
    build_scenario(sandbox, "sqs-esm")  # not Kafka: not in the report
    sandbox.client("s3").create_bucket(Bucket=BUCKET)
    sandbox.clear_calls()
    doc = runbook(Deploy(approvers=["alice"], bucket=BUCKET))
    parameters = _child_parameters(_request().params())
    execution = Runner(
        doc, approver=answer_all(False), env=cli_env, region="us-east-1", account_id="123456789012"
    ).run(parameters)
    assert execution.status == "Success", execution.failure
    assert [s.name for s in execution.steps] == ["version", "defaultVersion", "plan", "decide", "finish"]
    location = execution.outputs["plan.Report"]
    assert location == f"s3://{BUCKET}/remediate/reports/123456789012/us-east-1/{execution.execution_id}.json"
    body = sandbox.client("s3").get_object(Bucket=BUCKET, Key=location.split("/", 3)[3])["Body"].read()
    report = json.loads(body)
    assert report["schema"] == "remediate/scan@1"
    assert (report["account"], report["region"], report["mode"]) == ("123456789012", "us-east-1", "Diagnose")
    found = {m["esm_uuid"]: [f["code"] for f in m["findings"]] for m in report["mappings"]}
    assert found == {healthy.esm_uuid: [], timeout.esm_uuid: ["BROKER_TIMEOUT"]}
    assert execution.outputs["plan.Findings"] == [
        f for f in execution.outputs["plan.Findings"] if timeout.esm_uuid in f
    ]
    assert [op for svc, op in sandbox.calls if svc != "s3" and op.startswith(WRITES)] == []


def test_a_child_in_plan_mode_reports_the_plans(sandbox: Sandbox, cli_env: dict[str, str]) -> None:
    timeout = build_scenario(sandbox, "broker-timeout")
    sandbox.client("s3").create_bucket(Bucket=BUCKET)
    doc = runbook(Deploy(approvers=["alice"], bucket=BUCKET))
    execution = Runner(doc, approver=answer_all(False), env=cli_env, region="us-east-1").run(
        _child_parameters(_request("Plan").params())
    )
    assert execution.status == "Success", execution.failure
    key = execution.outputs["plan.Report"].split("/", 3)[3]
    report = json.loads(sandbox.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())
    [plan] = report["plans"]
    assert plan["target"]["esm_uuid"] == timeout.esm_uuid
    assert [c["action"] for c in plan["changes"]] == ["update_esm", "reenable_esm"]


def test_apply_without_an_esm_is_refused_by_the_child(sandbox: Sandbox, cli_env: dict[str, str]) -> None:
    doc = runbook(Deploy(approvers=["alice"], bucket=BUCKET))
    execution = Runner(doc, approver=answer_all(True), env=cli_env, region="us-east-1").run(
        {"AutomationAssumeRole": ADMIN, "Mode": "Apply"}
    )
    assert execution.status == "Failed"
    assert "Mode Apply needs an EsmId" in execution.failure


# -- issue 27, D3: member-account Apply is approved by that account's own roles ---------------------

MEMBER_PARAMS = {
    "AWS::AccountId": "210987654321",
    "AWS::Region": "eu-west-1",
    "AdminAccountId": "123456789012",
    "RoleRegion": "eu-west-1",
    "Bucket": BUCKET,
    "BundleBucket": "bundles",
    "BundleSha256": "b" * 64,
    "ApproverRoleNames": ["OnCall", "KafkaLead"],
    "MinRequiredApprovals": "1",
    "NotificationTopicName": "AutomationApprovals",
}


def test_the_member_document_names_each_accounts_own_approvers_and_topic() -> None:
    from remediate.ssm.cloudformation import MEMBER_ROLE_ARN, MEMBER_TOPIC_ARN, member_template
    from tests.cfn_eval import Resolver

    template = member_template()
    content = Resolver(template, MEMBER_PARAMS)(template["Resources"]["Runbook"]["Properties"]["Content"])
    approve = next(s for s in content["mainSteps"] if s["name"] == "approve")["inputs"]
    assert approve["Approvers"] == [MEMBER_ROLE_ARN + "OnCall", MEMBER_ROLE_ARN + "KafkaLead"]
    assert approve["NotificationArn"] == MEMBER_TOPIC_ARN + "AutomationApprovals"
    assert "123456789012" not in json.dumps(approve)  # nothing bound to one account
    assert "Approvers" not in template["Parameters"]
    assert "NotificationArn" not in template["Parameters"]


def test_a_member_apply_asks_that_accounts_roles(sandbox: Sandbox, cli_env: dict[str, str]) -> None:
    """The member document, run where it is deployed, asks the roles of *that* account (the runner
    substitutes global:ACCOUNT_ID and global:AWS_PARTITION as Automation does), and the topic ARN is the
    account's own, which the execution role may publish to."""
    from remediate.policy import Request, evaluate
    from remediate.ssm.cloudformation import member_template
    from tests.cfn_eval import Resolver, role_policies

    template = member_template()
    content = Resolver(template, MEMBER_PARAMS)(template["Resources"]["Runbook"]["Properties"]["Content"])
    del content["files"]  # the handlers come from the installed package here
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.client("s3").create_bucket(Bucket=BUCKET)
    asked: list[tuple[str, ...]] = []

    def approver(step: str, message: str, approvers: Any, minimum: int) -> list[tuple[str, bool]]:
        asked.append(tuple(approvers))
        return [(approvers[0], False)]

    account = sandbox.account_id
    runner = Runner(
        content, approver=approver, env=cli_env, region="us-east-1", account_id=account, poll_seconds=0.01
    )
    execution = runner.run({"EsmId": scn.esm_uuid, "Mode": "Apply", "AutomationAssumeRole": ADMIN})
    assert asked == [(f"arn:aws:iam::{account}:role/OnCall", f"arn:aws:iam::{account}:role/KafkaLead")], (
        execution.failure
    )
    assert execution.status == "Failed"  # rejected: nothing applied
    policies = role_policies(template, {**MEMBER_PARAMS, "AWS::AccountId": account})
    topic = f"arn:aws:sns:us-east-1:{account}:AutomationApprovals"
    assert evaluate(list(policies.values()), Request.make("sns:Publish", topic)).allowed
