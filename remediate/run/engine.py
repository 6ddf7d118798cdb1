"""The engine: diagnose (checks + playbook rules) and plan (playbook actions -> ordered changes).

Both are pure functions of `Facts` and the playbooks; observation and apply live elsewhere. This is
the one place where findings meet playbooks, so the rules of that meeting are here: a playbook's
`unless` codes suppress its finding, `exclusive` ones apply only when nothing else is wrong, the
ESM's error text orders the findings it hints at first, and a mapping a person disabled is never
enabled unless the operator asks for it (`enable_user_disabled`).
"""

from __future__ import annotations

from collections.abc import Callable

from remediate import actions, checks, kafka
from remediate.actions import Draft
from remediate.error_text import hints_for
from remediate.evidence import MeasuredFailure
from remediate.facts import ESM_DISABLED_STATES, Facts
from remediate.findings import Finding
from remediate.plan import PLAN_SCHEMA, Change, ManualStep, Plan, Target, new_plan_id, rename_refs, utc_now
from remediate.run.playbook import ActionRef, Playbook

INFORMATIONAL = frozenset({"COULD_NOT_CHECK", "MONITORING_MISSING"})  # issue 25: MONITORING_MISSING


def diagnose(facts: Facts, playbooks: list[Playbook]) -> list[Finding]:
    """Run every check the playbooks name; apply their suppression rules; order by the error text."""
    owner = {code: pb for pb in playbooks for code in pb.findings}
    names = list(dict.fromkeys(name for pb in playbooks for name in pb.checks))
    raw = [f for name in names for f in checks.run_check(name, facts)]
    found = {f.code for f in raw}
    kept: list[Finding] = []
    for f in raw:
        pb = owner.get(f.code)
        if pb is None:
            continue
        if set(pb.unless) & found:
            continue
        if pb.exclusive and (found - {f.code} - INFORMATIONAL):
            continue
        kept.append(f.model_copy(update={"playbook": pb.name}))
    hinted = [
        c
        for h in hints_for(facts.esm.last_processing_result, facts.esm.state_transition_reason)
        for c in h.codes
    ]
    rank = {code: i for i, code in enumerate(dict.fromkeys(hinted))}
    return sorted(kept, key=lambda f: (f.code in INFORMATIONAL, rank.get(f.code, len(rank)), f.code))


def target_of(facts: Facts) -> Target:
    return Target(
        esm_uuid=facts.esm.uuid,
        esm_arn=facts.esm.arn,
        function_arn=facts.esm.function_arn,
        source_kind=facts.esm.source_kind,
        cluster_arn=facts.esm.event_source_arn if facts.esm.source_kind == "msk" else None,
        bootstrap_servers=kafka.bootstrap_servers(facts.esm, facts.cluster),
        network=facts.network.placement if facts.network else None,
        region=facts.region,
    )


