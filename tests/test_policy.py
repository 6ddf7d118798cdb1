"""The policy evaluator and patcher: AWS's rules on small documents, and properties of patching."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remediate.policy import (
    FULL_ACCESS,
    PolicyError,
    Principal,
    Request,
    evaluate,
    patch,
    statements,
)
from tests.policy_split import split_off_deny

ROLE = "arn:aws:iam::123456789012:role/service-role/consumer"
OTHER_ROLE = "arn:aws:iam::123456789012:role/other"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:AmazonMSK_x-AbCdEf"
LAMBDA = Principal.service("lambda.amazonaws.com")


def doc(*stmts: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(stmts)}


def allow(**kw: Any) -> dict[str, Any]:
    return {"Effect": "Allow", **kw}


def deny(**kw: Any) -> dict[str, Any]:
    return {"Effect": "Deny", **kw}


def role_req(action: str = "secretsmanager:GetSecretValue", resource: str = SECRET, **kw: Any) -> Request:
    return Request.make(action, resource, Principal.role(ROLE), **kw)


@pytest.mark.parametrize(
    ("document", "decision"),
    [
        (doc(allow(Action="secretsmanager:*", Resource="*")), "allow"),
        (doc(allow(Action="SecretsManager:getsecretvalue", Resource=SECRET)), "allow"),  # actions ignore case
        (doc(allow(Action="secretsmanager:Get?ecretValue", Resource="arn:aws:secretsmanager:*")), "allow"),
        (doc(allow(Action="secretsmanager:GetSecretValue", Resource=SECRET.lower())), "implicit"),
        (doc(allow(NotAction="secretsmanager:GetSecretValue", Resource="*")), "implicit"),
        (doc(allow(NotAction="s3:*", Resource="*")), "allow"),
        (doc(allow(Action="*", NotResource=SECRET)), "implicit"),
        (doc(allow(Action="*", Resource="*"), deny(Action="secretsmanager:*", Resource="*")), "deny"),
        (doc(), "implicit"),
        (doc(allow(Action="*", Resource="arn:aws:s3:::${aws:username}/*")), "implicit"),
        (
            doc(allow(Action="*", Resource="arn:aws:secretsmanager:us-east-1:123456789012:secret:${x}")),
            "unknown",
        ),
    ],
)
def test_identity_policy_decisions(document: dict[str, Any], decision: str) -> None:
    assert evaluate(document, Request.make("secretsmanager:GetSecretValue", SECRET)).decision == decision


@pytest.mark.parametrize(
    ("principal", "decision"),
    [
        ("*", "allow"),
        ({"AWS": "*"}, "allow"),
        ({"AWS": ROLE}, "allow"),
        ({"AWS": "123456789012"}, "allow"),
        ({"AWS": "arn:aws:iam::123456789012:root"}, "allow"),
        ({"AWS": "arn:aws:iam::999999999999:root"}, "implicit"),
        ({"AWS": OTHER_ROLE}, "implicit"),
        ({"AWS": "arn:aws:sts::123456789012:assumed-role/consumer/some-session"}, "unknown"),
        ({"Service": "lambda.amazonaws.com"}, "implicit"),
    ],
)
def test_principals(principal: Any, decision: str) -> None:
    document = doc(allow(Principal=principal, Action="secretsmanager:GetSecretValue", Resource="*"))
    assert evaluate(document, role_req()).decision == decision


def test_not_principal_deny_exempts_the_listed_role() -> None:
    document = doc(
        allow(Principal="*", Action="*", Resource="*"),
        deny(NotPrincipal={"AWS": ROLE}, Action="*", Resource="*"),
    )
    assert evaluate(document, role_req()).decision == "allow"
    other = Request.make("secretsmanager:GetSecretValue", SECRET, Principal.role(OTHER_ROLE))
    assert evaluate(document, other).decision == "deny"


def test_service_principal_in_trust_policy() -> None:
    trust = doc(
        allow(Principal={"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]}, Action="sts:AssumeRole")
    )
    assert evaluate(trust, Request.make("sts:AssumeRole", ROLE, LAMBDA)).allowed


def test_source_identity_condition_is_false_when_known_absent() -> None:
    trust = doc(
        allow(
            Principal={"Service": "lambda.amazonaws.com"},
            Action="sts:AssumeRole",
            Condition={"StringLike": {"sts:SourceIdentity": "*"}},
        )
    )
    known_absent = Request.make("sts:AssumeRole", ROLE, LAMBDA, absent=("sts:SourceIdentity",))
    assert evaluate(trust, known_absent).decision == "implicit"
    assert evaluate(trust, Request.make("sts:AssumeRole", ROLE, LAMBDA)).decision == "unknown"


@pytest.mark.parametrize(
    ("condition", "decision"),
    [
        ({"StringEquals": {"aws:SourceVpce": "vpce-1"}}, "allow"),
        ({"StringEquals": {"aws:sourcevpce": ["vpce-2", "vpce-1"]}}, "allow"),  # keys ignore case
        ({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}, "implicit"),
        ({"StringLike": {"aws:SourceVpce": "vpce-*"}}, "allow"),
        ({"ArnEquals": {"aws:PrincipalArn": ROLE}}, "allow"),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/other"}}, "implicit"),
        ({"Bool": {"aws:PrincipalIsAWSService": False}}, "allow"),
        ({"Null": {"aws:PrincipalServiceName": "true"}}, "allow"),
        ({"StringEqualsIfExists": {"aws:PrincipalServiceName": "x"}}, "allow"),
        ({"StringEquals": {"aws:PrincipalServiceName": "x"}}, "implicit"),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}, "unknown"),  # not described: not guessed
        ({"NumericLessThan": {"aws:SourceVpce": "3"}}, "unknown"),  # operator not modelled
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, "unknown"),
    ],
)
def test_conditions(condition: dict[str, Any], decision: str) -> None:
    document = doc(allow(Principal="*", Action="*", Resource="*", Condition=condition))
    req = role_req(context={"aws:SourceVpce": ["vpce-1"]})
    assert evaluate(document, req).decision == decision


def test_an_undecidable_deny_makes_the_answer_unknown() -> None:
    document = doc(
        allow(Principal="*", Action="*", Resource="*"),
        deny(
            Principal="*", Action="*", Resource="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}}
        ),
    )
    assert evaluate(document, role_req()).decision == "unknown"


def test_endpoint_without_policy_is_full_access() -> None:
    assert evaluate(FULL_ACCESS, role_req()).allowed
    assert evaluate(None, role_req()).decision == "implicit"


# --- patching ---------------------------------------------------------------------------------------


def test_patch_adds_one_remediate_statement() -> None:
    document = doc(allow(Sid="OnlyThis", Principal="*", Action="lambda:GetFunction", Resource="*"))
    req = Request.make("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:1:function:f", LAMBDA)
    new = patch(document, [req], sid="RemediateLambdaInvoke", limit=20_480)
    assert new is not None
    assert statements(new)[0] == statements(document)[0]
    assert statements(new)[1] == {
        "Sid": "RemediateLambdaInvoke",
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": "arn:aws:lambda:us-east-1:1:function:f",
    }
    assert document == doc(allow(Sid="OnlyThis", Principal="*", Action="lambda:GetFunction", Resource="*"))


def test_patch_narrows_the_seed_deny_for_the_role_only() -> None:
    document = doc(
        allow(Principal="*", Action="*", Resource="*"),
        deny(Sid="NoSecrets", Principal="*", Action="secretsmanager:GetSecretValue", Resource="*"),
    )
    new = patch(document, [role_req()], sid="RemediateSecretRead", limit=20_480)
    assert new is not None
    assert len(statements(new)) == 2
    assert statements(new)[1]["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": [ROLE]}}
    assert evaluate(new, role_req()).allowed
    other = Request.make("secretsmanager:GetSecretValue", SECRET, Principal.role(OTHER_ROLE))
    assert evaluate(new, other).decision == "deny"  # still denied to everyone else


def test_patch_extends_not_principal_and_existing_exceptions() -> None:
    document = doc(
        allow(Principal="*", Action="*", Resource="*"),
        deny(NotPrincipal={"AWS": OTHER_ROLE}, Action="*", Resource="*"),
    )
    new = patch(document, [role_req()], sid="RemediateX", limit=20_480)
    assert new is not None
    assert statements(new)[1]["NotPrincipal"] == {"AWS": [OTHER_ROLE, ROLE]}


def test_identity_deny_drops_only_the_blocked_action() -> None:
    document = doc(
        allow(Action="*", Resource="*"),
        deny(Action=["kafka-cluster:Connect", "kafka-cluster:AlterGroup"], Resource="*"),
    )
    req = Request.make("kafka-cluster:Connect", "arn:aws:kafka:us-east-1:1:cluster/c/u")
    new = patch(document, [req], sid="RemediateEsmAccess", limit=10_240)
    assert new is not None
    assert statements(new)[1]["Action"] == "kafka-cluster:AlterGroup"


def test_identity_deny_that_cannot_be_narrowed_is_refused() -> None:
    document = doc(deny(Action="kafka-cluster:*", Resource="*"))
    with pytest.raises(PolicyError):
        patch(document, [Request.make("kafka-cluster:Connect", "x")], sid="RemediateEsmAccess", limit=10_240)


def test_trust_policy_grant_has_no_resource_and_size_is_enforced() -> None:
    req = Request.make("sts:AssumeRole", ROLE, LAMBDA, absent=("sts:SourceIdentity",))
    new = patch(doc(), [req], sid="RemediateLambdaTrust", limit=2_048, with_resource=False)
    assert new is not None
    assert "Resource" not in statements(new)[0]
    with pytest.raises(PolicyError, match="over the limit"):
        patch(doc(), [req], sid="RemediateLambdaTrust", limit=50, with_resource=False)


def test_grants_group_actions_by_resource_and_keep_sids_unique() -> None:
    document = doc(allow(Sid="RemediateEsmAccess", Action="logs:*", Resource="*"))
    reqs = [Request.make(a, "arn:c") for a in ("kafka:GetBootstrapBrokers", "kafka:DescribeClusterV2")]
    reqs.append(Request.make("ec2:DescribeVpcs", "*"))
    new = patch(document, reqs, sid="RemediateEsmAccess", limit=10_240)
    assert new is not None
    added = statements(new)[1:]
    assert [s["Sid"] for s in added] == ["RemediateEsmAccess2", "RemediateEsmAccess3"]
    assert {
        "Action": ["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"],
        "Resource": "arn:c",
    }.items() <= (next(s for s in added if s["Resource"] == "arn:c").items())


# --- properties -------------------------------------------------------------------------------------

_ACTIONS = ["secretsmanager:GetSecretValue", "lambda:InvokeFunction", "sts:AssumeRole", "sqs:SendMessage"]
_RESOURCES = [SECRET, "arn:aws:lambda:us-east-1:123456789012:function:f", ROLE, "*"]
_PRINCIPALS = [Principal.role(ROLE), Principal.role(OTHER_ROLE), LAMBDA]

action_patterns = st.sampled_from([*_ACTIONS, "*", "secretsmanager:*", "lambda:Invoke*", "SQS:sendmessage"])
resource_patterns = st.sampled_from(
    [*_RESOURCES, "arn:aws:secretsmanager:*", "arn:aws:lambda:*:*:function:*"]
)
principal_blocks = st.sampled_from(
    ["*", {"AWS": ROLE}, {"AWS": OTHER_ROLE}, {"AWS": "123456789012"}, {"Service": "lambda.amazonaws.com"}]
)


@st.composite
def statement_strategy(draw: st.DrawFn) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Deny"]))}
    if draw(st.booleans()):
        stmt["Sid"] = draw(st.sampled_from(["A", "B", "RemediateX"]))
    stmt["NotAction" if draw(st.integers(0, 4)) == 0 else "Action"] = draw(
        st.one_of(action_patterns, st.lists(action_patterns, min_size=1, max_size=3))
    )
    stmt["NotResource" if draw(st.integers(0, 4)) == 0 else "Resource"] = draw(
        st.one_of(resource_patterns, st.lists(resource_patterns, min_size=1, max_size=2))
    )
    key = draw(st.sampled_from(["Principal", "Principal", "Principal", "NotPrincipal"]))
    block = draw(principal_blocks)
    stmt[key] = {"AWS": OTHER_ROLE} if key == "NotPrincipal" and block == "*" else block
    if draw(st.integers(0, 3)) == 0:
        stmt["Condition"] = {"StringEquals": {"aws:SourceVpce": draw(st.sampled_from(["vpce-1", "vpce-2"]))}}
    return stmt


documents = st.lists(statement_strategy(), max_size=5).map(lambda s: doc(*s))
requests = st.lists(
    st.builds(
        lambda a, r, p: Request.make(a, r, p, context={"aws:SourceVpce": ["vpce-1"]}),
        st.sampled_from(_ACTIONS),
        st.sampled_from(_RESOURCES),
        st.sampled_from(_PRINCIPALS),
    ),
    min_size=1,
    max_size=3,
)


def _patched(document: dict[str, Any], reqs: list[Request]) -> dict[str, Any] | None:
    try:
        return patch(document, reqs, sid="RemediateFix", limit=20_480)
    except PolicyError:
        return None


@settings(max_examples=300, deadline=None)
@given(documents, requests)
def test_patch_properties(document: dict[str, Any], reqs: list[Request]) -> None:
    original = copy.deepcopy(document)
    new = _patched(document, reqs)
    assert document == original  # the input is never mutated
    if new is None:
        return
    # Idempotent: patching the patched document changes nothing.
    assert patch(new, reqs, sid="RemediateFix", limit=20_480) == new
    # Never drops a statement; a changed one is a narrowed Deny; added ones are Remediate* Allows.
    old, fresh = statements(document), statements(new)
    assert len(fresh) >= len(old)
    for was, now in zip(old, fresh, strict=False):
        assert was == now or (was["Effect"] == now["Effect"] == "Deny")
    for added in fresh[len(old) :]:
        assert added["Effect"] == "Allow" or split_off_deny(added, old, fresh), added
        assert added["Sid"].startswith("Remediate")
        assert not (added.get("Principal") == "*" and added.get("Action") == "*")
    # The evaluator agrees with the patcher: what was missing or denied is now allowed.
    for req in reqs:
        if evaluate(document, req).decision in ("allow", "implicit", "deny"):
            assert evaluate(new, req).decision == "allow", (req, new)
