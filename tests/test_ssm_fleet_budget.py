"""Issue 27, D17: the fleet plan step keeps within SSM's 600 s and always writes its report.

An account with more mappings than one `aws:executeScript` step can observe used to end with no report at
all (the step is killed at 600 s, the report written only at the end). The scan now starts no mapping
after a share of the step's time; the rest are in the report as not checked, and the summary says so.
"""

from __future__ import annotations

import json

import pytest

from remediate.run import fleet
from remediate.sandbox import FaultRule, Sandbox, build_scenario
from remediate.ssm import handlers as ssm
from tests.conftest import more_functions

BUCKET = "remediate-reports"


def test_a_fleet_too_big_for_the_step_is_reported_in_part(
    aws_env: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    uuids = {build_scenario(aws_env, name).esm_uuid for name in ("healthy-msk", "disabled")}
    aws_env.client("s3").create_bucket(Bucket=BUCKET)
    # A 0.1 s step (SSM's 600 s scaled, the least step_seconds allows), one mapping at a time: the
    # first mapping's observation (many reads) outlasts the scan's share of the step.
    monkeypatch.setenv("REMEDIATE_SSM_STEP_SECONDS", "0.1")
    monkeypatch.setenv("REMEDIATE_SCAN_WORKERS", "1")
    out = ssm.plan_handler(
        {"EsmId": "", "Mode": "Diagnose", "Bucket": BUCKET, "AccountId": "123456789012"}, None
    )
    assert "not checked within the step's time" in out["Summary"]
    key = out["Report"].removeprefix(f"s3://{BUCKET}/")
    report = json.loads(aws_env.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert report["complete"] is False
    errors = {m["esm_uuid"]: m.get("error") for m in report["mappings"]}
    assert set(errors) == uuids
    unchecked = [u for u, e in errors.items() if e == fleet.NOT_CHECKED]
    assert 1 <= len(unchecked) < len(uuids)


def test_a_fleet_within_the_step_is_complete(aws_env: Sandbox) -> None:
    build_scenario(aws_env, "healthy-msk")
    aws_env.client("s3").create_bucket(Bucket=BUCKET)
    out = ssm.plan_handler(
        {"EsmId": "", "Mode": "Diagnose", "Bucket": BUCKET, "AccountId": "123456789012"}, None
    )
    assert "not checked" not in out["Summary"]
    key = out["Report"].removeprefix(f"s3://{BUCKET}/")
    assert (
        json.loads(aws_env.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())["complete"] is True
    )


def test_a_scan_cut_short_stops_reading_the_functions_of_mappings_it_will_not_start(
    aws_env: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan reads every function ahead of its mappings (issue 26); cut short by the step's budget, it
    drops the function reads still queued rather than making them all before it writes its report. 24
    functions, each read taking 1 s, four at a time (`max_workers`' least), behind a budget that lets
    one mapping start: its observation ends in the second second, so about eight are read; before the
    queue was dropped, the report waited for all 24."""
    scn = build_scenario(aws_env, "healthy-msk")
    more_functions(aws_env, scn, 23)
    aws_env.client("s3").create_bucket(Bucket=BUCKET)
    aws_env.faults.add(FaultRule(service="lambda", operation="GetFunction", kind="latency", latency=1.0))
    monkeypatch.setenv("REMEDIATE_SSM_STEP_SECONDS", "0.1")
    monkeypatch.setenv("REMEDIATE_SCAN_WORKERS", "1")
    monkeypatch.setenv("REMEDIATE_MAX_WORKERS", "4")
    aws_env.clear_calls()
    out = ssm.plan_handler(
        {"EsmId": "", "Mode": "Diagnose", "Bucket": BUCKET, "AccountId": "123456789012"}, None
    )
    assert "not checked within the step's time" in out["Summary"]
    made = aws_env.calls.count(("lambda", "GetFunction"))
    assert 1 <= made < 24, made
