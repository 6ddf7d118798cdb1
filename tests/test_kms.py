"""Unit tests of the key-policy check and its fix on `Facts` fixtures."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remediate.actions import get
from remediate.checks.kms import kms_key_policy
from remediate.facts import KmsKey, Secret, SourceAccess
from remediate.plan import Change
from tests import factories

KEY = f"arn:aws:kms:{factories.REGION}:{factories.ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET = f"arn:aws:secretsmanager:{factories.REGION}:{factories.ACCOUNT}:secret:AmazonMSK_x-AbCdEf"
ROOT = f"arn:aws:iam::{factories.ACCOUNT}:root"


def facts_with(policy: dict[str, Any] | None, manager: str = "CUSTOMER") -> Any:
    esm = factories.esm(source_access=(SourceAccess(type="SASL_SCRAM_512_AUTH", uri=SECRET),))
    return factories.facts(
        esm=esm,
        secrets=(Secret(arn=SECRET, access_type="SASL_SCRAM_512_AUTH", name="AmazonMSK_x", kms_key_id=KEY),),
        keys=(KmsKey(ref=KEY, arn=KEY, manager=manager, policy=policy),),
    )


def allow(principal: Any, action: Any = "kms:*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*", **extra}


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


@pytest.mark.parametrize(
    "policy",
    [
        doc(allow({"AWS": ROOT})),  # the default policy: IAM policies decide
        doc(allow({"AWS": factories.ROLE_ARN}, "kms:Decrypt")),
        doc(allow("*", "kms:Decrypt")),
        doc(allow({"AWS": factories.ACCOUNT}, ["kms:Decrypt", "kms:Encrypt"])),
    ],
)
def test_a_policy_that_allows_or_delegates_is_no_finding(policy: dict[str, Any]) -> None:
    assert kms_key_policy(facts_with(policy)) == []


def test_an_aws_managed_key_or_an_unread_policy_is_not_judged() -> None:
    assert kms_key_policy(facts_with(doc(), manager="AWS")) == []
    assert kms_key_policy(facts_with(None)) == []


def test_no_grant_is_implicit() -> None:
    (finding,) = kms_key_policy(facts_with(doc(allow({"AWS": ROOT}, "kms:PutKeyPolicy", Sid="Admin"))))
    ev = finding.evidence.model_dump()
    assert (finding.code, ev["decision"], ev["action"], ev["used_for"]) == (
        "KMS_KEY_DENIES",
        "implicit",
        "kms:Decrypt",
        SECRET,
    )


def test_a_deny_is_named_and_the_fix_narrows_it_only_for_the_role() -> None:
    deny = {"Sid": "NoDecrypt", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
    facts = facts_with(doc(allow({"AWS": ROOT}, Sid="Root"), deny))
    (finding,) = kms_key_policy(facts)
    assert finding.evidence.model_dump()["statements"] == ("NoDecrypt",)
    (draft,) = get("put_key_policy").plan(facts, finding, get("put_key_policy").Params())
    change: Change = draft.change  # type: ignore[union-attr]
    narrowed = change.after["Policy"]["Statement"][1]
    assert narrowed["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": [factories.ROLE_ARN]}}
    assert change.before == {"Policy": facts.keys[0].policy}


def test_the_grant_is_one_sided_statement_for_the_role() -> None:
    facts = facts_with(doc(allow({"AWS": ROOT}, "kms:PutKeyPolicy", Sid="Admin")))
    (finding,) = kms_key_policy(facts)
    (draft,) = get("put_key_policy").plan(facts, finding, get("put_key_policy").Params())
    added = draft.change.after["Policy"]["Statement"][-1]  # type: ignore[union-attr]
    assert added == {
        "Sid": "RemediateKeyUse",
        "Effect": "Allow",
        "Principal": {"AWS": factories.ROLE_ARN},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }


def test_a_key_policy_that_names_the_role_needs_no_iam_grant() -> None:
    """The role's IAM policies lack kms:Decrypt: with the default key policy (the account's statement) that
    is a missing permission; with a statement naming the role, the key policy allows it by itself."""
    from remediate.checks.iam import role_permissions

    def missing(policy: dict[str, Any]) -> set[str]:
        found = role_permissions(facts_with(policy))
        return {r["action"] for f in found for r in f.evidence.model_dump()["missing"]}

    assert "kms:Decrypt" in missing(doc(allow({"AWS": ROOT})))
    assert "kms:Decrypt" not in missing(
        doc(allow({"AWS": ROOT}), allow({"AWS": factories.ROLE_ARN}, "kms:Decrypt"))
    )


def test_a_deny_in_the_roles_own_policy_is_reported_and_narrowed_there() -> None:
    facts = facts_with(doc(allow({"AWS": ROOT})))
    role = facts.role
    deny = {"Sid": "NoKms", "Effect": "Deny", "Action": ["kms:Decrypt", "kms:ReEncrypt*"], "Resource": "*"}
    grant = {"Effect": "Allow", "Action": ["kms:Decrypt", "secretsmanager:GetSecretValue"], "Resource": "*"}
    policy = {**role.inline_policies[0].document}
    policy["Statement"] = [*policy["Statement"], grant, deny]
    facts = facts.model_copy(
        update={
            "role": role.model_copy(
                update={"inline_policies": (role.inline_policies[0].model_copy(update={"document": policy}),)}
            )
        }
    )
    (finding,) = kms_key_policy(facts)
    ev = finding.evidence.model_dump()
    assert (ev["policy"], ev["decision"], ev["statements"]) == ("role", "deny", ("consumer-access:NoKms",))
    assert get("put_key_policy").plan(facts, finding, get("put_key_policy").Params()) == []
    drafts = get("put_role_policy").plan(facts, finding, get("put_role_policy").Params())
    (change,) = [d.change for d in drafts if d.change.after["PolicyName"] == "consumer-access"]  # type: ignore[union-attr]
    kept = next(s for s in change.after["PolicyDocument"]["Statement"] if s.get("Sid") == "NoKms")
    assert kept["Action"] == "kms:ReEncrypt*"


principals = st.sampled_from([{"AWS": "ROOT"}, {"AWS": "ROLE"}, "*", {"AWS": "OTHER"}])
kms_actions = st.sampled_from(["kms:Decrypt", "kms:*", ["kms:Decrypt", "kms:Encrypt"], "kms:PutKeyPolicy"])
statement = st.fixed_dictionaries(
    {"Effect": st.sampled_from(["Allow", "Deny"]), "Principal": principals, "Action": kms_actions}
)


@settings(deadline=None)  # the machine is shared: a timing is no property
@given(st.lists(statement, min_size=1, max_size=4))
def test_after_the_planned_change_the_key_policy_lets_the_role_decrypt(stmts: list[dict[str, Any]]) -> None:
    """Whatever the key policy, the change planned for KMS_KEY_DENIES leaves the role allowed (by the key
    policy itself), or it is a manual step; never a silent no-op."""
    from remediate.policy import Principal, Request, evaluate

    names = {
        "ROOT": ROOT,
        "ROLE": factories.ROLE_ARN,
        "OTHER": f"arn:aws:iam::{factories.ACCOUNT}:role/other",
    }

    def concrete(n: int, s: dict[str, Any]) -> dict[str, Any]:
        p = s["Principal"]
        principal = p if p == "*" else {"AWS": names[p["AWS"]]}
        return {**s, "Principal": principal, "Resource": "*", "Sid": f"S{n}"}

    facts = facts_with(doc(*(concrete(n, s) for n, s in enumerate(stmts))))
    findings = kms_key_policy(facts)
    if not findings:
        return
    (step,) = get("put_key_policy").plan(facts, findings[0], get("put_key_policy").Params())
    if not hasattr(step, "change"):
        return  # a manual step: the helper refused to loosen what it cannot narrow
    after = step.change.after["Policy"]
    req = Request.make("kms:Decrypt", "*", Principal.role(factories.ROLE_ARN))
    assert evaluate(after, req).decision == "allow"
