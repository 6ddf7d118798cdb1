"""The error-text classifier: known AWS texts, rewordings, and tolerance to formatting."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remediate.error_text import classify, hints_for

KNOWN = [
    ("PROBLEM: Connection error. Please check your event source connection configuration.", "connection"),
    (
        "PROBLEM: Connection error. Your VPC must be able to connect to Lambda and STS, as well as "
        "Secrets Manager if authentication is required. You can provide access by configuring "
        "PrivateLink or a NAT Gateway.",
        "vpc-service-access",
    ),
    (
        "PROBLEM: Connection error. Your event source VPC must be able to connect to Lambda and STS, "
        "Secrets Manager (if event source authentication is required), and the OnFailure Destination "
        "(if one is configured).",
        "vpc-service-access",
    ),
    (
        "PROBLEM: Lambda failed to assume your function execution role. Please check if the role "
        "trust Lambda service principal, and make sure it does not require setting source identity "
        "to be assumed.",
        "role-assume",
    ),
    ("PROBLEM: SASL authentication failed.", "sasl"),
    ("PROBLEM: Cluster failed to authorize Lambda.", "cluster-authz"),
    ("PROBLEM: Lambda internal error. Please contact Lambda customer support.", "internal"),
    ("Server failed to authenticate Lambda", "server-auth"),
    ("Lambda failed to authenticate server", "server-auth"),
    ("Provided certificate or private key is invalid", "certificate"),
    ("PROBLEM: The certificate and/or private key must be in PEM format.", "certificate"),
    ("PROBLEM: The provided Kafka broker endpoints cannot be resolved.", "dns"),
    ("PROBLEM: No VPC endpoint policy allows the lambda:InvokeFunction action.", "endpoint-policy-invoke"),
    (
        "PROBLEM: Lambda is unable to call secretsmanager:GetSecretValue due to an explicit deny in a "
        "VPC endpoint policy.",
        "endpoint-policy-secret",
    ),
    ("EVENT_SOURCE_AUTHN_ERROR", "authentication"),
    ("EVENT_SOURCE_AUTHZ_ERROR", "authorization"),
]


@pytest.mark.parametrize(("text", "kind"), KNOWN)
def test_known_texts(text: str, kind: str) -> None:
    hint = classify(text)
    assert hint is not None
    assert hint.kind == kind


@pytest.mark.parametrize("text", ["", "OK", "No records processed", "USER_INITIATED", "User action", None])
def test_healthy_texts_have_no_hint(text: str | None) -> None:
    assert classify(text) is None


def test_both_sources_are_read_in_order() -> None:
    hints = hints_for("PROBLEM: SASL authentication failed.", "EVENT_SOURCE_AUTHN_ERROR")
    assert [h.source for h in hints] == ["LastProcessingResult", "StateTransitionReason"]


def _reformat(text: str, upper: bool, sep: str, drop_prefix: bool, suffix: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", text)
    if drop_prefix and words and words[0] == "PROBLEM":
        words = words[1:]
    out = sep.join(words)
    return (out.upper() if upper else out.lower()) + suffix


@given(
    case=st.sampled_from(KNOWN[:-2]),
    upper=st.booleans(),
    sep=st.sampled_from([" ", "  ", "\n", " - ", ", ", "\t"]),
    drop_prefix=st.booleans(),
    suffix=st.sampled_from(["", ".", " Please retry later.", " (request id 1234)"]),
)
def test_classification_ignores_case_spacing_punctuation_and_prefix(
    case: tuple[str, str], upper: bool, sep: str, drop_prefix: bool, suffix: str
) -> None:
    text, kind = case
    hint = classify(_reformat(text, upper, sep, drop_prefix, suffix))
    assert hint is not None
    assert hint.kind == kind


@given(st.text(max_size=200))
def test_never_crashes_on_arbitrary_text(text: str) -> None:
    classify(text)
