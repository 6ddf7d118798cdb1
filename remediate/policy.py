"""IAM policy evaluation and minimal patching: the one policy helper of the project.

No maintained Python evaluator exists, so this is a small, exact one for the questions the playbooks
ask: "does this document let principal P do action A on resource R?" for identity policies, trust
policies and VPC endpoint policies. It follows AWS's rules where they matter here: an explicit Deny
wins over any Allow, no Allow means an implicit deny, actions match case-insensitively with `*`/`?`
wildcards, resources case-sensitively, `NotAction`/`NotResource`/`NotPrincipal` invert their match.

What it cannot decide it says so: a condition on a key the caller did not describe, an operator it
does not implement, or a policy variable makes the statement "unknown" rather than guessed, and an
unknown Deny makes the whole answer unknown. A permissions boundary is one more document evaluated on
its own (`required_access` combines the two: an allow needs both); SCPs and session policies are not
modelled (observation cannot read them).

The patcher changes as little as possible: it narrows only the Deny statements that block a request
(an exception for that one principal, or dropping the one blocked action/resource) and adds one
Allow statement per group of actions sharing resources, with a Sid that begins with "Remediate". It
never removes a statement, and patching a patched document changes nothing.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal
from urllib.parse import unquote

Decision = Literal["allow", "deny", "implicit", "unknown"]
Document = dict[str, Any]

# Size limits (characters) of the documents the actions write, counted on the text they send (`to_text`),
# which has no whitespace: IAM does not count whitespace, and a VPC endpoint policy counts it ("Characters
# per VPC endpoint policy: 20,480 ... The maximum size of a VPC endpoint policy, including white space",
# AWS PrivateLink guide, "AWS PrivateLink quotas",
# https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-limits-endpoints.html).
INLINE_ROLE_POLICY_LIMIT = 10_240  # aggregate of all inline policies of a role
TRUST_POLICY_LIMIT = 2_048  # the default quota; accounts may have it raised
VPC_ENDPOINT_POLICY_LIMIT = 20_480

# The policy AWS applies to a VPC endpoint created without one.
FULL_ACCESS: Document = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}


ORGANIZATION_KEYS = frozenset({"aws:principalorgid", "aws:principalorgpaths"})
"""The organization perimeter keys of the principal (lowercase), absent for service principals."""


class PolicyError(Exception):
    """A document cannot be patched safely; the caller turns this into a manual step."""


@dataclass(frozen=True)
class Principal:
    """Who makes the request: a service principal, or an IAM role (and its sessions)."""

    kind: Literal["Service", "AWS"]
    id: str

    @classmethod
    def service(cls, name: str) -> Principal:
        return cls("Service", name)

    @classmethod
    def role(cls, arn: str) -> Principal:
        return cls("AWS", arn)

    @property
    def account(self) -> str | None:
        parts = self.id.split(":")
        return parts[4] if self.kind == "AWS" and len(parts) > 5 else None

    def statement_value(self) -> dict[str, str]:
        return {self.kind: self.id}

    def context(self) -> tuple[dict[str, tuple[str, ...]], frozenset[str]]:
        """The global condition keys AWS sets for this principal (lowercase), and those it leaves absent.

        A service principal belongs to no organization: aws:PrincipalOrgID and aws:PrincipalOrgPaths are
        "included in the request context only if the principal is a member of an organization" (IAM User
        Guide, "AWS global condition context keys",
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html), which is
        why an endpoint policy limited to the organization breaks an event source mapping ("Restricting
        your VPC endpoint policies to allow only API calls originating within your organization prevents
        the event source mapping from functioning properly", Lambda developer guide, network configuration
        of the Kafka event sources).
        """
        if self.kind == "Service":
            return (
                {"aws:principalservicename": (self.id,), "aws:principalisawsservice": ("true",)},
                frozenset({"aws:principalarn", *ORGANIZATION_KEYS}),
            )
        known: dict[str, tuple[str, ...]] = {
            "aws:principalarn": (self.id,),
            "aws:principalisawsservice": ("false",),
        }
        if self.account:
            known["aws:principalaccount"] = (self.account,)
        return known, frozenset({"aws:principalservicename"})


@dataclass(frozen=True)
class Request:
    """One request to evaluate. `principal` is None for identity policies (the policy's owner asks).

    `context` holds the condition keys whose values are known (lowercase keys); `absent` the keys
    known not to be in the request. Any other key is unknown. `grant_condition` is a Condition block
    the statement that grants this request must carry (e.g. a KMS alias), and must hold in `context`.
    """

    action: str
    resource: str
    principal: Principal | None = None
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()
    grant_condition: Mapping[str, Mapping[str, Any]] | None = None

    @classmethod
    def make(
        cls,
        action: str,
        resource: str,
        principal: Principal | None = None,
        context: Mapping[str, Sequence[str]] | None = None,
        absent: Iterable[str] = (),
        grant_condition: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Request:
        known: dict[str, tuple[str, ...]] = {}
        gone = {a.lower() for a in absent}
        if principal is not None:
            p_known, p_absent = principal.context()
            known.update(p_known)
            gone |= p_absent
        known.update({k.lower(): tuple(v) for k, v in (context or {}).items()})
        return cls(action, resource, principal, known, frozenset(gone - known.keys()), grant_condition)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "resource": self.resource}
        if self.principal is not None:
            out["principal"] = self.principal.statement_value()
        return out


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    allows: tuple[int, ...] = ()
    denies: tuple[int, ...] = ()
    undecided: tuple[int, ...] = ()
    """Statements whose match depends on something unknown (conditions, session names)."""

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"


def parse(value: Any) -> Document | None:
    """A policy document as AWS returns it (decoded dict, JSON text, URL-encoded JSON) as a dict."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return value
    text = str(value)
    if text.lstrip().startswith("%7B") or text.lstrip().startswith("%7b"):
        text = unquote(text)
    parsed = json.loads(text)
    return parsed if isinstance(parsed, dict) else None


# --- matching ---------------------------------------------------------------------------------------


def statements(document: Document | None) -> list[dict[str, Any]]:
    if not document:
        return []
    raw = document.get("Statement", [])
    return [raw] if isinstance(raw, dict) else list(raw)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@cache
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's glob: `*` any run of characters, `?` one character, everything else literal."""
    return _pattern(pattern, ignore_case).fullmatch(value) is not None


Tri = bool | None  # True, False, or None for "cannot decide"


def _all(values: Iterable[Tri]) -> Tri:
    """Three-valued AND: any False decides; else any unknown makes it unknown."""
    result: Tri = True
    for v in values:
        if v is False:
            return False
        if v is None:
            result = None
    return result


def _any(values: Iterable[Tri]) -> Tri:
    result: Tri = False
    for v in values:
        if v is True:
            return True
        if v is None:
            result = None
    return result


def _not(value: Tri) -> Tri:
    return None if value is None else not value


def _action_matches(stmt: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in stmt:
        return not any(wildcard(p, action, ignore_case=True) for p in _as_list(stmt["NotAction"]))
    return any(wildcard(p, action, ignore_case=True) for p in _as_list(stmt.get("Action")))


def _resource_matches(stmt: Mapping[str, Any], resource: str) -> Tri:
    if "NotResource" in stmt:
        return _not(_any(_one_resource(p, resource) for p in _as_list(stmt["NotResource"])))
    if "Resource" not in stmt:
        return True  # trust policies name no resource: the role itself
    return _any(_one_resource(p, resource) for p in _as_list(stmt["Resource"]))


def _one_resource(pattern: str, resource: str) -> Tri:
    if "${" in pattern:
        # A policy variable depends on the request's identity: decide only when no value could match.
        loosest = re.sub(r"\$\{[^}]*\}", "*", pattern)
        return None if wildcard(loosest, resource) else False
    return wildcard(pattern, resource)


def _principal_value_matches(kind: str, value: str, principal: Principal) -> Tri:
    if value == "*" and kind == "AWS":
        return True
    if kind != principal.kind:
        return False
    if kind == "Service":
        return value.lower() == principal.id.lower()
    account = principal.account
    if value == principal.id or (account and value in (account, f"arn:aws:iam::{account}:root")):
        return True
    if account and value.startswith(f"arn:aws:sts::{account}:assumed-role/"):
        role_name = principal.id.rsplit("/", 1)[-1]
        # A session of this role matches only if the session name does, which is not known here.
        return None if value.split("/")[1] == role_name else False
    return False


def _principal_block_matches(block: Any, principal: Principal) -> Tri:
    if block == "*":
        return True
    if not isinstance(block, Mapping):
        return False
    return _any(
        _principal_value_matches(kind, str(v), principal) for kind, vs in block.items() for v in _as_list(vs)
    )


def _principal_matches(stmt: Mapping[str, Any], principal: Principal | None) -> Tri:
    if principal is None:
        return True
    if "NotPrincipal" in stmt:
        return _not(_principal_block_matches(stmt["NotPrincipal"], principal))
    if "Principal" in stmt:
        return _principal_block_matches(stmt["Principal"], principal)
    return True


_STRING_OPS: dict[str, tuple[bool, Callable[[str, str], bool]]] = {
    "StringEquals": (False, lambda p, v: p == v),
    "StringNotEquals": (True, lambda p, v: p == v),
    "StringEqualsIgnoreCase": (False, lambda p, v: p.lower() == v.lower()),
    "StringNotEqualsIgnoreCase": (True, lambda p, v: p.lower() == v.lower()),
    "StringLike": (False, lambda p, v: wildcard(p, v)),
    "StringNotLike": (True, lambda p, v: wildcard(p, v)),
    "ArnEquals": (False, lambda p, v: wildcard(p, v)),
    "ArnLike": (False, lambda p, v: wildcard(p, v)),
    "ArnNotEquals": (True, lambda p, v: wildcard(p, v)),
    "ArnNotLike": (True, lambda p, v: wildcard(p, v)),
    "Bool": (False, lambda p, v: p.lower() == v.lower()),
}


def _condition(operator: str, key: str, raw_values: Any, req: Request) -> Tri:
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    values = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(raw_values)]
    key = key.lower()
    present: Tri = True if key in req.context else False if key in req.absent else None
    if base == "Null":
        wants_absent = _all(v.lower() == "true" for v in values)
        return None if present is None else (present is not True) == wants_absent
    if present is None:
        return None
    negated = base in _STRING_OPS and _STRING_OPS[base][0]
    if not present:
        if if_exists or qualifier == "ForAllValues":
            return True
        return negated if base in _STRING_OPS else False
    if base not in _STRING_OPS or any("${" in v for v in values):
        return None  # numeric, date, IP or policy variables: not modelled, so not guessed
    test: Callable[[str, str], bool] = _STRING_OPS[base][1]
    actual = req.context[key]
    if qualifier == "ForAllValues":
        hits = [any(test(p, a) for p in values) for a in actual]
        return all(not h for h in hits) if negated else all(hits)
    hit = any(test(p, a) for p in values for a in actual)
    return not hit if negated else hit


def _conditions_hold(stmt: Mapping[str, Any], req: Request) -> Tri:
    block = stmt.get("Condition") or {}
    if not isinstance(block, Mapping):
        return None
    return _all(
        _condition(op, key, values, req)
        for op, keys in block.items()
        if isinstance(keys, Mapping)
        for key, values in keys.items()
    )


def statement_matches(stmt: Mapping[str, Any], req: Request) -> Tri:
    """Whether the statement applies to the request: True, False, or None when it cannot be decided."""
    if not _action_matches(stmt, req.action):
        return False
    resource = _resource_matches(stmt, req.resource)
    if resource is False:
        return False
    principal = _principal_matches(stmt, req.principal)
    if principal is False:
        return False
    return _all((resource, principal, _conditions_hold(stmt, req)))


def evaluate(documents: Document | Sequence[Document | None] | None, req: Request) -> Evaluation:
    """The decision of one or more documents evaluated together (a role's inline + attached policies).

    `None` stands for "no such policy" (no statements). A VPC endpoint without a policy has AWS's
    default one: callers pass `FULL_ACCESS` for it.
    """
    docs = list(documents) if isinstance(documents, Sequence) else [documents]
    allows: list[int] = []
    denies: list[int] = []
    undecided: list[int] = []
    undecided_deny = False
    index = 0
    for doc in docs:
        for stmt in statements(doc):
            match = statement_matches(stmt, req)
            deny = stmt.get("Effect") == "Deny"
            if match is True:
                (denies if deny else allows).append(index)
            elif match is None:
                undecided.append(index)
                undecided_deny = undecided_deny or deny
            index += 1
    decision: Decision
    if denies:
        decision = "deny"
    elif undecided_deny:
        decision = "unknown"
    elif allows:
        decision = "allow"
    elif undecided:
        decision = "unknown"
    else:
        decision = "implicit"
    return Evaluation(decision, tuple(allows), tuple(denies), tuple(undecided))


# --- patching ---------------------------------------------------------------------------------------


def to_text(document: Document) -> str:
    """The JSON text a policy write sends: compact, so what `size` counts is exactly what AWS receives."""
    return json.dumps(document, separators=(",", ":"))


def size(document: Document | None) -> int:
    """Characters of the text `to_text` sends (the same whether the limit counts whitespace or not)."""
    return len(to_text(document)) if document is not None else 0


def _drop_literal(stmt: dict[str, Any], key: str, value: str, ignore_case: bool) -> bool:
    """Remove `value` from a list-valued Action/Resource when listed literally beside other entries."""
    entries = _as_list(stmt.get(key))
    kept = [e for e in entries if (e.lower() != value.lower() if ignore_case else e != value)]
    if len(entries) < 2 or len(kept) == len(entries) or not kept:
        return False
    stmt[key] = kept if len(kept) > 1 else kept[0]
    return True


def _exempt(stmt: dict[str, Any], req: Request) -> None:
    """Narrow one blocking Deny so it no longer applies to `req`, loosening as little as possible."""
    principal = req.principal
    if principal is not None and "NotPrincipal" in stmt:
        block = stmt["NotPrincipal"]
        if isinstance(block, Mapping):
            values = _as_list(block.get(principal.kind))
            stmt["NotPrincipal"] = {**block, principal.kind: [*values, principal.id]}
            return
    if principal is not None:
        # An exception for this one principal: the Deny keeps applying to everyone else.
        operator, key = (
            ("ArnNotEquals", "aws:PrincipalArn")
            if principal.kind == "AWS"
            else ("StringNotEquals", "aws:PrincipalServiceName")
        )
        condition = dict(stmt.get("Condition") or {})
        block = dict(condition.get(operator) or {})
        # Several values of a negated operator mean "none of them": appending adds one more exception.
        block[key] = [*_as_list(block.get(key)), principal.id]
        condition[operator] = block
        stmt["Condition"] = condition
        return
    # An identity policy's own Deny: drop just the blocked action, else just the blocked resource.
    if _drop_literal(stmt, "Action", req.action, True) or _drop_literal(
        stmt, "Resource", req.resource, False
    ):
        return
    raise PolicyError(
        f"statement {stmt.get('Sid', '(no Sid)')} denies {req.action} on {req.resource} and cannot be "
        "narrowed without loosening it for other actions or resources"
    )


def _split_off(stmt: dict[str, Any], req: Request, taken: set[str]) -> dict[str, Any] | None:
    """issue 23 (operator-hunt N28): a Deny that lists the blocked action literally beside others is
    split in two, so the principal's exception covers only the blocked action: `stmt` keeps the other
    actions unchanged, and the returned copy (Sid `Remediate<Sid><Action>`) denies the blocked action
    alone. None when the action is not listed literally or another entry (a wildcard) covers it too."""
    if req.principal is None or "NotPrincipal" in stmt:
        return None
    actions = _as_list(stmt.get("Action"))
    listed = [a for a in actions if isinstance(a, str) and a.lower() == req.action.lower()]
    rest = [a for a in actions if a not in listed]
    if not listed or not rest or any(wildcard(a, req.action, ignore_case=True) for a in rest):
        return None
    part = copy.deepcopy(stmt)
    stmt["Action"] = rest if len(rest) > 1 else rest[0]
    part["Action"] = listed[0]
    base = f"Remediate{stmt.get('Sid') or 'Deny'}{req.action.split(':')[-1]}"
    part["Sid"] = _unique_sids("".join(c for c in base if c.isalnum()), 1, taken)[0]
    return part


def narrow(document: Document | None, requests: Sequence[Request]) -> Document | None:
    """A copy of `document` whose explicit Denies no longer block `requests`; other statements untouched
    (a Deny of several actions is split first, so only the blocked action's part is narrowed)."""
    if document is None:
        return None
    doc = copy.deepcopy(document)
    stmts = statements(doc)
    single = isinstance(doc.get("Statement"), dict)
    taken = {str(s["Sid"]) for s in stmts if s.get("Sid")}
    for req in requests:
        for stmt in list(stmts):
            if stmt.get("Effect") == "Deny" and statement_matches(stmt, req) is True:
                part = _split_off(stmt, req, taken)
                if part is not None:  # after the user's statements, which keep their places
                    stmts.append(part)
                    stmt = part
                _exempt(stmt, req)
                if statement_matches(stmt, req) is not False:
                    raise PolicyError(f"could not narrow statement {stmt.get('Sid', '(no Sid)')}")
    if stmts:
        doc["Statement"] = stmts[0] if single and len(stmts) == 1 else stmts
    return doc


def _unique_sids(base: str, count: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    n = 0
    while len(out) < count:
        candidate = base if n == 0 else f"{base}{n + 1}"
        if candidate not in taken:
            out.append(candidate)
            taken.add(candidate)
        n += 1
    return out


def grant_statements(
    requests: Sequence[Request], sid: str, taken: Iterable[str] = (), *, with_resource: bool = True
) -> list[Document]:
    """The fewest Allow statements that grant exactly `requests`: actions sharing resources share one.

    Trust policies may not name a Resource (the role is implied): `with_resource=False` leaves it out.
    """
    if not sid.startswith("Remediate"):
        raise ValueError(f"Sid {sid!r} must begin with 'Remediate'")
    by_action: dict[tuple[str, str, str], set[str]] = {}
    for req in requests:
        principal = json.dumps(req.principal.statement_value()) if req.principal else ""
        condition = json.dumps(req.grant_condition, sort_keys=True) if req.grant_condition else ""
        by_action.setdefault((principal, condition, req.action), set()).add(
            req.resource if with_resource else ""
        )
    groups: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    for (principal, condition, action), targets in by_action.items():
        groups.setdefault((principal, condition, tuple(sorted(targets))), []).append(action)
    out: list[Document] = []
    sids = _unique_sids(sid, len(groups), set(taken))
    for sid_, ((principal, condition, resources), actions) in zip(sids, sorted(groups.items()), strict=True):
        stmt: Document = {"Sid": sid_, "Effect": "Allow"}
        if principal:
            stmt["Principal"] = json.loads(principal)
        acts = sorted(set(actions))
        stmt["Action"] = acts[0] if len(acts) == 1 else acts
        if with_resource:
            stmt["Resource"] = resources[0] if len(resources) == 1 else list(resources)
        if condition:
            stmt["Condition"] = json.loads(condition)
        out.append(stmt)
    return out


def patch(
    document: Document | None,
    requests: Sequence[Request],
    *,
    sid: str,
    limit: int,
    context: Sequence[Document | None] = (),
    with_resource: bool = True,
) -> Document | None:
    """The smallest change to `document` that allows every request; the same document if none is needed.

    `context` are other documents evaluated together with this one (a role's other policies): a
    request they already allow is not granted again, and a Deny in them cannot be fixed here
    (PolicyError). A request whose answer is unknown is left alone. The result must fit `limit`.
    """
    narrowed = narrow(document, requests)
    missing: list[Request] = []
    for req in requests:
        ev = evaluate([narrowed, *context], req)
        if ev.decision == "deny":
            raise PolicyError(f"{req.action} on {req.resource} is denied by another policy")
        if ev.decision == "implicit":
            missing.append(req)
    if not missing:
        result = narrowed
    else:
        base: Document = copy.deepcopy(narrowed) if narrowed is not None else {"Version": "2012-10-17"}
        existing = statements(base)
        taken = {str(s.get("Sid")) for s in existing if s.get("Sid")}
        base["Statement"] = [*existing, *grant_statements(missing, sid, taken, with_resource=with_resource)]
        result = base
    if result != document and size(result) > limit:
        raise PolicyError(f"the patched policy would be {size(result)} characters, over the limit of {limit}")
    return result
