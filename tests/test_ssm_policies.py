"""Every IAM policy the project generates passes parliament (no MEDIUM or higher finding beyond the
suppressions in tests/lint_policies.py), and the automation role cannot change itself."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
import yaml

from remediate.iam_policy import (
    STAR_ONLY,
    automation_policy,
    human_policy,
    policy_document,
    required_actions,
    resources_of,
)
from remediate.policy import Request, evaluate
from remediate.ssm.cloudformation import account_template, admin_policy, member_template
from remediate.write_scope import WriteScope
from tests.cfn_eval import role_policies
from tests.conftest import REMEDIATE
from tests.lint_policies import SUPPRESSED, all_findings, findings

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/RemediateAutomation"


def _resolved(policy: Any) -> Any:
    """A template's policy with its ${...} substitutions filled in, as CloudFormation would."""
    text = json.dumps(policy)
    for name, value in {
        "AWS::Partition": "aws",
        "AWS::AccountId": ACCOUNT,
        "RoleName": "RemediateAutomation",
        "Bucket": "remediate-state",
    }.items():
        text = text.replace("${" + name + "}", value)
    data = json.loads(text)

    def unsub(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
            return value["Fn::Sub"]
        if isinstance(value, dict):
            return {k: unsub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unsub(v) for v in value]
        return value

    return unsub(data)


SCOPED_DEPLOY = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": "eu-west-1",
    "RoleName": "RemediateAutomation",
    "Bucket": "remediate-state",
    "AdminAccountId": "444455556666",
    "RoleRegion": "eu-west-1",
    "FixableRolePath": "/service-role/",
    "FixableRoleTag": "payments",
    "FixableKeyArns": [f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0b5d8e0e-3e9e-4d32-9bd0-27d3a3b8f2a1"],
    "ReadableSecretArns": [f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:kafka/client-cert-*"],
}
"""Template parameters with every scope set (issue 27), so each conditional statement is linted."""


def _template_policies(params: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    out = {}
    for name, template in (("account", account_template()), ("member", member_template())):
        for key, policy in role_policies(template, params or SCOPED_DEPLOY).items():
            out[f"{name}/{key}"] = policy
    out["admin/AdministrationRole"] = _resolved(admin_policy())
    return out


POLICIES: dict[str, dict[str, Any]] = {
    "iam-policy --mode diagnose": policy_document("diagnose"),
    "iam-policy --mode apply": policy_document("apply"),
    "automation role": automation_policy(
        partition="aws",
        account=ACCOUNT,
        role_name="RemediateAutomation",
        bucket="remediate-state",
        scope=WriteScope(
            role_path="/service-role/",
            role_tag="payments",
            key_arns=tuple(SCOPED_DEPLOY["FixableKeyArns"]),
            secrets=tuple(SCOPED_DEPLOY["ReadableSecretArns"]),
        ),
    ),
    "starter": human_policy("starter", role_arn=ROLE, document_name="Remediate-KafkaEventSourceMapping"),
    "approver": human_policy("approver", role_arn=ROLE, document_name="Remediate-KafkaEventSourceMapping"),
    **_template_policies(),
}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_parliament_finds_nothing_medium_or_higher(name: str) -> None:
    assert findings(POLICIES[name]) == []


def test_each_suppression_is_still_needed() -> None:
    issues = {i for p in POLICIES.values() for i in all_findings(p)}
    assert set(SUPPRESSED) <= issues


def test_parliament_would_catch_a_mis_scoped_action() -> None:
    broken = automation_policy(partition="aws", account=ACCOUNT, role_name="R", bucket="b")
    broken["Statement"].append(
        {
            "Sid": "Wrong",
            "Effect": "Allow",
            "Action": "lambda:UpdateEventSourceMapping",
            "Resource": "arn:aws:s3:::x/*",
        }
    )
    assert any("RESOURCE_MISMATCH" in f for f in findings(broken))


def test_every_action_is_scoped_or_declared_star_only() -> None:
    for action in required_actions("apply"):
        arns = resources_of(action)
        assert arns == ("*",) if action in STAR_ONLY else "*" not in arns, action


def test_the_automation_role_cannot_modify_itself() -> None:
    policy = POLICIES["automation role"]
    own = ROLE
    other = f"arn:aws:iam::{ACCOUNT}:role/service-role/my-function-role"
    for action in ("iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:UpdateAssumeRolePolicy"):
        assert not evaluate(policy, Request.make(action, own)).allowed, action
        assert evaluate(policy, Request.make(action, other)).allowed, action
    assert not evaluate(policy, Request.make("iam:PutRolePolicy", "arn:aws:iam::999999999999:role/x")).allowed


def test_approval_notices_go_to_automation_topics_only() -> None:
    policy = POLICIES["automation role"]
    allowed = evaluate(
        policy, Request.make("sns:Publish", f"arn:aws:sns:eu-west-1:{ACCOUNT}:AutomationApprovals")
    )
    other = evaluate(policy, Request.make("sns:Publish", f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts"))
    assert allowed.allowed
    assert not other.allowed


def test_the_templates_role_policies_are_the_generated_ones() -> None:
    account = _template_policies()["account/AutomationAssumeRole/RemediateEngine"]
    assert account == POLICIES["automation role"]
    member = _template_policies()["member/ExecutionRole/RemediateEngine"]
    assert member["Statement"][-1]["Resource"].endswith(":role/Remediate-AutomationExecutionRole")
    unscoped = automation_policy(
        partition="aws", account=ACCOUNT, role_name="RemediateAutomation", bucket="remediate-state"
    )
    assert (
        _template_policies(
            {
                **SCOPED_DEPLOY,
                "FixableRolePath": "",
                "FixableRoleTag": "",
                "FixableKeyArns": [""],
                "ReadableSecretArns": [""],
            }
        )["account/AutomationAssumeRole/RemediateEngine"]
        == unscoped
    )


@pytest.mark.parametrize("who", ["starter", "approver"])
def test_cli_prints_the_human_policies(who: str) -> None:
    out = subprocess.run(
        [REMEDIATE, "iam-policy", "--for", who, "--role-arn", ROLE],
        capture_output=True,
        text=True,
        check=True,
    )
    policy = json.loads(out.stdout)
    actions = {
        a
        for s in policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    if who == "starter":
        assert {"ssm:StartAutomationExecution", "iam:PassRole", "ssm:StopAutomationExecution"} <= actions
        passing = next(s for s in policy["Statement"] if s["Action"] == "iam:PassRole")
        assert passing["Resource"] == ROLE
        assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}}
    else:
        assert "ssm:SendAutomationSignal" in actions
        assert "ssm:StartAutomationExecution" not in actions


def test_human_policy_needs_a_role_arn() -> None:
    out = subprocess.run(
        [REMEDIATE, "iam-policy", "--for", "starter", "--role-arn", "nope"], capture_output=True, text=True
    )
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "Error: 'nope' is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
    ]
    assert yaml.safe_load(out.stdout or "null") is None


def test_only_the_probe_opt_in_has_parliaments_privilege_escalation() -> None:
    """issue 27, item 7: AllowProbe gives the role CreateFunction + InvokeFunction + PassRole, the path
    parliament calls privilege escalation (a function runs as the role passed); that is what the deployer
    opts into, and all it adds. Which roles it may pass (in scope, to Lambda, never a privileged one) is
    tests/test_ssm_escalation.py's check."""
    opted_in = _template_policies({**SCOPED_DEPLOY, "AllowProbe": "true"})
    for name in ("account/AutomationAssumeRole/RemediateEngine", "member/ExecutionRole/RemediateEngine"):
        assert [f.split(":")[0] for f in findings(opted_in[name])] == ["HIGH PRIVILEGE_ESCALATION"], name
        assert findings(POLICIES[name]) == [], name
