"""Per-mapping work done once per scan (issue 26, item 5): a denied read is logged once with the number
of mappings it affects; each role's policies are decided once per need; each error text classified once."""

from __future__ import annotations

from typing import Any

import pytest

from remediate import error_text, required_access
from remediate.checks import run_check
from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests import factories
from tests.conftest import CliRunner


def test_a_denied_read_is_logged_once_with_the_mappings_it_affects(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "healthy-msk")
    lam = sandbox.client("lambda")
    for topic in ("t2", "t3"):  # two more mappings of the same function, cluster and VPC
        lam.create_event_source_mapping(
            FunctionName=scn.function_name,
            EventSourceArn=scn.cluster_arn,
            Topics=[topic],
            StartingPosition="LATEST",
        )
    sandbox.faults.add(FaultRule(service="ec2", operation="DescribeNatGateways", kind="status", status=403))
    run = cli("scan", "--output", "json")
    denied = [line for line in run.stderr.splitlines() if "observe.denied" in line]
    assert len(denied) == 1, run.stderr
    assert "mappings=3" in denied[0] or '"mappings": 3' in denied[0], denied[0]
    assert sandbox.calls.count(("ec2", "DescribeNatGateways")) == 1


def test_diagnose_logs_its_denied_read_once(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "healthy-msk")
    sandbox.faults.add(FaultRule(service="ec2", operation="DescribeNatGateways", kind="status", status=403))
    run = cli("diagnose", "--esm", scn.esm_uuid)
    assert len([line for line in run.stderr.splitlines() if "observe.denied" in line]) == 1, run.stderr


def test_a_roles_policies_are_decided_once_per_need(monkeypatch: pytest.MonkeyPatch) -> None:
    first = factories.facts()
    # Another mapping's facts sharing the role, as a scan's do (needs that name the mapping itself, like its
    # consumer group, are its own: this one has the same).
    second = factories.facts(role=first.role)
    evaluated: list[Any] = []
    real = required_access.evaluate

    def counted(*args: Any, **kwargs: Any) -> Any:
        evaluated.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(required_access, "evaluate", counted)
    assert run_check("role_permissions", first) == []
    once = len(evaluated)
    assert once > 0
    assert run_check("role_permissions", second) == []  # the same role (a scan shares it): no evaluation
    assert len(evaluated) == once
    # A role with other policies (a copy with them replaced) is decided afresh, and differently.
    assert first.role is not None
    bare = first.role.model_copy(update={"inline_policies": ()})
    (finding,) = run_check("role_permissions", factories.facts(role=bare))
    assert finding.code == "EXECUTION_ROLE_MISSING_PERMISSIONS"
    assert len(evaluated) > once


def test_each_distinct_error_text_is_classified_once(monkeypatch: pytest.MonkeyPatch) -> None:
    error_text.classify.cache_clear()
    tokenized: list[str] = []
    real = error_text._tokens

    def counted(text: str) -> list[str]:
        tokenized.append(text)
        return real(text)

    monkeypatch.setattr(error_text, "_tokens", counted)
    text = "PROBLEM: Connection error. Please check your event source connection configuration."
    hints = [error_text.hints_for(text, "") for _ in range(1000)]
    assert len(set(hints)) == 1
    assert hints[0]
    assert tokenized.count(text) == 1
