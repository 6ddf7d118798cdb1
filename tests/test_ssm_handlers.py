"""The executeScript handlers, called as SSM calls them: plain dicts in, plain dicts out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from remediate.errors import InputError, PlanFileError, StalePlanError
from remediate.plan import Plan
from remediate.sandbox import Sandbox, build_scenario
from remediate.ssm import handlers as ssm
from tests.conftest import settle
from tests.safety import lock_tags

MUTATIONS = (
    "UpdateEventSourceMapping",
    "AuthorizeSecurityGroupIngress",
    "CreateVpcEndpoint",
    "PutRolePolicy",
)

DEFAULT_VERSION = {"DocumentVersion": "1", "DefaultVersion": "1"}
"""issue 27, D5: the runbook's version steps tell the plan step it runs the default version."""


def _scenario(sb: Sandbox, name: str) -> Any:
    """Build the scenario, then forget its setup calls: only the code under test's calls count."""
    scn = build_scenario(sb, name)
    sb.clear_calls()
    return scn


def _esm(sb: Sandbox, uuid: str) -> dict[str, Any]:
    return dict(sb.client("lambda").get_event_source_mapping(UUID=uuid))


def _writes(sb: Sandbox) -> list[str]:
    return [op for _svc, op in sb.calls if op in MUTATIONS]


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ("not a dict", "must be a JSON object"),
        ({"EsmId": "x", "Mode": "Fix"}, "Mode"),
        ({"EsmId": "x", "Bogus": 1}, "Bogus"),
        ({"EsmId": "not-a-uuid"}, "not an event source mapping"),
        ({"EsmId": "", "Mode": "Apply"}, "Mode Apply needs an EsmId"),
        ({"EsmId": "0f4c2c4e-1111-4222-8333-944455556666", "Bucket": "s3://b/k"}, "Bucket"),
        ({"EsmId": "0f4c2c4e-1111-4222-8333-944455556666", "Approvers": ["me"]}, "Approvers"),
    ],
)
def test_plan_handler_validates_inputs_before_any_aws_call(events: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ssm.plan_handler(events, None)


def test_apply_handler_requires_the_approved_digest_and_a_run_id() -> None:
    with pytest.raises(InputError, match="PlanDigest"):
        ssm.apply_handler(
            {"EsmId": "0f4c2c4e-1111-4222-8333-944455556666", "Plan": "{}", "RunId": "r-1"}, None
        )
    with pytest.raises(InputError, match="RunId"):
        ssm.apply_handler({"EsmId": "0f4c2c4e-1111-4222-8333-944455556666", "Plan": "{}"}, None)


def test_diagnose_mode_reports_findings_and_no_plan(aws_env: Sandbox) -> None:
    scn = _scenario(aws_env, "broker-timeout")
    out = ssm.plan_handler({"EsmId": scn.esm_uuid, "Mode": "Diagnose"}, None)
    assert [f.split(":")[0] for f in out["Findings"]] == ["BROKER_TIMEOUT"]
    assert out["ChangeCount"] == 0
    assert out["Plan"] == ""
    assert _writes(aws_env) == []


def test_plan_apply_verify_fix_the_broker_timeout(aws_env: Sandbox) -> None:
    scn = _scenario(aws_env, "broker-timeout")
    planned = ssm.plan_handler({"EsmId": scn.esm_uuid, "Mode": "Apply", **DEFAULT_VERSION}, None)
    assert planned["ChangeCount"] == 2
    assert planned["RunId"].startswith("r-")
    assert planned["Summary"] == "Plan: 0 to add, 2 to change, 0 to destroy."
    assert "BatchSize = 500 -> 1" in planned["ApprovalMessage"]
    assert len(json.dumps(planned).encode()) < ssm.PAYLOAD_LIMIT
    assert _writes(aws_env) == []

    run = {"EsmId": scn.esm_uuid, "RunId": planned["RunId"]}
    applied = ssm.apply_handler({**run, "Plan": planned["Plan"], "PlanDigest": planned["PlanDigest"]}, None)
    assert [c.split()[1] for c in applied["AppliedChanges"]] == ["update_esm"]
    assert applied["Restart"] == "restart", "the restart is left to the runbook's native steps"
    esm = _esm(aws_env, scn.esm_uuid)
    assert esm["BatchSize"] == 1
    arn = esm["EventSourceMappingArn"]
    held = lock_tags(aws_env, arn)
    assert [v.split("/")[:2] for v in held.values()] == [["held", planned["RunId"]]], "held for the restart"
    # what the native steps do
    aws_env.client("lambda").update_event_source_mapping(UUID=scn.esm_uuid, Enabled=False)
    settle(aws_env, scn.esm_uuid)
    aws_env.client("lambda").update_event_source_mapping(UUID=scn.esm_uuid, Enabled=True)
    settle(aws_env, scn.esm_uuid)

    final = ssm.finalize_handler(run, None)
    assert [c.split()[1] for c in final["AppliedChanges"]] == ["update_esm", "reenable_esm"]
    assert lock_tags(aws_env, arn) == {}
    verified = ssm.verify_handler({"EsmId": scn.esm_uuid, "AppliedChanges": final["AppliedChanges"]}, None)
    assert verified["Verified"] is True
    assert verified["RemainingChangeCount"] == 0


def test_apply_refuses_a_stale_plan_and_changes_nothing(aws_env: Sandbox) -> None:
    scn = _scenario(aws_env, "broker-timeout")
    planned = ssm.plan_handler({"EsmId": scn.esm_uuid, "Mode": "Plan"}, None)
    aws_env.client("lambda").update_event_source_mapping(UUID=scn.esm_uuid, BatchSize=250)
    aws_env.clear_calls()
    with pytest.raises(StalePlanError, match="stale"):
        ssm.apply_handler(
            {
                "EsmId": scn.esm_uuid,
                "RunId": "r-1",
                "Plan": planned["Plan"],
                "PlanDigest": planned["PlanDigest"],
            },
            None,
        )
    assert [op for op in _writes(aws_env) if op != "UpdateEventSourceMapping"] == []
    assert _esm(aws_env, scn.esm_uuid)["BatchSize"] == 250


def test_apply_refuses_a_plan_other_than_the_approved_one(aws_env: Sandbox) -> None:
    scn = _scenario(aws_env, "broker-timeout")
    planned = ssm.plan_handler({"EsmId": scn.esm_uuid, "Mode": "Plan"}, None)
    with pytest.raises(PlanFileError, match="not the approved"):
        ssm.apply_handler(
            {
                "EsmId": scn.esm_uuid,
                "RunId": "r-1",
                "Plan": planned["Plan"],
                "PlanDigest": "sha256:" + "0" * 64,
            },
            None,
        )
    tampered = planned["Plan"].replace('"BatchSize":1', '"BatchSize":2')
    with pytest.raises(PlanFileError, match="modified"):
        ssm.apply_handler(
            {"EsmId": scn.esm_uuid, "RunId": "r-1", "Plan": tampered, "PlanDigest": planned["PlanDigest"]},
            None,
        )
    assert _writes(aws_env) == []


def test_a_plan_too_large_for_the_step_output_goes_to_s3(
    aws_env: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    scn = _scenario(aws_env, "broker-timeout")
    monkeypatch.setattr(ssm, "PAYLOAD_BUDGET", 3000)
    events = {"EsmId": scn.esm_uuid, "Mode": "Plan", "ExecutionId": "exec-1"}
    with pytest.raises(InputError, match="Bucket"):
        ssm.plan_handler(events, None)
    aws_env.client("s3").create_bucket(Bucket="plans")
    planned = ssm.plan_handler({**events, "Bucket": "plans"}, None)
    assert planned["Plan"] == ""
    assert planned["PlanLocation"] == "s3://plans/remediate/plans/123456789012/exec-1.json"
    assert len(json.dumps(planned).encode()) <= 3000
    applied = ssm.apply_handler(
        {
            "EsmId": scn.esm_uuid,
            "RunId": "r-2",
            "Bucket": "plans",
            "PlanLocation": planned["PlanLocation"],
            "PlanDigest": planned["PlanDigest"],
        },
        None,
    )
    assert len(applied["AppliedChanges"]) == 1
    journal = aws_env.client("s3").get_object(Bucket="plans", Key="remediate/journals/123456789012/r-2.jsonl")
    assert b'"event": "handoff"' in journal["Body"].read()
    assert _esm(aws_env, scn.esm_uuid)["BatchSize"] == 1


def test_the_approval_message_fits_aws_approve(aws_env: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    scn = _scenario(aws_env, "broker-timeout")
    monkeypatch.setattr(ssm, "MESSAGE_LIMIT", 200)
    planned = ssm.plan_handler({"EsmId": scn.esm_uuid, "Mode": "Plan"}, None)
    assert len(planned["ApprovalMessage"]) == 200
    assert planned["ApprovalMessage"].endswith("(truncated; the full plan is in this step's Plan output)")


def test_the_reporter_approves_only_the_saved_plan(aws_env: Sandbox) -> None:
    scn = _scenario(aws_env, "broker-timeout")
    planned = ssm.plan_handler({"EsmId": scn.esm_uuid, "Mode": "Plan"}, None)
    body = {k: v for k, v in json.loads(planned["Plan"]).items() if k != "digest"}
    plan = Plan.model_validate(body)
    assert ssm.SsmReporter(approved=plan).approve(plan) is True
    assert ssm.SsmReporter().approve(plan) is False
    other = plan.model_copy(update={"plan_id": "p-other"})
    assert ssm.SsmReporter(approved=plan).approve(other) is False