def build_plan(
    facts: Facts,
    findings: list[Finding],
    playbooks: list[Playbook],
    *,
    enable_user_disabled: bool = False,
    fix_with: frozenset[str] = frozenset(),
    manual_when: Callable[[Facts, Change], str | None] | None = None,
) -> Plan:
    """Ask each finding's playbook actions for drafts; merge duplicates; order and number them.

    A disabled mapping whose StateTransitionReason does not say Lambda disabled it (a person did, or
    nothing says) is not enabled unless `enable_user_disabled`: the plan carries a manual step saying who
    disabled it instead of the enable. A playbook's alternative fix replaces its actions only when named in
    `fix_with` (`--fix-with NAME`); otherwise the plan lists what the alternative would change.
    `manual_when` (issue 27: the runbook's write scope) turns a change the caller may not make into the
    manual step it returns, so the plan never asks approval for a change that would be denied."""
    held = (
        facts.esm.state in ESM_DISABLED_STATES
        and facts.esm.changed_by != "lambda"
        and not enable_user_disabled
    )
    by_name = {pb.name: pb for pb in playbooks}
    registry = actions.registry()
    merged: dict[str, Draft] = {}
    because: dict[str, list[str]] = {}
    manual: dict[str, ManualStep] = {}

    def collect(finding: Finding, ref: ActionRef) -> tuple[bool, bool]:
        """Add the action's drafts and manual steps for `finding`: (drafted a change, planned a step)."""
        action = registry[ref.action]
        drafted = stepped = False
        if isinstance(finding.evidence, MeasuredFailure) and not isinstance(finding.evidence, action.accepts):
            # issue 22: a measurement names what fails, not a setting; only actions that read it plan.
            return drafted, stepped
        for item in action.plan(facts, finding, action.Params.model_validate(ref.params)):
            if held and isinstance(item, Draft) and _enables(item):
                item = _user_disabled_step(facts, finding)
            if manual_when is not None and isinstance(item, Draft):
                reason = manual_when(facts, item.change)
                item = ManualStep(because=(finding.code,), text=reason) if reason else item
            if isinstance(item, ManualStep):
                stepped = True
                prior = manual.get(item.text)
                codes = (*prior.because, finding.code) if prior else (finding.code,)
                manual[item.text] = ManualStep(because=tuple(dict.fromkeys(codes)), text=item.text)
                continue
            drafted = True
            key = item.change.key()
            merged.setdefault(key, item)
            because.setdefault(key, []).append(finding.code)
        return drafted, stepped

    offers: dict[str, ManualStep] = {}
    for finding in findings:
        pb = by_name[finding.playbook]
        chosen = next((refs for name, refs in pb.alternatives.items() if name in fix_with), pb.actions)
        for name, refs in pb.alternatives.items():
            if name not in fix_with:
                offers.update((o.text, o) for o in _offers(facts, finding, name, refs, pb.actions))
        fixes = [ref for ref in chosen if ref.action != "reenable_esm"]
        outcomes = [collect(finding, ref) for ref in fixes]
        drafted = [d for d, _ in outcomes]
        if not any(drafted) and any(s for _, s in outcomes):
            # Only a person can fix it (a permissions boundary, a secret to re-create): restarting the
            # pollers before they do changes nothing, so the restart waits with them.
            continue
        drafted += [collect(finding, ref)[0] for ref in chosen if ref.action == "reenable_esm"]
        if any(drafted) and _enables_after(pb, facts):
            # AWS disables an ESM that keeps failing, and fixing the cause does not enable it again.
            collect(finding, ActionRef(action="reenable_esm"))
    # By action order, then in the order the playbooks proposed them (which is deliberate: e.g.
    # enableDnsSupport before enableDnsHostnames); dicts keep insertion order, sorted() is stable.
    ordered = sorted(merged, key=lambda k: registry[merged[k].change.action].order)
    ids = {k: f"c{i}" for i, k in enumerate(ordered, 1)}
    local = {merged[k].key: ids[k] for k in ordered if merged[k].key}
    changes = []
    for k in ordered:
        change = merged[k].change
        after = rename_refs(change.after, local)
        changes.append(
            change.model_copy(
                update={"id": ids[k], "after": after, "because": tuple(dict.fromkeys(because[k]))}
            )
        )
    return Plan(
        schema=PLAN_SCHEMA,
        plan_id=new_plan_id(),
        created_at=utc_now(),
        target=target_of(facts),
        findings=tuple(findings),
        changes=tuple(changes),
        manual_steps=tuple(manual.values()),
        alternatives=tuple(offers.values()),
        fingerprint=facts.fingerprint(),
    )


def _planned(facts: Facts, finding: Finding, refs: tuple[ActionRef, ...]) -> list[Draft | ManualStep]:
    registry = actions.registry()
    out: list[Draft | ManualStep] = []
    for ref in refs:
        action = registry[ref.action]
        out += action.plan(facts, finding, action.Params.model_validate(ref.params))
    return out


def _offers(
    facts: Facts,
    finding: Finding,
    name: str,
    refs: tuple[ActionRef, ...],
    own: tuple[ActionRef, ...],
) -> list[ManualStep]:
    """What the alternative `name` would change for `finding`, one line per change (nothing is planned);
    what the playbook's own actions plan anyway is no alternative, so it is not offered (issue 25)."""
    anyway = [i.change if isinstance(i, Draft) else i.text for i in _planned(facts, finding, own)]
    out = []
    for ref in refs:
        for item in _planned(facts, finding, (ref,)):
            if (item.change if isinstance(item, Draft) else item.text) in anyway:
                continue
            if isinstance(item, Draft):
                c = item.change
                what = "; ".join(f"{k} = {v}" for k, v in c.after.items())
                text = f"`--fix-with {name}` plans {c.action} on {c.resource} instead: {what}"
            else:
                text = f"`--fix-with {name}` plans this manual step instead: {item.text}"
            out.append(ManualStep(because=(finding.code,), text=text))
    return out


def _enables(draft: Draft) -> bool:
    """Whether a drafted change turns the mapping on (a restart of a disabled one is an enable)."""
    return draft.change.action == "reenable_esm" and draft.change.after.get("State") == "Enabled"


def _user_disabled_step(facts: Facts, finding: Finding) -> ManualStep:
    esm = facts.esm
    who = "a person disabled it" if esm.changed_by == "user" else "nothing says who disabled it"
    return ManualStep(
        because=(finding.code,),
        text=f"ESM {esm.uuid} is {esm.state} and {who} (StateTransitionReason "
        f"{esm.state_transition_reason or 'empty'!r}), so remediate leaves it disabled. Enable it when its "
        f"owner agrees: `aws lambda update-event-source-mapping --uuid {esm.uuid} --enabled` (or "
        "`remediate scan --fix --enable-user-disabled`).",
    )


def _enables_after(pb: Playbook, facts: Facts) -> bool:
    """Whether a disabled ESM must also be enabled once this playbook's changes are made."""
    return (
        pb.enable_disabled_esm
        and facts.esm.state in ESM_DISABLED_STATES
        and all(ref.action != "reenable_esm" for ref in pb.actions)
    )
