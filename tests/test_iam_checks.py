"""Pure tests of the IAM checks and the plans of their actions, on `Facts` fixtures (no AWS)."""

from __future__ import annotations

from typing import Any

import pytest

from remediate.checks import run_check
from remediate.facts import Cluster, ClusterAuth, Facts, NamedPolicy, Role, Secret, SourceAccess, VpcEndpoint
from remediate.policy import statements
from remediate.required_access import LOG_ACTIONS, NETWORK_ACTIONS
from remediate.run import playbook
from remediate.run.engine import build_plan, diagnose
from remediate.run.playbook import Playbook
from tests import factories

ROLE = factories.ROLE_ARN
CLUSTER = factories.CLUSTER_ARN
TOPIC_ARN = "arn:aws:kafka:us-east-1:123456789012:topic/orders/abcd-1234/orders"
GROUP_PREFIX = "arn:aws:kafka:us-east-1:123456789012:group/orders/abcd-1234/"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:AmazonMSK_orders-AbCdEf"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1111-2222"
EC2 = list(NETWORK_ACTIONS)
KAFKA_CLUSTER = ["kafka-cluster:Connect", "kafka-cluster:DescribeClusterDynamicConfiguration"]
KAFKA_GROUP = ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"]
KAFKA_TOPIC = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]


MINE = {
    "role-trust",
    "endpoint-policies",
    "role-permissions",
    "cluster-authz",
    "sasl-auth",
    "could-not-check",
}


@pytest.fixture(scope="module")
def books() -> list[Playbook]:
    """This issue's playbooks only: the fixtures' network is not complete enough for the others'."""
    return [b for b in playbook.load() if b.name in MINE]


def policy(*stmts: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(stmts)}


def full_access(group: str = "*", describe: str = "kafka:DescribeClusterV2") -> dict[str, Any]:
    return policy(
        {"Effect": "Allow", "Action": [describe, "kafka:GetBootstrapBrokers"], "Resource": CLUSTER},
        {"Effect": "Allow", "Action": EC2, "Resource": "*"},
        {"Effect": "Allow", "Action": list(LOG_ACTIONS), "Resource": factories.LOG_GROUP_ARN},
        {"Effect": "Allow", "Action": KAFKA_CLUSTER, "Resource": CLUSTER},
        {"Effect": "Allow", "Action": KAFKA_TOPIC, "Resource": TOPIC_ARN},
        {"Effect": "Allow", "Action": KAFKA_GROUP, "Resource": GROUP_PREFIX + group},
    )


def role(*inline: dict[str, Any], trust: dict[str, Any] | None = None) -> Role:
    base = factories.facts().role
    assert base is not None
    return Role(
        arn=ROLE,
        name="consumer-role",
        trust_policy=trust if trust is not None else base.trust_policy,
        inline_policies=tuple(NamedPolicy(name=f"p{i}", document=d) for i, d in enumerate(inline)),
    )


def facts(*inline: dict[str, Any], **over: Any) -> Facts:
    return factories.facts(role=role(*(inline or (full_access(),))), **over)


def codes(found: list[Any]) -> list[str]:
    return sorted(f.code for f in found)


def test_fully_granted_role_has_no_iam_findings() -> None:
    f = facts()
    for name in ("role_trust", "role_permissions", "cluster_authz", "sasl_auth", "endpoint_policies"):
        assert run_check(name, f) == []


def test_describe_cluster_v1_suffices() -> None:
    assert run_check("role_permissions", facts(full_access(describe="kafka:DescribeCluster"))) == []


def test_trust_without_lambda(books: list[Playbook]) -> None:
    trust = policy(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    )
    f = factories.facts(role=role(full_access(), trust=trust))
    (finding,) = run_check("role_trust", f)
    assert finding.code == "EXECUTION_ROLE_NOT_ASSUMABLE"
    assert "does not trust lambda.amazonaws.com" in finding.summary
    plan = build_plan(f, diagnose(f, books), books)
    assert [c.action for c in plan.changes] == ["update_assume_role_policy", "reenable_esm"]


def test_trust_requiring_source_identity_is_named() -> None:
    trust = policy(
        {
            "Sid": "WithSourceIdentity",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            "Condition": {"StringEquals": {"sts:SourceIdentity": "batch"}},
        }
    )
    (finding,) = run_check("role_trust", factories.facts(role=role(full_access(), trust=trust)))
    assert "requires a source identity (statement WithSourceIdentity)" in finding.summary


def test_trust_condition_it_cannot_decide_is_reported_not_guessed() -> None:
    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    )
    assert codes(run_check("role_trust", factories.facts(role=role(full_access(), trust=trust)))) == [
        "COULD_NOT_CHECK"
    ]


def endpoint(service: str, document: dict[str, Any] | None, private_dns: bool = True) -> VpcEndpoint:
    return VpcEndpoint(
        id=f"vpce-{service}",
        service_name=f"com.amazonaws.us-east-1.{service}",
        type="Interface",
        state="available",
        private_dns=private_dns,
        policy=document,
    )


def with_endpoints(f: Facts, *endpoints: VpcEndpoint) -> Facts:
    assert f.network is not None
    return f.model_copy(update={"network": f.network.model_copy(update={"endpoints": endpoints})})


ONLY_GET = policy({"Effect": "Allow", "Principal": "*", "Action": "lambda:GetFunction", "Resource": "*"})


