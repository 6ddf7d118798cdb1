"""Issue 24 (AWS rules, third pass): unit tests of checks and plans on `Facts`, beside the CLI tests in
tests/test_issue24_e2e.py."""

from __future__ import annotations

from remediate.run import playbook
from tests.test_network_checks import NETWORK_PLAYBOOKS, codes, facts, net, run


def test_n3_a_blocked_path_without_a_planned_rule_gets_a_manual_step() -> None:
    """A blocked broker path that no rule answers (here: the cluster's groups are unknown) is never left
    with an empty plan: each such path gets a manual step naming what blocks it."""
    books = [b for b in playbook.load() if b.name in NETWORK_PLAYBOOKS]
    f = facts(net(ingress=()))
    assert f.cluster is not None
    f = f.model_copy(update={"cluster": f.cluster.model_copy(update={"security_group_ids": ()})})
    findings, plan = run(f, books)
    assert codes(findings) == ["BROKER_PORTS_BLOCKED"]
    assert plan.changes == ()
    steps = [m.text for m in plan.manual_steps if m.text.startswith("Open tcp/9098 from the pollers in")]
    assert len(steps) == len(findings[0].evidence.blocked)
    assert all("no ingress rule allows tcp/9098" in s for s in steps)
