"""Issue 27, D1: the runbook's plan step makes manual steps of the role and key-policy changes its
deployment may not make, so approvers never approve a change the role would be denied."""

from __future__ import annotations

import json
from typing import Any

import pytest

from remediate.errors import InputError
from remediate.sandbox import Sandbox, build_scenario
from remediate.ssm import handlers as ssm
from remediate.write_scope import TAG_KEY

DEFAULT_VERSION = {"DocumentVersion": "1", "DefaultVersion": "1"}
"""issue 27, D5: the runbook's version steps tell the plan step it runs the default version."""


def _untrusted(sb: Sandbox) -> tuple[Any, str]:
    """The role-not-trusted scenario and its execution role's name."""
    scn = build_scenario(sb, "role-not-trusted")
    esm = sb.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)
    role_arn = sb.client("lambda").get_function_configuration(FunctionName=esm["FunctionArn"])["Role"]
    return scn, role_arn.rsplit("/", 1)[-1]


def _plan(scn: Any, **scope: Any) -> dict[str, Any]:
    return ssm.plan_handler({"EsmId": scn.esm_uuid, "Mode": "Apply", **DEFAULT_VERSION, **scope}, None)


def _actions(out: dict[str, Any]) -> list[str]:
    return [c["action"] for c in json.loads(out["Plan"])["changes"]]


def test_without_a_role_scope_the_trust_fix_is_a_manual_step(aws_env: Sandbox) -> None:
    scn, role = _untrusted(aws_env)
    out = _plan(scn)
    assert _actions(out) == []  # nor the restart, which would change nothing before the person acts
    assert out["ChangeCount"] == 0
    [step] = [s for s in out["ManualSteps"] if "update_assume_role_policy" in s]
    assert f"on {role} is not the runbook's to make" in step
    assert "FixableRolePath / FixableRoleTag unset" in step


def test_a_role_tagged_fixable_is_planned_and_another_value_is_not(aws_env: Sandbox) -> None:
    scn, role = _untrusted(aws_env)
    aws_env.client("iam").tag_role(RoleName=role, Tags=[{"Key": TAG_KEY, "Value": "payments"}])
    out = _plan(scn, FixableRoleTag="payments")
    assert "update_assume_role_policy" in _actions(out)
    other = _plan(scn, FixableRoleTag="orders")
    assert _actions(other) == []
    assert any(f"tagged {TAG_KEY}=orders" in s for s in other["ManualSteps"])


def test_a_role_under_the_path_is_planned_and_one_outside_it_is_not(aws_env: Sandbox) -> None:
    scn, _role = _untrusted(aws_env)  # the scenario's role is under /service-role/, as the console makes it
    assert "update_assume_role_policy" in _actions(_plan(scn, FixableRolePath="/service-role/"))
    out = _plan(scn, FixableRolePath="/lambda-roles/")
    assert _actions(out) == []
    assert any("neither under /lambda-roles/" in s for s in out["ManualSteps"])


def test_the_plan_step_refuses_a_path_that_covers_every_role() -> None:
    with pytest.raises(InputError, match="must look like /service-role/"):
        ssm.plan_handler({"EsmId": "0f4c2c4e-1111-4222-8333-944455556666", "FixableRolePath": "/"}, None)


@pytest.mark.parametrize(
    ("region", "account"), [("eu-west-1", "123456789012"), ("us-east-1", "999999999999")]
)
def test_an_esm_of_another_region_or_account_is_refused_by_name(region: str, account: str) -> None:
    """issue 27, D12: as the CLI does, before any AWS call."""
    arn = f"arn:aws:lambda:{region}:{account}:event-source-mapping:0f4c2c4e-1111-4222-8333-944455556666"
    events = {"EsmId": arn, "Region": "us-east-1", "AccountId": "123456789012"}
    with pytest.raises(
        InputError, match=f"is in {region} of account {account}; this execution runs in us-east-1"
    ):
        ssm.plan_handler(events, None)


def test_the_handoff_budget_covers_every_step_that_runs_under_the_lock() -> None:
    """issue 27, D11: from `apply` to `finalize`, each step's timeout (and the pause) added up."""
    from remediate.ssm.document import runbook
    from remediate.ssm.limits import HANDOFF_SECONDS

    steps = runbook()["mainSteps"]
    names = [s["name"] for s in steps]
    locked = steps[names.index("apply") : names.index("finalize") + 1]
    worst = 0.0
    for step in locked:
        if step["action"] == "aws:sleep":
            worst += float(step["inputs"]["Duration"].removeprefix("PT").removesuffix("S"))
        elif step["action"] != "aws:branch":
            worst += float(step.get("timeoutSeconds", 0))
    assert worst <= HANDOFF_SECONDS


def test_apply_takes_the_lock_for_the_whole_handoff(aws_env: Sandbox) -> None:
    """issue 27, D11: nothing renews the lock once `apply` hands the restart to the native steps."""
    from remediate.ssm.limits import HANDOFF_SECONDS
    from tests.safety import lock_tags

    scn = build_scenario(aws_env, "broker-timeout")
    planned = ssm.plan_handler({"EsmId": scn.esm_uuid, "Mode": "Apply", **DEFAULT_VERSION}, None)
    run = {"EsmId": scn.esm_uuid, "RunId": planned["RunId"]}
    ssm.apply_handler({**run, "Plan": planned["Plan"], "PlanDigest": planned["PlanDigest"]}, None)
    arn = aws_env.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["EventSourceMappingArn"]
    [held] = lock_tags(aws_env, arn).values()
    since, expires = (float(v) for v in held.split("/")[4:6])
    assert expires - since >= HANDOFF_SECONDS - 5
