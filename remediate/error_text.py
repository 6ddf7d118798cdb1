"""Classify the ESM's error text into hints about which findings to expect.

AWS's texts (LastProcessingResult, StateTransitionReason) are the first thing an operator sees, but
they are generic, reworded over time, or missing. So they never decide anything: a hint only orders
findings and explains them ("AWS reports X; this matches Y"). Matching is tolerant: text is reduced
to lowercase word tokens and each pattern is a short run of words that must appear contiguously, so
case, punctuation, line breaks, a missing "PROBLEM:" prefix or an added sentence do not matter.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Hint:
    kind: str
    codes: tuple[str, ...]
    source: str
    text: str


# Most specific first: a text is classified by the first kind with a matching pattern.
_KINDS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "vpc-service-access",
        ("connect to lambda and sts", "privatelink or a nat gateway", "the onfailure destination"),
        ("SERVICE_ENDPOINTS_UNREACHABLE", "VPC_DNS_DISABLED", "BROKER_PORTS_BLOCKED"),
    ),
    (
        "role-assume",
        (
            "failed to assume your function execution role",
            "failed to assume",
            "trust lambda service principal",
        ),
        ("EXECUTION_ROLE_NOT_ASSUMABLE",),
    ),
    (
        "endpoint-policy-invoke",
        ("allows lambda invokefunction", "lambda invokefunction", "invokefunction action"),
        ("ENDPOINT_POLICY_DENIES_INVOKE",),
    ),
    (
        "endpoint-policy-secret",
        ("secretsmanager getsecretvalue", "getsecretvalue"),
        ("ENDPOINT_POLICY_DENIES_SECRET", "EXECUTION_ROLE_MISSING_PERMISSIONS"),
    ),
    (
        "sasl",
        ("sasl authentication failed", "sasl authentication", "invalid credentials with sasl mechanism"),
        ("SASL_AUTH_FAILED",),
    ),
    (
        "cluster-authz",
        ("failed to authorize lambda", "not authorized to access", "authorization failed"),
        ("CLUSTER_AUTHZ_FAILED", "EXECUTION_ROLE_MISSING_PERMISSIONS"),
    ),
    (
        "server-auth",
        (
            "failed to authenticate lambda",
            "failed to authenticate server",
            "failed to authenticate",
            "ssl handshake failed",
            "certificate verify failed",
            "pkix path building failed",
            "no subject alternative",
        ),
        ("SERVER_AUTH_FAILED", "SECRET_NOT_PEM"),
    ),
    (
        "certificate",
        (
            "certificate or private key is invalid",
            "pem format",
            "private key is invalid",
            "pbes",
            "pbes1",
            "pbes2",
        ),
        ("SECRET_NOT_PEM", "PRIVATE_KEY_PBES2"),
    ),
    (
        "dns",
        (
            "cannot be resolved",
            "could not be resolved",
            "unable to resolve",
            "unknown host",
            "unknownhost",
            "name or service not known",
            "no resolvable bootstrap urls",
        ),
        ("BROKER_DNS_UNRESOLVABLE",),
    ),
    ("internal", ("lambda internal error",), ()),
    (
        "connection",
        ("connection error", "timed out", "timeout", "check your event source connection"),
        ("BROKER_TIMEOUT", "BROKER_PORTS_BLOCKED", "SERVICE_ENDPOINTS_UNREACHABLE"),
    ),
)

_REASONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "EVENT_SOURCE_AUTHN_ERROR": (
        "authentication",
        ("SASL_AUTH_FAILED", "SECRET_NOT_PEM", "PRIVATE_KEY_PBES2", "SERVER_AUTH_FAILED"),
    ),
    "EVENT_SOURCE_AUTHZ_ERROR": (
        "authorization",
        ("CLUSTER_AUTHZ_FAILED", "EXECUTION_ROLE_MISSING_PERMISSIONS"),
    ),
    "ESM_CONFIG_NOT_VALID": ("esm-config", ("SECRET_NOT_PEM", "SASL_AUTH_FAILED")),
    "FUNCTION_CONFIG_NOT_VALID": ("function-config", ("EXECUTION_ROLE_NOT_ASSUMABLE",)),
}


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


_PATTERNS = tuple((kind, tuple(_tokens(p) for p in pats), codes) for kind, pats, codes in _KINDS)


@functools.lru_cache(maxsize=1024)
def classify(text: str | None, source: str = "LastProcessingResult") -> Hint | None:
    """The kind of a free-text ESM error, or None for OK/empty/unrecognised text.

    Classified once per distinct text (issue 26): a scan's thousands of mappings carry a handful of
    texts, and the token-window matching is the costly part; a Hint is immutable, so it is shared."""
    if not text:
        return None
    words = _tokens(text)
    if not words or words in (["ok"], ["no", "records", "processed"]):
        return None
    reason = _REASONS.get(text.strip().upper())
    if reason:
        return Hint(reason[0], reason[1], source, text)
    for kind, patterns, codes in _PATTERNS:
        if any(_contains(words, p) for p in patterns):
            return Hint(kind, codes, source, text)
    return None


def hints_for(last_processing_result: str, state_transition_reason: str) -> tuple[Hint, ...]:
    """Hints from both texts an ESM carries, most informative (LastProcessingResult) first."""
    found = (
        classify(last_processing_result, "LastProcessingResult"),
        classify(state_transition_reason, "StateTransitionReason"),
    )
    return tuple(h for h in found if h is not None)
