"""The probe from the runbook's plan step (issue 27, item 7): `Probe: true` with Mode Diagnose or Plan.

A deployment opts in with the template parameter `AllowProbe` (default false): only then does its role
hold the probe's rights (create, invoke and delete functions named `remediate-probe-*`, delete their log
groups, pass the mapping's execution role to Lambda only, and only a role under FixableRolePath or tagged
FixableRoleTag). The plan step receives the deploy-time `AllowProbe` beside the starter's `Probe` and
refuses `Probe: true` in one line when the deployment did not opt in, so nothing is attempted that the
role could only half do. The opt-in stands for the CLI's question: whoever may start the runbook may run
the probe. The run itself is `probe_session`'s, as `remediate probe`'s: under the mapping's lock, with
its journal (in the deployment's bucket when there is one), and the function and its log group deleted on
every exit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from remediate import probe_session
from remediate.aws import Aws
from remediate.errors import InputError
from remediate.probe_request import NotProbeable
from remediate.run.journal import Journal
from remediate.run.journal_store import S3JournalStore, mirrored
from remediate.run.machine import Run
from remediate.write_scope import WriteScope

NOT_ALLOWED = (
    "Probe true: this deployment did not opt in to the probe (template parameter AllowProbe is false), so "
    "its role may not create the probe function; redeploy with AllowProbe true (docs/ssm.md, 'The probe "
    "from SSM'), or run `remediate probe` with your own credentials"
)


def refuse(allowed: bool, mode: str, esm_id: str) -> None:
    """Before anything is read: the opt-in, a mode that does not apply, one mapping."""
    if not allowed:
        raise InputError(NOT_ALLOWED)
    if mode == "Apply":
        raise InputError("Probe true runs with Mode Diagnose or Plan, not Apply: probe first, then apply")
    if not esm_id.strip():
        raise InputError("Probe true needs an EsmId: the probe measures one mapping")


def run(run_: Run, scope: WriteScope, bucket: str, state_dir: Path) -> str:
    """Probe the observed mapping, diagnose again with what it measured (and plan again in Plan mode);
    returns the one line the step's `Probe` output shows."""
    facts = run_.facts
    assert facts is not None
    why = scope.role_reason(facts)
    if why is not None:
        raise InputError(
            f"cannot probe ESM {facts.esm.uuid} from this runbook: its function runs as the mapping's "
            f"execution role, which this deployment's role passes to Lambda only within its scope: {why}"
        )
    try:
        prepared = probe_session.prepare(facts)
    except NotProbeable as exc:
        raise InputError(f"cannot probe ESM {facts.esm.uuid}: {exc}") from None
    aws: Aws = run_.aws
    swept, result = probe_session.execute(
        aws,
        facts,
        prepared,
        state_dir=state_dir,
        lock_ttl=run_.settings.lock_ttl,
        journal_factory=mirrored(S3JournalStore(aws, bucket)) if bucket else Journal,
        on_swept=lambda names: run_.reporter.progress(
            f"removed probe function(s) a killed run left: {names}"
        ),
    )
    run_.facts, run_.findings = probe_session.measure(facts, run_.playbooks, result, prepared.run_id)
    if run_.plan is not None:
        from remediate.run.engine import build_plan

        run_.plan = build_plan(run_.facts, run_.findings, run_.playbooks, manual_when=scope.manual_reason)
    measured = sum(1 for f in run_.findings if is_measured(f))
    return (
        f"probe run {prepared.run_id}: function {prepared.name} created, invoked and deleted with its log "
        f"group{f' (and {len(swept)} a killed run left)' if swept else ''}; "
        f"{'complete' if result.get('complete') else 'incomplete'}; {measured} measured finding(s)"
    )


def is_measured(finding: Any) -> bool:
    """A finding the probe measured (the "measured" evidence source), not inferred from configuration."""
    return getattr(finding.evidence, "source", "") == "measured"
