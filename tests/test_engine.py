"""Pure tests of checks, diagnosis rules and planning on `Facts` fixtures (no AWS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediate.facts import Unchecked
from remediate.findings import Finding
from remediate.run import playbook
from remediate.run.engine import build_plan, diagnose
from remediate.run.playbook import ActionRef, Playbook
from tests import factories

CONNECTION = "PROBLEM: Connection error. Please check your event source connection configuration."


@pytest.fixture(scope="module")
def books() -> list[Playbook]:
    return playbook.load()


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def test_healthy_has_no_findings(books: list[Playbook]) -> None:
    assert diagnose(factories.facts(), books) == []


def test_broker_timeout_plans_batch_size_one_then_restart(books: list[Playbook]) -> None:
    facts = factories.facts(
        esm=factories.esm(last_processing_result=CONNECTION, batch_size=500),
        broker_health=factories.troubled_brokers(),
    )
    findings = diagnose(facts, books)
    assert codes(findings) == ["BROKER_TIMEOUT"]
    assert findings[0].playbook == "broker-timeout"
    plan = build_plan(facts, findings, books)
    assert [(c.id, c.action) for c in plan.changes] == [("c1", "update_esm"), ("c2", "reenable_esm")]
    assert plan.changes[0].before == {"BatchSize": 500}
    assert plan.changes[0].after == {"BatchSize": 1}
    assert plan.changes[0].because == ("BROKER_TIMEOUT",)
    assert plan.fingerprint == facts.fingerprint()
    assert plan.summary() == "Plan: 0 to add, 2 to change, 0 to destroy."


def test_batch_size_already_one_only_restarts(books: list[Playbook]) -> None:
    facts = factories.facts(
        esm=factories.esm(last_processing_result=CONNECTION, batch_size=1),
        broker_health=factories.troubled_brokers(),
    )
    plan = build_plan(facts, diagnose(facts, books), books)
    assert [c.action for c in plan.changes] == ["reenable_esm"]


LAMBDA_DISABLED = "Lambda initiated"  # the API reference's wording for a change Lambda made


def test_disabled_alone_is_reenabled(books: list[Playbook]) -> None:
    facts = factories.facts(esm=factories.esm(state="Disabled", state_transition_reason=LAMBDA_DISABLED))
    findings = diagnose(facts, books)
    assert codes(findings) == ["ESM_DISABLED"]
    assert [c.action for c in build_plan(facts, findings, books).changes] == ["reenable_esm"]


def test_disabled_with_timeout_merges_the_restart(books: list[Playbook]) -> None:
    facts = factories.facts(
        esm=factories.esm(
            state="Disabled", state_transition_reason=LAMBDA_DISABLED, last_processing_result=CONNECTION
        ),
        broker_health=factories.troubled_brokers(),
    )
    findings = diagnose(facts, books)
    assert codes(findings) == ["BROKER_TIMEOUT"]  # exclusive ESM_DISABLED yields to the real cause
    plan = build_plan(facts, findings, books)
    assert [c.action for c in plan.changes] == ["update_esm", "reenable_esm"]


def test_unless_suppresses_a_conclusion_by_elimination() -> None:
    """A finding listed in `unless` (here a stand-in raised by a test check) suppresses the playbook."""
    timeout = Playbook(
        name="broker-timeout",
        title="t",
        findings=("BROKER_TIMEOUT",),
        checks=("broker_timeout",),
        unless=("ESM_DISABLED",),
        actions=(ActionRef(action="reenable_esm"),),
    )
    disabled = Playbook(name="esm-disabled", title="d", findings=("ESM_DISABLED",), checks=("esm_disabled",))
    facts = factories.facts(
        esm=factories.esm(last_processing_result=CONNECTION, state="Disabled"),
        broker_health=factories.troubled_brokers(),
    )
    assert codes(diagnose(facts, [timeout, disabled])) == ["ESM_DISABLED"]
    # Without the playbook whose check finds the better explanation, nothing suppresses it.
    assert codes(diagnose(facts, [timeout])) == ["BROKER_TIMEOUT"]


def test_denied_reads_become_could_not_check(books: list[Playbook]) -> None:
    facts = factories.facts(unchecked=(Unchecked(what="execution role", reason="AccessDenied on GetRole"),))
    findings = diagnose(facts, books)
    assert codes(findings) == ["COULD_NOT_CHECK"]
    assert "could not check execution role" in findings[0].summary


def test_fingerprint_ignores_error_text_but_not_configuration() -> None:
    a = factories.facts(esm=factories.esm(last_processing_result="OK"))
    b = factories.facts(esm=factories.esm(last_processing_result=CONNECTION, state_transition_reason="x"))
    c = factories.facts(esm=factories.esm(batch_size=7))
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != c.fingerprint()


def test_shipped_playbooks_validate() -> None:
    books, errors = playbook.load_dir(playbook.SHIPPED_DIR)
    assert errors == []
    assert {"broker-timeout", "esm-disabled"} <= {b.name for b in books}


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            "name: x\ntitle: t\nfindings: [BROKER_TIMEOUT]\nchecks: [broker_timout]\n",
            "unknown check 'broker_timout'",
        ),
        ("name: x\ntitle: t\nfindings: [BROKER_TIMOUT]\nchecks: [broker_timeout]\n", "unknown finding code"),
        (
            "name: x\ntitle: t\nfindings: [BROKER_TIMEOUT]\nchecks: [broker_timeout]\n"
            "actions: [{action: nuke}]\n",
            "unknown action 'nuke'",
        ),
        (
            "name: x\ntitle: t\nfindings: [BROKER_TIMEOUT]\nchecks: [broker_timeout]\n"
            "actions: [{action: update_esm, params: {BatchSize: 0}}]\n",
            "parameter BatchSize",
        ),
        ("name: x\ntitle: t\nfindings: [BROKER_TIMEOUT]\nchecks: [broker_timeout]\nextra: 1\n", "extra"),
        ("name: x\ntitle: t\nfindings: [ESM_DISABLED]\nchecks: [broker_timeout]\n", "emitted by none"),
        ("name: y\ntitle: t\nfindings: [ESM_DISABLED]\nchecks: [esm_disabled]\n", "must match the file name"),
        (
            # kafka_acls plans from the evidence of an ACL authorization failure, which ESM_DISABLED lacks
            "name: x\ntitle: t\nfindings: [ESM_DISABLED]\nchecks: [esm_disabled]\n"
            "actions: [{action: kafka_acls}]\n",
            "action kafka_acls cannot read the evidence of ESM_DISABLED",
        ),
        (
            "name: x\ntitle: t\nfindings: [VPC_DNS_DISABLED]\nchecks: [vpc_dns]\n"
            "actions: [{action: create_vpc_endpoint}]\n",
            "action create_vpc_endpoint cannot read the evidence of VPC_DNS_DISABLED",
        ),
    ],
)
def test_validation_catches_typos(tmp_path: Path, yaml_text: str, message: str) -> None:
    (tmp_path / "x.yaml").write_text(yaml_text)
    _, errors = playbook.load_dir(tmp_path)
    assert any(message in str(e) for e in errors), errors


def test_a_disabled_esm_is_enabled_after_the_fix_of_what_disabled_it(books: list[Playbook]) -> None:
    """ESM_DISABLED yields to the real cause, but the cause's fix must still enable the mapping."""
    network = factories.network()
    group = network.security_groups[0].model_copy(update={"ingress": ()})
    broken = network.model_copy(update={"security_groups": (group,)})
    disabled = factories.facts(
        esm=factories.esm(state="Disabled", state_transition_reason="EVENT_SOURCE_AUTHN_ERROR"),  # by Lambda
        network=broken,
    )
    findings = diagnose(disabled, books)
    assert codes(findings) == ["BROKER_PORTS_BLOCKED"]
    plan = build_plan(disabled, findings, books)
    assert [c.action for c in plan.changes] == ["authorize_sg_ingress", "reenable_esm"]
    assert plan.changes[-1].because == ("BROKER_PORTS_BLOCKED",)
    enabled = factories.facts(network=broken)
    assert [c.action for c in build_plan(enabled, diagnose(enabled, books), books).changes] == [
        "authorize_sg_ingress"
    ]
