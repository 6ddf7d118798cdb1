"""Fleet scan: every Kafka/MSK event source mapping of the account, in one or more regions, diagnosed at once.

Scanning is the single-ESM flow many times over, made cheap by sharing:

- ListEventSourceMappings already returns each mapping's full configuration, so observation is seeded
  with it (`observe(..., raw_esm=...)`) instead of reading every mapping again;
- one `Aws` per region serves the whole scan, so a cluster, its brokers, a VPC's subnets, route tables,
  endpoints and security groups, a function and its role are read once however many mappings share them
  (`Aws.read` caches and coalesces concurrent identical reads);
- mappings are observed by a bounded pool of workers, and `Aws.call` paces each service with a token
  bucket (`api_rates`) while the retry policy absorbs whatever throttling remains.

`--fix` shows the plans of every broken mapping, asks for one approval of all of them, then drives the
ordinary run machine per mapping. Each run re-observes fresh state and re-plans; it is approved only if
it changes nothing beyond what the operator saw (a change another mapping's fix already made is simply
"already in effect").
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from remediate.aws import Aws
from remediate.config import Settings
from remediate.engine import build_plan, diagnose
from remediate.errors import InputError, RemediateError
from remediate.facts import Esm, Facts
from remediate.findings import Finding
from remediate.machine import Run
from remediate.observe import esm_from_api, observe
from remediate.plan import Change, Plan
from remediate.playbook import Playbook
from remediate.render import Style

SCAN_SCHEMA = "remediate/scan@1"


class Progress(Protocol):
    """Where a scan reports how far it has got (a progress bar on a terminal, or nothing)."""

    def start(self, total: int) -> None: ...

    def advance(self) -> None: ...


class _Silent:
    def start(self, total: int) -> None:
        """Nothing to show."""

    def advance(self) -> None:
        """Nothing to show."""


@dataclass(frozen=True)
class ScanResult:
    """One mapping's outcome: its findings, or the error that kept it from being checked."""

    region: str
    esm_uuid: str
    function_arn: str
    source: str
    state: str
    findings: tuple[Finding, ...] = ()
    facts: Facts | None = None
    error: str | None = None

    @property
    def healthy(self) -> bool:
        return self.error is None and not self.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "esm_uuid": self.esm_uuid,
            "region": self.region,
            "function_arn": self.function_arn,
            "source": self.source,
            "state": self.state,
            "findings": [f.to_json() for f in self.findings],
            "error": self.error,
        }


def _source(esm: Esm) -> str:
    """The cluster name (from its ARN, `...:cluster/NAME/UUID`) or the first bootstrap server."""
    if esm.source_kind == "msk" and esm.event_source_arn:
        parts = esm.event_source_arn.split(":", 5)[-1].split("/")
        return f"msk:{parts[1] if len(parts) > 1 else parts[0]}"
    more = f" (+{len(esm.bootstrap_servers) - 1})" if len(esm.bootstrap_servers) > 1 else ""
    return f"kafka:{esm.bootstrap_servers[0] if esm.bootstrap_servers else '?'}{more}"


# The IAM action listing adds to observation's reads (declared for `remediate iam-policy`).
PERMISSIONS = ("lambda:ListEventSourceMappings",)


def kafka_mappings(aws: Aws, function: str | None = None) -> Iterator[dict[str, Any]]:
    """Every Kafka/MSK mapping of the region (or of one function), as listed; other sources are skipped.

    The listing carries each mapping's whole configuration: it seeds observation, so no mapping is read
    twice.
    """
    params = {"FunctionName": function} if function else {}
    for raw in aws.read_pages(
        "lambda", "list_event_source_mappings", "EventSourceMappings", "Marker", "NextMarker", **params
    ):
        try:
            esm_from_api(raw)
        except InputError:
            continue  # SQS, Kinesis, DynamoDB...: not ours to diagnose
        yield raw


def diagnose_one(
    aws: Aws, raw: dict[str, Any], playbooks: list[Playbook], observe_workers: int
) -> ScanResult:
    """Observe and diagnose one listed mapping; an AWS failure becomes the result's error, not the scan's."""
    esm = esm_from_api(raw)
    result = ScanResult(
        region=aws.region,
        esm_uuid=esm.uuid,
        function_arn=esm.function_arn,
        source=_source(esm),
        state=esm.state,
    )
    try:
        facts = observe(aws, esm.uuid, max_workers=observe_workers, raw_esm=raw)
    except RemediateError as exc:
        return dataclasses.replace(result, error=str(exc))
    return dataclasses.replace(result, findings=tuple(diagnose(facts, playbooks)), facts=facts)


def scan(
    sessions: Sequence[Aws],
    playbooks: list[Playbook],
    *,
    function: str | None = None,
    workers: int = 16,
    observe_workers: int = 8,
    progress: Progress | None = None,
) -> list[ScanResult]:
    """Diagnose every Kafka/MSK mapping of every session's region, `workers` mappings at a time."""
    shown = progress or _Silent()
    listed = [(aws, raw) for aws in sessions for raw in kafka_mappings(aws, function)]
    shown.start(len(listed))
    results: list[ScanResult] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan") as pool:
        futures = [pool.submit(diagnose_one, aws, raw, playbooks, observe_workers) for aws, raw in listed]
        for future in as_completed(futures):
            results.append(future.result())
            shown.advance()
    return sorted(results, key=lambda r: (r.region, r.function_arn, r.esm_uuid))