def test_sts_and_lambda_endpoint_policies() -> None:
    f = with_endpoints(
        facts(), endpoint("sts", ONLY_GET), endpoint("lambda", ONLY_GET), endpoint("sqs", None)
    )
    (assume,) = run_check("role_trust", f)
    assert assume.evidence.endpoints == ("vpce-sts",)
    assert assume.evidence.trust_policy == "allow"
    (invoke,) = run_check("endpoint_policies", f)
    assert invoke.code == "ENDPOINT_POLICY_DENIES_INVOKE"
    assert invoke.evidence.endpoints == ("vpce-lambda",)


def test_endpoint_without_private_dns_is_not_on_the_path() -> None:
    assert run_check("endpoint_policies", with_endpoints(facts(), endpoint("lambda", ONLY_GET, False))) == []


def scram_facts(secret: Secret, associated: tuple[str, ...] | None = (SECRET,), lpr: str = "OK") -> Facts:
    cluster = Cluster(
        arn=CLUSTER,
        name="orders",
        kind="PROVISIONED",
        state="ACTIVE",
        auth=ClusterAuth(scram=True),
        scram_secret_arns=associated,
    )
    granted = policy(
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": SECRET},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY},
    )
    return factories.facts(
        esm=factories.esm(
            source_access=(SourceAccess(type="SASL_SCRAM_512_AUTH", uri=SECRET),), last_processing_result=lpr
        ),
        cluster=cluster,
        secrets=(secret,),
        role=role(full_access(), granted),
    )


GOOD_SECRET = Secret(arn=SECRET, access_type="SASL_SCRAM_512_AUTH", name="AmazonMSK_orders", kms_key_id=KEY)


def test_secret_endpoint_explicit_deny_is_narrowed(books: list[Playbook]) -> None:
    deny = policy(
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {
            "Sid": "NoSecrets",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "secretsmanager:*",
            "Resource": "*",
        },
    )
    f = with_endpoints(scram_facts(GOOD_SECRET), endpoint("secretsmanager", deny))
    findings = diagnose(f, books)
    assert codes(findings) == ["ENDPOINT_POLICY_DENIES_SECRET"]
    assert findings[0].evidence.blocked[0]["decision"] == "deny"
    (change,) = [c for c in build_plan(f, findings, books).changes if c.action == "put_vpc_endpoint_policy"]
    narrowed = statements(change.after["PolicyDocument"])[1]
    assert narrowed["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": [ROLE]}}


def test_missing_permissions_and_kafka_cluster_findings_share_one_change(books: list[Playbook]) -> None:
    f = facts(policy({"Effect": "Allow", "Action": "kafka:*", "Resource": "*"}))
    findings = diagnose(f, books)
    assert codes(findings) == [
        "CLUSTER_AUTHZ_FAILED",
        "EXECUTION_ROLE_MISSING_PERMISSIONS",
        "SASL_AUTH_FAILED",
    ]
    plan = build_plan(f, findings, books)
    (put,) = [c for c in plan.changes if c.action == "put_role_policy"]
    assert set(put.because) == {
        "CLUSTER_AUTHZ_FAILED",
        "EXECUTION_ROLE_MISSING_PERMISSIONS",
        "SASL_AUTH_FAILED",
    }
    granted = {
        (a, s["Resource"])
        for s in statements(put.after["PolicyDocument"])
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    group = GROUP_PREFIX + factories.UUID
    assert ("kafka-cluster:Connect", CLUSTER) in granted
    assert ("kafka-cluster:AlterGroup", group) in granted
    assert ("kafka-cluster:ReadData", TOPIC_ARN) in granted
    assert not any(a.startswith("kafka:") for a, _ in granted)  # kafka:* already allows those


def test_configured_consumer_group_is_the_one_granted() -> None:
    f = facts(full_access(group=factories.UUID), esm=factories.esm(consumer_group_id="orders-consumers"))
    (finding,) = run_check("cluster_authz", f)
    resources = {m["resource"] for m in finding.evidence.missing}
    assert resources == {GROUP_PREFIX + "orders-consumers"}


def test_secret_and_customer_key_are_needed() -> None:
    f = scram_facts(GOOD_SECRET).model_copy(update={"role": role(full_access())})
    (finding,) = run_check("role_permissions", f)
    assert {(m["action"], m["resource"]) for m in finding.evidence.missing} == {
        ("secretsmanager:GetSecretValue", SECRET),
        ("kms:Decrypt", KEY),
    }


@pytest.mark.parametrize(
    ("secret", "associated", "problems", "actions"),
    [
        (GOOD_SECRET, (), ["not-associated"], ["associate_scram_secret"]),
        (GOOD_SECRET.model_copy(update={"name": "orders"}), (), ["name", "not-associated"], []),
        (GOOD_SECRET.model_copy(update={"kms_key_id": None}), (SECRET,), ["kms"], []),
        (GOOD_SECRET.model_copy(update={"exists": False}), (), ["missing"], []),
    ],
)
def test_scram_secret_problems(
    books: list[Playbook],
    secret: Secret,
    associated: tuple[str, ...],
    problems: list[str],
    actions: list[str],
) -> None:
    f = scram_facts(secret, associated)
    (finding,) = [x for x in diagnose(f, books) if x.code == "SASL_AUTH_FAILED"]
    assert finding.evidence.problems == tuple(problems)
    plan = build_plan(f, [finding], books)
    assert [c.action for c in plan.changes if c.action != "reenable_esm"] == actions
    assert len(plan.manual_steps) == (0 if actions else 1)


def test_acl_finding_needs_the_authorization_hint() -> None:
    assert run_check("cluster_authz", scram_facts(GOOD_SECRET)) == []
    hinted = scram_facts(GOOD_SECRET, lpr="PROBLEM: Cluster failed to authorize Lambda.")
    (finding,) = run_check("cluster_authz", hinted)
    assert finding.evidence.auth == "scram"
    assert finding.evidence.group == factories.UUID
