"""One probe run of a mapping, without a terminal: for `remediate probe` and the runbook (issue 27, item 7).

`prepare` works out what the run will create (the function's name and CreateFunction parameters, the
package, the one invocation) so the CLI can show it and ask first; `execute` then, under the mapping's
lock and in a journal, removes what a killed probe left, creates, invokes and deletes the function
(`probe_run`); `measure` turns what it measured into facts and diagnoses again (`checks.measured`).
The CLI adds its plan, approval and signal handling around these; the runbook's plan step calls them as
they are (the deployment's opt-in is its approval).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from remediate import measured, probe_package
from remediate.aws import Aws
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.probe_package import Package
from remediate.probe_request import ProbeRequest, probe_request
from remediate.probe_run import create_spec, function_name, run_probe, sweep
from remediate.run.journal import Journal, new_run_id
from remediate.run.lock import EsmLock


@dataclass(frozen=True)
class Prepared:
    """What one probe run will do, before anything is created."""

    request: ProbeRequest
    package: Package
    run_id: str
    name: str
    spec: dict[str, Any]


def prepare(facts: Facts) -> Prepared:
    """The run for the observed mapping; `probe_request.NotProbeable` when it cannot be probed."""
    request = probe_request(facts)
    package = probe_package.build()
    run_id = new_run_id()
    name = function_name(facts.esm.uuid, run_id)
    return Prepared(
        request, package, run_id, name, create_spec(request, package, name, facts.esm.uuid, run_id)
    )


def execute(
    aws: Aws,
    facts: Facts,
    prepared: Prepared,
    *,
    state_dir: Path,
    lock_ttl: float,
    journal_factory: Callable[[Path, str], Journal] = Journal,
    on_swept: Callable[[list[str]], None] = lambda _names: None,
) -> tuple[list[str], dict[str, Any]]:
    """Lock, journal, sweep, create, invoke, delete; returns (what was swept, the probe's result).

    The function and its log group are deleted and the lock released on every exit (`finally`)."""
    uuid = facts.esm.uuid
    lock = EsmLock(aws, facts.esm.arn, uuid, prepared.run_id, lock_ttl)
    journal = journal_factory(state_dir, prepared.run_id).open()
    lock.acquire()
    lock.start_renewing()
    try:
        journal.record("probe", esm_uuid=uuid, esm_arn=facts.esm.arn, function=prepared.name)
        swept = sweep(aws, uuid)
        if swept:
            journal.record("probe-swept", functions=swept)
            on_swept(swept)
        result = run_probe(
            aws,
            prepared.request,
            prepared.package,
            esm_uuid=uuid,
            run_id=prepared.run_id,
            record=journal.record,
        )
        journal.record("finish", status="done")
    finally:
        journal.close()
        lock.release()
    return swept, result


def measure(facts: Facts, playbooks: Any, result: dict[str, Any], run_id: str) -> tuple[Facts, list[Finding]]:
    """The facts with what the probe measured, and the findings diagnosed with them ("measured")."""
    from remediate.run.engine import diagnose

    with_measured = facts.model_copy(update={"measured": measured.from_result(result, run_id)})
    return with_measured, diagnose(with_measured, playbooks)


def placement(request: ProbeRequest) -> dict[str, Any]:
    """Where the function stood, as the probe's record names it."""
    return {
        "subnet_ids": list(request.subnet_ids),
        "security_group_ids": list(request.security_group_ids),
        "pollers_mode": request.pollers_mode,
        "secrets_read_like_pollers": request.secrets_read_like_pollers,
    }