def exit_code(results: Sequence[ScanResult]) -> int:
    """1 if any mapping could not be checked, else 2 if any has a finding, else 0 (CONTRACT.md)."""
    if any(r.error for r in results):
        return 1
    return 2 if any(r.findings for r in results) else 0


def to_json(results: Sequence[ScanResult], fixes: Sequence[FixOutcome] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema": SCAN_SCHEMA, "mappings": [r.to_json() for r in results]}
    if fixes is not None:
        doc["fixes"] = [f.to_json() for f in fixes]
    return doc


def render_table(results: Sequence[ScanResult], color: bool = False) -> str:
    """One row per mapping (ESM, function, source, state, findings) and a one-line summary."""
    s = Style(color)
    regions = len({r.region for r in results}) > 1
    header = ("REGION",) * regions + ("ESM", "FUNCTION", "SOURCE", "STATE", "FINDINGS")
    rows = [
        (
            (r.region,) * regions
            + (
                r.esm_uuid,
                r.function_arn.rsplit(":", 1)[-1],
                r.source,
                r.state,
                f"error: {r.error}" if r.error else ", ".join(f.code for f in r.findings) or "-",
            )
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]

    def line(row: tuple[str, ...], paint: tuple[str, ...] = ()) -> str:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        return "  ".join([*cells, s(row[-1], *paint)]).rstrip()

    out = [s(line(header), "bold")]
    for result, row in zip(results, rows, strict=True):
        out.append(line(row, () if result.healthy else ("red" if result.error else "yellow",)))
    broken = sum(1 for r in results if r.findings and not r.error)
    errors = sum(1 for r in results if r.error)
    out.append("")
    out.append(
        f"{len(results)} mapping(s) scanned: {len(results) - broken - errors} healthy, "
        f"{broken} with findings, {errors} could not be checked."
    )
    return "\n".join(out) + "\n"


# --- --fix ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fix:
    """A broken mapping and the plan shown to the operator for it."""

    result: ScanResult
    plan: Plan


@dataclass(frozen=True)
class FixOutcome:
    esm_uuid: str
    run_id: str
    state: str
    applied: tuple[str, ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "esm_uuid": self.esm_uuid,
            "run_id": self.run_id,
            "state": self.state,
            "applied": list(self.applied),
            "error": self.error,
        }


def fixes_for(results: Sequence[ScanResult], playbooks: list[Playbook]) -> list[Fix]:
    """The plan of every mapping with findings that a playbook can change (pure: from the scan's facts)."""
    fixes = []
    for r in results:
        if r.facts is None or not r.findings:
            continue
        plan = build_plan(r.facts, list(r.findings), playbooks)
        if plan.changes:
            fixes.append(Fix(result=r, plan=plan))
    return fixes


def change_key(change: Change) -> str:
    """What a change does, independent of plan and run ids: the unit the operator approves."""
    return json.dumps([change.action, change.resource, change.after], sort_keys=True, default=str)


class ApprovedOnce:
    """The reporter of each `--fix` run: the operator approved the combined plan once, before any run.

    A run re-observes and re-plans; its plan is approved only if every change in it was among those
    shown. Anything new (the mapping changed since the scan) is refused, and nothing of that run applies.
    """

    def __init__(self, approved: frozenset[str], progress: Callable[[str], None]) -> None:
        self._approved = approved
        self._progress = progress

    def progress(self, message: str) -> None:
        self._progress(message)

    def approve(self, plan: Plan) -> bool:
        return all(change_key(c) in self._approved for c in plan.changes)


def apply_fixes(
    fixes: Sequence[Fix],
    sessions: Mapping[str, Aws],
    settings: Settings,
    playbooks: list[Playbook],
    progress: Callable[[str], None],
) -> list[FixOutcome]:
    """Run plan+apply+verify per mapping, one after another (they may share what they change)."""
    reporter = ApprovedOnce(frozenset(change_key(c) for fx in fixes for c in fx.plan.changes), progress)
    outcomes = []
    for fx in fixes:
        progress(f"fixing {fx.result.esm_uuid}")
        run = Run(
            esm_id=fx.result.esm_uuid,
            mode="apply",
            settings=settings,
            aws=sessions[fx.result.region].fresh(),  # same clients and pacing, fresh reads
            playbooks=playbooks,
            reporter=reporter,
        )
        try:
            run.execute()
        except RemediateError as exc:
            error: str | None = str(exc)
        else:
            error = None
        outcomes.append(
            FixOutcome(
                esm_uuid=fx.result.esm_uuid,
                run_id=run.run_id,
                state=run.state,
                applied=tuple(run.applied_ids),
                error=error,
            )
        )
    return outcomes


def exit_code_after_fix(
    results: Sequence[ScanResult], fixes: Sequence[Fix], outcomes: Sequence[FixOutcome]
) -> int:
    """1 if a mapping could not be checked or fixed; 2 if findings remain that no change answered; else 0."""
    if any(r.error for r in results) or any(o.error for o in outcomes):
        return 1
    fixed = {fx.result.esm_uuid for fx in fixes if not fx.plan.manual_steps}
    return 2 if any(r.findings and r.esm_uuid not in fixed for r in results) else 0


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress]:
    """A rich progress bar on standard error when it is a terminal; rich is imported only then."""
    if not enabled:
        yield _Silent()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )

    class _Bar:
        task = bar.add_task("scan", total=None)

        def start(self, total: int) -> None:
            bar.update(self.task, total=total)

        def advance(self) -> None:
            bar.advance(self.task)

    with bar:
        yield _Bar()
