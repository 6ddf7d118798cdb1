"""Issue 27, D1: no generated policy lets its holder take over a role, a key or a secret it was not meant for.

Each generated policy (the runbook's role and the Organization's execution role under several deployments,
the administration role, and `iam-policy` as printed) is evaluated with the project's policy evaluator
(`remediate.policy.evaluate`, explicit Deny and conditions honoured) against requests on privileged
resources. A privileged role is tried at every path and *with* the tag that makes roles fixable, the worst
case: the Deny must win over any Allow. "unknown" counts as allowed. Positive controls show the same
requests on in-scope resources are allowed, so the checks can fail.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from remediate.iam_policy import SELF_MODIFY, policy_document
from remediate.policy import Request, evaluate
from remediate.ssm.cloudformation import account_template, admin_policy, member_template
from remediate.write_scope import TAG_KEY, WriteScope
from tests.cfn_eval import role_policies
from tests.conftest import REMEDIATE

ACCOUNT = "111122223333"
TAG = "payments"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0b5d8e0e-3e9e-4d32-9bd0-27d3a3b8f2a1"
BASE = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": "eu-west-1",
    "RoleName": "RemediateAutomation",
    "Bucket": "remediate-state",
    "AdminAccountId": "444455556666",
    "RoleRegion": "eu-west-1",
}
DEPLOYMENTS: dict[str, dict[str, Any]] = {
    "unscoped": {},
    "path": {"FixableRolePath": "/service-role/"},
    "tag": {"FixableRoleTag": TAG},
    "everything": {
        "FixableRolePath": "/service-role/",
        "FixableRoleTag": TAG,
        "FixableKeyArns": [KEY],
        "ReadableSecretArns": [f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:kafka/client-*"],
    },
    # issue 27, item 7: deployments that opted in to the probe (AllowProbe).
    "probe-unscoped": {"AllowProbe": "true"},
    "probe-path": {"FixableRolePath": "/service-role/", "AllowProbe": "true"},
    "probe-tag": {"FixableRoleTag": TAG, "AllowProbe": "true"},
}
PRIVILEGED = [
    "OrganizationAccountAccessRole",
    "aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef",
    "AWS-SystemsManager-AutomationExecutionRole",
    "AWS-SystemsManager-AutomationAdministrationRole",
    "stacksets-exec-0123456789abcdef0123456789abcdef",
    "cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-1",
    "RemediateAutomation",
    "Remediate-AutomationExecutionRole",
    "service-role/cdk-hnb659fds-deploy-role",  # a privileged name under the fixable path
    "service-role/OrganizationAccountAccessRole",
]
"""Role names with their path: AWS's and the deployment tools' powerful roles, and remediate's own."""
OTHER_SECRETS = [
    f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/db-password-AbCdEf",
    f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:kafka-admin-AbCdEf",
]
OTHER_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"


def _generated() -> dict[str, list[dict[str, Any]]]:
    """Each generated principal's identity policies, evaluated together as IAM does."""
    out: dict[str, list[dict[str, Any]]] = {}
    for deployment, params in DEPLOYMENTS.items():
        for kind, template in (("account", account_template()), ("member", member_template())):
            for name, policy in role_policies(template, {**BASE, **params}).items():
                out.setdefault(f"{kind}[{deployment}]/{name.split('/')[0]}", []).append(policy)
    out["admin/AdministrationRole"] = [
        json.loads(json.dumps(admin_policy()).replace("${AWS::Partition}", "aws"))
    ]
    for mode in ("diagnose", "apply"):
        out[f"iam-policy --mode {mode}"] = [policy_document(mode)]
        out[f"iam-policy --mode {mode} --account --role-path"] = [
            policy_document(mode, scope=WriteScope(role_path="/service-role/"), account=ACCOUNT)
        ]
    # issue 27, item 7: the probe's policy passes execution roles to Lambda.
    out["iam-policy --mode probe"] = [policy_document("probe")]
    out["iam-policy --mode probe --account --role-path"] = [
        policy_document("probe", scope=WriteScope(role_path="/service-role/"), account=ACCOUNT)
    ]
    out["iam-policy --mode probe --role-tag"] = [policy_document("probe", scope=WriteScope(role_tag=TAG))]
    return out


GENERATED = _generated()


def _allows(policy: list[dict[str, Any]], request: Request) -> bool:
    return evaluate(policy, request).decision in ("allow", "unknown")


