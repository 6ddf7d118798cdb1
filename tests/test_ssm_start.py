"""`remediate ssm-start`: the StartAutomationExecution request, checked by botocore's Stubber."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from remediate.aws import Aws
from remediate.errors import InputError
from remediate.ssm.start import StartRequest, start

ESM = "0f4c2c4e-1111-4222-8333-944455556666"
ROLE = "arn:aws:iam::111122223333:role/remediate-automation"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Aws:
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return Aws(region="us-east-1", attempts=1)


def test_one_esm_in_this_account(aws: Aws) -> None:
    request = StartRequest(
        document_name="Remediate", esm_id=ESM, assume_role_arn=ROLE, mode="Apply", approvers=("alice",)
    )
    with Stubber(aws.client("ssm")) as stub:
        stub.add_response(
            "start_automation_execution",
            {"AutomationExecutionId": "a1b2c3d4-0000-4000-8000-000000000001"},
            {
                "DocumentName": "Remediate",
                "Parameters": {
                    "EsmId": [ESM],
                    "AutomationAssumeRole": [ROLE],
                    "Mode": ["Apply"],
                    "AutoApprove": ["false"],
                    "Approvers": ["alice"],
                },
            },
        )
        assert start(aws, request) == "a1b2c3d4-0000-4000-8000-000000000001"
        stub.assert_no_pending_responses()


def test_across_an_organization(aws: Aws) -> None:
    request = StartRequest(
        document_name="Remediate",
        esm_id=ESM,
        assume_role_arn=ROLE,
        accounts=("111122223333", "ou-ab12-cdef3456"),
        regions=("us-east-1", "eu-west-1"),
        max_concurrency="2",
        max_errors="10%",
    )
    with Stubber(aws.client("ssm")) as stub:
        stub.add_response(
            "start_automation_execution",
            {"AutomationExecutionId": "a1b2c3d4-0000-4000-8000-000000000002"},
            {
                "DocumentName": "Remediate",
                "Parameters": {
                    "EsmId": [ESM],
                    "AutomationAssumeRole": [ROLE],
                    "Mode": ["Plan"],
                    "AutoApprove": ["false"],
                },
                "TargetLocations": [
                    {
                        "Accounts": ["111122223333", "ou-ab12-cdef3456"],
                        "Regions": ["us-east-1", "eu-west-1"],
                        "ExecutionRoleName": "AWS-SystemsManager-AutomationExecutionRole",
                        "TargetLocationMaxConcurrency": "2",
                        "TargetLocationMaxErrors": "10%",
                    }
                ],
                "MaxConcurrency": "2",
                "MaxErrors": "10%",
            },
        )
        assert start(aws, request) == "a1b2c3d4-0000-4000-8000-000000000002"
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"esm_id": "nope"}, "not an event source mapping"),
        ({"mode": "Fix"}, "mode"),
        ({"mode": "Apply"}, "approver"),
        ({"accounts": ("111122223333",)}, "together"),
    ],
)
def test_bad_requests_are_refused_before_calling_aws(changes: dict[str, object], message: str) -> None:
    request = StartRequest(document_name="Remediate", esm_id=ESM, assume_role_arn=ROLE)
    with pytest.raises(InputError, match=message):
        StartRequest(**{**request.__dict__, **changes}).params()  # type: ignore[arg-type]
