"""`remediate ssm-start`: the StartAutomationExecution request, checked by botocore's own validation."""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from remediate.aws import Aws
from remediate.errors import InputError
from remediate.sandbox import Sandbox, build_scenario
from remediate.ssm.start import StartRequest, start
from tests.conftest import CliRunner

ESM = "0f4c2c4e-1111-4222-8333-944455556666"
ROLE = "arn:aws:iam::111122223333:role/RemediateAutomation"
ADMIN = "arn:aws:iam::111122223333:role/Remediate-AutomationAdministrationRole"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Aws:
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return Aws(region="us-east-1", attempts=1)


def test_one_esm_in_this_account(aws: Aws) -> None:
    request = StartRequest(document_name="Remediate", esm_id=ESM, assume_role_arn=ROLE, mode="Apply")
    with Stubber(aws.client("ssm")) as stub:  # the Stubber validates the request against botocore's model
        stub.add_response(
            "start_automation_execution",
            {"AutomationExecutionId": "a1b2c3d4-0000-4000-8000-000000000001"},
            {
                "DocumentName": "Remediate",
                "Parameters": {"AutomationAssumeRole": [ROLE], "EsmId": [ESM], "Mode": ["Apply"]},
            },
        )
        assert start(aws, request) == "a1b2c3d4-0000-4000-8000-000000000001"
        stub.assert_no_pending_responses()


def test_one_esm_with_the_probe(aws: Aws) -> None:
    """issue 27, item 7: `--probe` starts Diagnose with the runbook's Probe parameter."""
    request = StartRequest(
        document_name="Remediate", esm_id=ESM, assume_role_arn=ROLE, mode="Diagnose", probe=True
    )
    with Stubber(aws.client("ssm")) as stub:
        stub.add_response(
            "start_automation_execution",
            {"AutomationExecutionId": "a1b2c3d4-0000-4000-8000-000000000002"},
            {
                "DocumentName": "Remediate",
                "Parameters": {
                    "AutomationAssumeRole": [ROLE],
                    "Probe": ["true"],
                    "EsmId": [ESM],
                    "Mode": ["Diagnose"],
                },
            },
        )
        assert start(aws, request) == "a1b2c3d4-0000-4000-8000-000000000002"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"esm_id": "nope"}, "not an event source mapping"),
        ({"esm_id": ""}, "give --esm"),
        ({"mode": "Fix"}, "mode"),
        ({"assume_role_arn": "RemediateAutomation"}, "not an IAM role ARN"),
        ({"assume_role_arn": "arn:aws:iam::12:role/x"}, "not an IAM role ARN"),
        ({"auto_approve": True}, "Mode Apply only"),
        ({"probe": True, "mode": "Apply"}, "--probe runs with --mode Diagnose or Plan"),  # issue 27, item 7
        ({"accounts": ("111122223333",)}, "together"),
        (
            {"esm_id": "", "accounts": ("111122223333",), "regions": ("us-east-1",), "mode": "Apply"},
            "aws:approve",
        ),
        ({"accounts": ("111122223333",), "regions": ("us-east-1",)}, "each run finds its own"),
        (
            {"esm_id": "", "accounts": ("1111",), "regions": ("us-east-1",)},
            "'1111' is not an account or OU id",
        ),
        ({"esm_id": "", "accounts": ("111122223333",), "regions": ("Europe",)}, "'Europe' is not a region"),
        (
            {"esm_id": "", "accounts": tuple(f"{i:012d}" for i in range(51)), "regions": ("us-east-1",)},
            "at most 50",
        ),
        (
            {"esm_id": "", "accounts": ("111122223333",), "regions": ("us-east-1",), "max_errors": "0%"},
            "--max-errors",
        ),
    ],
)
def test_bad_requests_are_refused_before_calling_aws(changes: dict[str, object], message: str) -> None:
    request = StartRequest(document_name="Remediate", esm_id=ESM, assume_role_arn=ROLE)
    with pytest.raises(InputError, match=message):
        StartRequest(**{**request.__dict__, **changes}).params()  # type: ignore[arg-type]


def test_cli_refuses_a_bad_role_arn_in_one_line_without_calling_aws(sandbox: Sandbox, cli: CliRunner) -> None:
    result = cli("ssm-start", "--esm", ESM, "--role-arn", "admin")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["Error: --role-arn 'admin' is not an IAM role ARN"]
    assert sandbox.calls == []


def test_cli_fails_in_one_line_at_the_first_answer_when_the_api_is_unavailable(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    """No runbook deployed (AutomationDefinitionNotFoundException): one attempt, one line, no HTML."""
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.clear_calls()
    result = cli("ssm-start", "--esm", scn.esm_uuid, "--role-arn", ROLE)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: ssm:start_automation_execution failed")
    assert "<" not in line
    assert sandbox.calls == [("ssm", "StartAutomationExecution")]


def _deployed(sandbox: Sandbox, cli: CliRunner) -> None:
    """The runbook as `ssm-document` prints it, created in the sandbox as a deployer would."""
    runbook = cli("ssm-document", "--approver", ROLE)
    assert runbook.returncode == 0, runbook.stderr
    sandbox.client("ssm").create_document(
        Name="Remediate-KafkaEventSourceMapping",
        Content=runbook.stdout,
        DocumentType="Automation",
        DocumentFormat="YAML",
    )


def test_n23_ssm_start_output_json_is_one_document(sandbox: Sandbox, cli: CliRunner) -> None:
    """operator-hunt N23: `ssm-start --output json` printed the bare execution id."""
    scn = build_scenario(sandbox, "broker-timeout")
    _deployed(sandbox, cli)
    result = cli("ssm-start", "--esm", scn.esm_uuid, "--role-arn", ROLE, "--output", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "remediate/ssm-start@1"
    assert len(doc["execution_id"]) == 36
    assert doc["document"] == "Remediate-KafkaEventSourceMapping"
    assert doc["parameters"] == {"AutomationAssumeRole": [ROLE], "EsmId": [scn.esm_uuid], "Mode": ["Plan"]}
    text = cli("ssm-start", "--esm", scn.esm_uuid, "--role-arn", ROLE)
    assert text.returncode == 0, text.stderr
    assert len(text.stdout.strip()) == 36