def _writes_on_roles(policy: list[dict[str, Any]]) -> set[str]:
    """Every IAM action the policies name that changes a role, plus the nine that would widen one
    (iam:PassRole changes nothing: it is allowed on the role itself, to Systems Manager only)."""
    named = {
        a
        for doc in policy
        for s in doc["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        if a != "iam:PassRole"
    }
    return {
        a for a in named if a.startswith("iam:") and not a.split(":")[1].startswith(("Get", "List"))
    } | set(SELF_MODIFY)


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_no_generated_policy_rewrites_a_privileged_role(name: str) -> None:
    policy = GENERATED[name]
    for role in PRIVILEGED:
        arn = f"arn:aws:iam::{ACCOUNT}:role/{role}"
        for action in sorted(_writes_on_roles(policy)):
            for context in ({f"aws:ResourceTag/{TAG_KEY}": (TAG,)}, {}):
                request = Request.make(
                    action, arn, context=context, absent=() if context else (f"aws:ResourceTag/{TAG_KEY}",)
                )
                assert not _allows(policy, request), f"{name}: {action} on {arn} {context}"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_no_generated_policy_reads_an_unrelated_secret(name: str) -> None:
    policy = GENERATED[name]
    for secret in OTHER_SECRETS:
        assert not _allows(policy, Request.make("secretsmanager:GetSecretValue", secret)), f"{name}: {secret}"
    msk = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:AmazonMSK_orders-AbCdEf"
    reads = name != "admin/AdministrationRole"
    assert _allows(policy, Request.make("secretsmanager:GetSecretValue", msk)) == reads, name


@pytest.mark.parametrize("name", sorted(n for n in GENERATED if n.startswith(("account", "member", "admin"))))
def test_deployed_roles_rewrite_only_what_the_deployer_named(name: str) -> None:
    """The runbook's roles: no role outside the path or tag, no key outside the list; inside them, yes."""
    policy = GENERATED[name]
    deployment = next((d for d in DEPLOYMENTS if f"[{d}]" in name), "")
    params = DEPLOYMENTS.get(deployment, {})
    untagged = {"absent": (f"aws:ResourceTag/{TAG_KEY}",)}
    outside = Request.make("iam:UpdateAssumeRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/Admin", **untagged)
    assert not _allows(policy, outside), name
    assert not _allows(policy, Request.make("kms:PutKeyPolicy", OTHER_KEY)), name
    in_path = Request.make(
        "iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/service-role/orders-fn", **untagged
    )
    assert _allows(policy, in_path) == bool(params.get("FixableRolePath")), name
    tagged = Request.make(
        "iam:UpdateAssumeRolePolicy",
        f"arn:aws:iam::{ACCOUNT}:role/orders-fn",
        context={f"aws:ResourceTag/{TAG_KEY}": (TAG,)},
    )
    assert _allows(policy, tagged) == bool(params.get("FixableRoleTag")), name
    wrong_tag = Request.make(
        "iam:UpdateAssumeRolePolicy",
        f"arn:aws:iam::{ACCOUNT}:role/orders-fn",
        context={f"aws:ResourceTag/{TAG_KEY}": ("other-team",)},
    )
    assert not _allows(policy, wrong_tag), name
    assert _allows(policy, Request.make("kms:PutKeyPolicy", KEY)) == bool(params.get("FixableKeyArns")), name


def test_the_cli_policy_may_not_rewrite_the_role_it_goes_on() -> None:
    own = f"arn:aws:iam::{ACCOUNT}:role/oncall-engineer"
    out = subprocess.run(
        [REMEDIATE, "iam-policy", "--mode", "apply", "--role-arn", own],
        capture_output=True,
        text=True,
        check=True,
    )
    policy = json.loads(out.stdout)
    for action in SELF_MODIFY:
        assert evaluate(policy, Request.make(action, own)).decision == "deny", action
    other = f"arn:aws:iam::{ACCOUNT}:role/orders-fn"
    assert evaluate(policy, Request.make("iam:PutRolePolicy", other)).allowed
    assert evaluate(policy_document("apply"), Request.make("iam:PutRolePolicy", own)).allowed  # without it


def test_the_cli_prints_resource_scoped_arns_given_the_account() -> None:
    out = subprocess.run(
        [
            REMEDIATE,
            "iam-policy",
            "--mode",
            "apply",
            "--account",
            ACCOUNT,
            "--role-path",
            "/service-role/",
            "--key-arn",
            KEY,
            "--secret",
            "kafka/client-cert",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    policy = json.loads(out.stdout)
    from remediate.iam_policy import STAR_ONLY

    for stmt in policy["Statement"]:
        actions = [stmt["Action"]] if isinstance(stmt["Action"], str) else stmt["Action"]
        if stmt["Resource"] == "*":
            assert set(actions) <= STAR_ONLY, stmt
    assert evaluate(policy, Request.make("kms:PutKeyPolicy", KEY)).allowed
    assert not evaluate(policy, Request.make("kms:PutKeyPolicy", OTHER_KEY)).allowed
    named = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:kafka/client-cert-AbCdEf"
    assert evaluate(policy, Request.make("secretsmanager:GetSecretValue", named)).allowed
    lambda_other = (
        "arn:aws:lambda:eu-west-1:999999999999:event-source-mapping:0b5d8e0e-3e9e-4d32-9bd0-27d3a3b8f2a1"
    )
    assert not evaluate(policy, Request.make("lambda:UpdateEventSourceMapping", lambda_other)).allowed


def test_the_cli_refuses_a_scope_that_would_cover_every_role() -> None:
    out = subprocess.run(
        [REMEDIATE, "iam-policy", "--mode", "apply", "--role-path", "/"], capture_output=True, text=True
    )
    assert out.returncode == 1
    assert "must look like /service-role/" in out.stderr


PROBES = sorted(n for n in GENERATED if "--mode probe" in n)


def _pass(role: str, service: str, tag: str | None = None) -> Request:
    context: dict[str, tuple[str, ...]] = {"iam:PassedToService": (service,)}
    if tag is not None:
        context[f"aws:ResourceTag/{TAG_KEY}"] = (tag,)
    return Request.make(
        "iam:PassRole",
        f"arn:aws:iam::{ACCOUNT}:role/{role}",
        context=context,
        absent=() if tag is not None else (f"aws:ResourceTag/{TAG_KEY}",),
    )


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_no_generated_policy_passes_a_privileged_role(name: str) -> None:
    """issue 27, item 7: a function created with a passed role runs with its power, so no policy may
    pass a privileged role, to Lambda or anywhere, even one carrying the fixable tag."""
    policy = GENERATED[name]
    for role in PRIVILEGED:
        for service in ("lambda.amazonaws.com", "ec2.amazonaws.com"):
            for tag in (TAG, None):
                request = _pass(role, service, tag)
                if name.startswith(("account", "member")) and service != "lambda.amazonaws.com":
                    continue  # the runbook's role passes itself to SSM (checked below), nothing else
                assert not _allows(policy, request), f"{name}: PassRole {role} to {service} (tag {tag})"


@pytest.mark.parametrize("name", PROBES)
def test_the_probe_passes_only_the_roles_in_scope_and_only_to_lambda(name: str) -> None:
    policy = GENERATED[name]
    in_path = "service-role/orders-fn"
    assert not _allows(policy, _pass(in_path, "ec2.amazonaws.com", None)), name
    assert not _allows(policy, _pass(in_path, "ssm.amazonaws.com", TAG)), name
    if name.endswith("--role-path"):
        assert _allows(policy, _pass(in_path, "lambda.amazonaws.com", None)), name
        assert not _allows(policy, _pass("orders-fn", "lambda.amazonaws.com", TAG)), name
    elif name.endswith("--role-tag"):
        assert _allows(policy, _pass("orders-fn", "lambda.amazonaws.com", TAG)), name
        assert not _allows(policy, _pass(in_path, "lambda.amazonaws.com", "other-team")), name
        assert not _allows(policy, _pass(in_path, "lambda.amazonaws.com", None)), name
    else:  # no scope given: the account's roles, to Lambda only
        assert _allows(policy, _pass("orders-fn", "lambda.amazonaws.com", None)), name


# issue 27, item 7: the runbook's probe rights, only where the deployment opted in (AllowProbe).
RUNBOOK_ROLES = sorted(n for n in GENERATED if n.startswith(("account", "member")))
PROBE_NAME = "remediate-probe-0b5d8e0e-3e9e-4d32-9bd0-27d3a3b8f2a1-1a2b3c4d"
PROBE_FN = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{PROBE_NAME}"
OTHER_FN = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders-consumer"
PROBE_LOGS = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/{PROBE_NAME}"
OTHER_LOGS = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/orders-consumer"
FUNCTION_WRITES = ("lambda:CreateFunction", "lambda:InvokeFunction", "lambda:DeleteFunction")


@pytest.mark.parametrize("name", RUNBOOK_ROLES)
def test_the_runbook_role_runs_the_probe_only_where_the_deployment_opted_in(name: str) -> None:
    policy = GENERATED[name]
    opted_in = "[probe-" in name
    sids = {s["Sid"] for doc in policy for s in doc["Statement"]}
    assert bool({s for s in sids if s.startswith("RemediateProbe")}) == opted_in, name
    for action in FUNCTION_WRITES:
        assert _allows(policy, Request.make(action, PROBE_FN)) == opted_in, f"{name}: {action}"
        assert not _allows(policy, Request.make(action, OTHER_FN)), f"{name}: {action} on another function"
    assert _allows(policy, Request.make("logs:DeleteLogGroup", PROBE_LOGS)) == opted_in, name
    assert not _allows(policy, Request.make("logs:DeleteLogGroup", OTHER_LOGS)), name
    in_path, tagged = (
        _pass("service-role/orders-fn", "lambda.amazonaws.com"),
        _pass("orders-fn", "lambda.amazonaws.com", TAG),
    )
    assert _allows(policy, in_path) == ("[probe-path]" in name), name
    assert _allows(policy, tagged) == ("[probe-tag]" in name), name
    assert not _allows(policy, _pass("orders-fn", "lambda.amazonaws.com", "other-team")), name
    for service in ("ec2.amazonaws.com", "ssm.amazonaws.com"):
        assert not _allows(policy, _pass("service-role/orders-fn", service)), f"{name}: to {service}"
        assert not _allows(policy, _pass("orders-fn", service, TAG)), f"{name}: to {service}"
