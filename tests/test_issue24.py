"""Issue 24 (AWS rules, third pass): unit tests of checks and plans on `Facts`, beside the CLI tests in
tests/test_issue24_e2e.py."""

from __future__ import annotations

from remediate.checks.client_trust import trusted_by
from remediate.facts import CertificateInfo, PrivateCa, SgRule
from remediate.run import playbook
from tests.test_network_checks import NETWORK_PLAYBOOKS, SG, codes, facts, net, run


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


def _cert(subject: str, issuer: str, aki: str | None, sha: str) -> CertificateInfo:
    return CertificateInfo(
        subject=subject,
        issuer=issuer,
        serial="1",
        not_before="2026-01-01T00:00:00Z",
        not_after="2027-01-01T00:00:00Z",
        sha256=sha,
        authority_key_id=aki,
    )


def test_n6_a_chain_through_the_secrets_intermediate_is_trusted_and_a_key_id_mismatch_is_not() -> None:
    """N6: the leaf reaches the cluster's CA through an intermediate the secret carries; a CA of the same
    name but another key (Authority Key Identifier differs from its Subject Key Identifier) signs nothing."""
    root = PrivateCa(
        arn="arn:aws:acm-pca:us-east-1:1:certificate-authority/a", subject="CN=Root", subject_key_id="aa"
    )
    leaf = _cert("CN=client", "CN=Issuing", "bb", "1")
    intermediate = _cert("CN=Issuing", "CN=Root", "aa", "2")
    assert trusted_by((leaf, intermediate), (root,)) == root
    assert trusted_by((leaf,), (root,)) is None
    impostor = _cert("CN=Issuing", "CN=Root", "cc", "2")
    assert trusted_by((leaf, impostor), (root,)) is None


def test_n15_an_s3_gateway_endpoint_is_planned_whole() -> None:
    """N15: without a way out, the S3 destination's gateway endpoint is planned with the pollers' route
    tables and, when their group lets no 443 out to AWS, a step for the prefix list; at the Region's gateway
    endpoint quota (20) it is a manual step instead of a create AWS would refuse."""
    books = [b for b in playbook.load() if b.name in NETWORK_PLAYBOOKS]
    to_brokers = SgRule(protocol="tcp", from_port=9098, to_port=9098, group_id=SG)
    network = net(nat=False, egress=(to_brokers,))
    f = facts(network, on_failure_destination="arn:aws:s3:::orders-failures")
    _, plan = run(f, books)
    s3 = [c for c in plan.changes if c.action == "create_vpc_endpoint" and c.resource.endswith(".s3")]
    assert len(s3) == 1
    assert any("S3 prefix list of the new gateway endpoint" in m.text for m in plan.manual_steps)
    full = f.model_copy(update={"network": network.model_copy(update={"gateway_endpoints_in_region": 20})})
    _, plan = run(full, books)
    assert not [c for c in plan.changes if c.action == "create_vpc_endpoint" and c.resource.endswith(".s3")]
    assert any('"Gateway VPC endpoints per Region"' in m.text for m in plan.manual_steps)
