"""Unit tests of the provisioned-mode alternative on `Facts` fixtures: listed unless chosen, never silent."""

from __future__ import annotations

from remediate.evidence import ServiceEndpointsUnreachable
from remediate.findings import Finding
from remediate.run import playbook
from remediate.run.engine import build_plan
from tests import factories


def unreachable() -> Finding:
    return Finding(
        code="SERVICE_ENDPOINTS_UNREACHABLE",
        summary="no way out",
        evidence=ServiceEndpointsUnreachable(
            placement="cluster",
            vpc_id="vpc-1",
            services=("lambda", "sts"),
            subnets_without_nat=("subnet-a",),
            missing=("lambda", "sts"),
            paths=(),
            blocked=(),
        ),
        playbook="service-endpoints",
    )


def test_listed_unless_chosen() -> None:
    books = playbook.load()
    facts = factories.facts()
    plan = build_plan(facts, [unreachable()], books)
    assert "switch_to_provisioned_mode" not in [c.action for c in plan.changes]
    assert [a.because for a in plan.alternatives] == [("SERVICE_ENDPOINTS_UNREACHABLE",)]
    chosen = build_plan(facts, [unreachable()], books, fix_with=frozenset({"provisioned-mode"}))
    assert [c.action for c in chosen.changes] == ["switch_to_provisioned_mode"]
    assert chosen.alternatives == ()
    assert chosen.changes[0].after["ProvisionedPollerConfig"] == {"MinimumPollers": 1, "MaximumPollers": 200}


def test_nothing_to_offer_to_a_provisioned_mapping() -> None:
    facts = factories.facts(esm=factories.esm(provisioned_pollers=True))
    plan = build_plan(facts, [unreachable()], playbook.load(), fix_with=frozenset({"provisioned-mode"}))
    assert plan.changes == ()
