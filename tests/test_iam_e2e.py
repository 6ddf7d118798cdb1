"""End to end: each IAM/policy scenario gives its finding, a minimal patch, applies, and re-plans clean.

Each test drives the real CLI against the sandbox: plan (JSON) -> the expected findings and changes,
each policy change only adds Remediate* statements or narrows the blocking Deny; apply; then plan
again prints "No changes.". Every AWS call of those runs must be covered by `remediate iam-policy`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from remediate.policy import statements
from remediate.sandbox import Sandbox
from remediate.sandbox.scenarios import build_scenario
from tests.conftest import CliRunner
from tests.policy_split import split_off_deny

# scenario -> (policy-changing actions expected in the plan, manual steps expected)
SCENARIOS: dict[str, tuple[list[str], int]] = {
    "role-not-trusted": (["update_assume_role_policy"], 0),
    "role-requires-source-identity": (["update_assume_role_policy"], 0),
    "sts-endpoint-blocks-assume": (["put_vpc_endpoint_policy"], 0),
    "lambda-endpoint-denies-invoke": (["put_vpc_endpoint_policy"], 0),
    "secret-endpoint-explicit-deny": (["put_vpc_endpoint_policy"], 0),
    "destination-endpoint-blocks-send": (["put_vpc_endpoint_policy"], 0),
    "role-missing-msk-access": (["put_role_policy"], 0),
    "role-missing-kafka-cluster": (["put_role_policy"], 0),
    "role-missing-secret": (["put_role_policy"], 0),
    "scram-secret-not-associated": (["associate_scram_secret"], 0),
    "scram-acls-deny": ([], 1),
}
_NARROWING_KEYS = {"Condition", "NotPrincipal", "Action", "Resource"}


def assert_minimal(before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    """Every statement of `before` is kept (a Deny may be narrowed); new ones are Remediate* Allows."""
    old, new = statements(before), statements(after)
    assert len(new) >= len(old)
    for was, now in zip(old, new, strict=False):
        if was == now:
            continue
        assert was["Effect"] == now["Effect"] == "Deny", f"non-Deny statement changed: {was} -> {now}"
        changed = {k for k in set(was) | set(now) if was.get(k) != now.get(k)}
        assert changed <= _NARROWING_KEYS, changed
    for added in new[len(old) :]:
        assert added["Sid"].startswith("Remediate")
        assert added["Effect"] == "Allow" or split_off_deny(added, old, new), added
        assert not (added.get("Principal") == "*" and added.get("Action") == "*")


def plan_json(cli: CliRunner, uuid: str) -> dict[str, Any]:
    out = cli("plan", "--esm", uuid, "--output", "json")
    assert out.returncode == 0, out.stderr
    document: dict[str, Any] = json.loads(out.stdout)
    return document


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_is_fixed_minimally(name: str, sandbox: Sandbox, cli: CliRunner) -> None:
    scenario = build_scenario(sandbox, name)
    sandbox.clear_calls()
    expected_actions, expected_manual = SCENARIOS[name]

    plan = plan_json(cli, scenario.esm_uuid)
    assert sorted({f["code"] for f in plan["findings"]}) == sorted(scenario.expected_findings)
    policy_changes = [c for c in plan["changes"] if c["action"] != "reenable_esm"]
    assert [c["action"] for c in policy_changes] == expected_actions
    assert len(plan["manual_steps"]) == expected_manual
    for change in policy_changes:
        if "PolicyDocument" in change["after"]:
            assert_minimal((change["before"] or {}).get("PolicyDocument"), change["after"]["PolicyDocument"])

    applied = cli("apply", "--esm", scenario.esm_uuid, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    replan = cli("plan", "--esm", scenario.esm_uuid)
    assert replan.returncode == 0, replan.stderr
    if expected_actions:
        assert "No changes." in replan.stdout, replan.stdout
        assert plan_json(cli, scenario.esm_uuid)["findings"] == []


def test_seed_explicit_deny_is_narrowed_for_the_role_only(sandbox: Sandbox, cli: CliRunner) -> None:
    scenario = build_scenario(sandbox, "secret-endpoint-explicit-deny")
    (change,) = [c for c in plan_json(cli, scenario.esm_uuid)["changes"] if c["action"] != "reenable_esm"]
    before = statements(change["before"]["PolicyDocument"])[1]
    _allow, kept, part = statements(change["after"]["PolicyDocument"])  # the part comes last
    # issue 23 (operator-hunt N28): only the blocking part (GetSecretValue) is split off and narrowed;
    # the role stays denied PutSecretValue, which it does not need
    assert kept == {**before, "Action": "secretsmanager:PutSecretValue"}
    assert "Condition" not in kept
    assert part["Sid"] == "RemediateDenySecretValuesGetSecretValue"
    assert part["Effect"] == "Deny"
    assert part["Action"] == "secretsmanager:GetSecretValue"
    assert part["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": [scenario.role_arn]}}
    text = cli("plan", "--esm", scenario.esm_uuid).stdout
    assert '+        "ArnNotEquals": {' in text  # the diff shows the split and the narrowing
    assert '"Sid": "RemediateDenySecretValuesGetSecretValue"' in text, text


def test_scram_acl_case_needs_the_error_text(sandbox: Sandbox, cli: CliRunner) -> None:
    """ACLs cannot be read: without AWS reporting an authorization failure, nothing is claimed."""
    scenario = build_scenario(sandbox, "scram-acls-deny", last_processing_result="OK")
    assert plan_json(cli, scenario.esm_uuid)["findings"] == []


def test_acl_steps_name_the_group_topic_and_cluster(sandbox: Sandbox, cli: CliRunner) -> None:
    scenario = build_scenario(sandbox, "scram-acls-deny")
    plan = plan_json(cli, scenario.esm_uuid)
    assert plan["changes"] == []
    (step,) = plan["manual_steps"]
    assert f"--group {scenario.esm_uuid}" in step["text"]
    assert f"--topic {scenario.topic}" in step["text"]
    assert "--operation DescribeConfigs --cluster" in step["text"]
