"""Plan files: round trip, and refusal of malformed, truncated, tampered or future-schema files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remediate import plan as plan_mod
from remediate.errors import PlanFileError
from remediate.findings import Finding
from remediate.plan import PLAN_SCHEMA, Change, ManualStep, Plan, Target

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**31), 2**31), st.text(max_size=20))
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def make_plan(changes: tuple[Change, ...] = (), manual: tuple[ManualStep, ...] = ()) -> Plan:
    return Plan(
        schema=PLAN_SCHEMA,
        plan_id=plan_mod.new_plan_id(),
        created_at=plan_mod.utc_now(),
        target=Target(esm_uuid="u", esm_arn="arn", function_arn="f", source_kind="msk", region="us-east-1"),
        findings=(
            Finding(
                code="BROKER_TIMEOUT",
                summary="s",
                evidence={
                    "error_text": "PROBLEM: Connection error.",
                    "source": "LastProcessingResult",
                    "batch_size": 500,
                    "state": "Enabled",
                },
                playbook="broker-timeout",
            ),
        ),
        changes=changes,
        manual_steps=manual,
        fingerprint="sha256:" + "0" * 64,
    )


changes_strategy = st.lists(
    st.builds(
        Change,
        id=st.from_regex(r"c[1-9][0-9]?", fullmatch=True),
        action=st.sampled_from(["update_esm", "reenable_esm", "authorize_sg_ingress"]),
        resource=st.text(min_size=1, max_size=30),
        kind=st.sampled_from(["create", "update", "delete"]),
        before=st.none() | st.dictionaries(st.text(max_size=10), json_values, max_size=3),
        after=st.dictionaries(st.text(max_size=10), json_values, max_size=3),
        because=st.lists(st.sampled_from(["BROKER_TIMEOUT", "ESM_DISABLED"]), max_size=2).map(tuple),
    ),
    max_size=4,
).map(tuple)


@settings(max_examples=60)
@given(changes=changes_strategy)
def test_round_trip(tmp_path_factory: pytest.TempPathFactory, changes: tuple[Change, ...]) -> None:
    path = tmp_path_factory.mktemp("p") / "plan.json"
    original = make_plan(changes)
    plan_mod.save(original, path)
    assert plan_mod.load(path) == original


@settings(max_examples=60)
@given(changes=changes_strategy, cut=st.integers(min_value=1, max_value=10_000))
def test_any_truncation_is_refused(
    tmp_path_factory: pytest.TempPathFactory, changes: tuple[Change, ...], cut: int
) -> None:
    path = tmp_path_factory.mktemp("p") / "plan.json"
    plan_mod.save(make_plan(changes), path)
    text = path.read_text()
    path.write_text(text[: max(0, len(text) - 1 - cut % len(text))])
    with pytest.raises(PlanFileError):
        plan_mod.load(path)


def test_tampered_plan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    plan_mod.save(
        make_plan((Change(id="c1", action="update_esm", resource="u", after={"BatchSize": 1}),)), path
    )
    data = json.loads(path.read_text())
    data["changes"][0]["after"]["BatchSize"] = 10000
    path.write_text(json.dumps(data))
    with pytest.raises(PlanFileError, match="modified after it was written"):
        plan_mod.load(path)


def test_future_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    plan_mod.save(make_plan(), path)
    data = json.loads(path.read_text())
    data["schema"] = "remediate/plan@2"
    path.write_text(json.dumps(data))
    with pytest.raises(PlanFileError, match="schema 'remediate/plan@2'"):
        plan_mod.load(path)


@pytest.mark.parametrize("content", ["", "[]", "null", "{}", '{"schema": "remediate/plan@1"}'])
def test_malformed_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(PlanFileError):
        plan_mod.load(path)


def test_contract_fields_present() -> None:
    doc = make_plan((Change(id="c1", action="update_esm", resource="u", after={"BatchSize": 1}),)).to_json()
    assert doc["schema"] == "remediate/plan@1"
    for key in ("plan_id", "created_at", "target", "findings", "changes", "manual_steps", "fingerprint"):
        assert key in doc
    assert set(doc["changes"][0]) >= {"id", "action", "resource", "before", "after", "because"}
    assert set(doc["findings"][0]) >= {"code", "summary", "evidence", "playbook"}


def test_refs_resolve_to_outputs_of_earlier_changes() -> None:
    after = {"GroupIds": ["${c1.GroupId}"], "Name": "ep-${c1.GroupId}"}
    assert plan_mod.resolve_refs(after, {"c1": {"GroupId": "sg-9"}}) == {
        "GroupIds": ["sg-9"],
        "Name": "ep-sg-9",
    }
