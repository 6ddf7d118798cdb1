"""Fleet scan: every Kafka/MSK event source mapping of the account, in one or more regions, diagnosed at once.

Scanning is the single-ESM flow many times over, made cheap by sharing:

- ListEventSourceMappings already returns each mapping's full configuration, so observation is seeded
  with it (`observe(..., raw_esm=...)`) instead of reading every mapping again;
- one `Aws` per region serves the whole scan, so a cluster, its brokers, a VPC's subnets, route tables,
  endpoints and security groups, a function and its role are read once however many mappings share them
  (`Aws.read` caches and coalesces concurrent identical reads, failures included), and built once: the
  mappings share the immutable models (one `Network` per VPC placement), so memory grows with the
  account's distinct resources, not with mappings x resources;
- mappings are observed by a bounded pool of workers, and `Aws.call` paces each service with a token
  bucket (`api_rates`) while the retry policy absorbs whatever throttling remains.

`--fix` shows the plans of every broken mapping, asks for one approval of all of them, then drives the
ordinary run machine per mapping. A mapping a person disabled is never enabled unless the operator asks
(`--enable-user-disabled`); its plan says who disabled it instead. Each run re-observes fresh state and
re-plans; it is approved only if
it changes nothing beyond what the operator saw (a change another mapping's fix already made is simply
"already in effect").
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from concurrent.futures import TimeoutError as FuturesTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from remediate.aws import Aws
from remediate.config import Settings
from remediate.errors import RemediateError
from remediate.facts import Esm, Facts
from remediate.findings import Finding
from remediate.observe import denials
from remediate.observe.builders import esm_from_api
from remediate.observe.listing import kafka_mappings
from remediate.observe.reads import observe, prefetch_functions, prefetch_metrics, seed_listing
from remediate.plan import Plan
from remediate.run.duplicates import duplicates, stream_of
from remediate.run.engine import build_plan, diagnose
from remediate.run.machine import Run, Stop
from remediate.run.playbook import Playbook

SCAN_SCHEMA = "remediate/scan@1"


class ScanProgress(Protocol):
    """Where a scan reports how far it has got (a progress bar on a terminal, or nothing)."""

    def start(self, total: int) -> None: ...

    def advance(self) -> None: ...


class _Silent:
    def start(self, total: int) -> None:
        """Nothing to show."""

    def advance(self) -> None:
        """Nothing to show."""


SILENT: ScanProgress = _Silent()
"""A scan's progress when nobody watches it."""


@dataclass(frozen=True)
class ScanResult:
    """One mapping's outcome: its findings, or the error that kept it from being checked.

    It keeps what it reports: `facts` only for a mapping with findings (what `--fix` plans from), so
    a scan of thousands of healthy mappings holds no per-mapping snapshot.
    """

    region: str
    esm_uuid: str
    function_arn: str
    source: str
    state: str
    findings: tuple[Finding, ...] = ()
    facts: Facts | None = None
    error: str | None = None
    stream: tuple[str, str, str] | None = None  # issue 25: (function, source, topic), for duplicates

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


def _unchecked(aws: Aws, raw: dict[str, Any], error: str | None = None) -> ScanResult:
    esm = esm_from_api(raw)
    return ScanResult(
        region=aws.region,
        esm_uuid=esm.uuid,
        function_arn=esm.function_arn,
        source=_source(esm),
        state=esm.state,
        stream=stream_of(esm),
        error=error,
    )


NOT_CHECKED = "not checked: the scan's time budget ran out before this mapping's turn"


def diagnose_one(
    aws: Aws,
    raw: dict[str, Any],
    playbooks: list[Playbook],
    observe_workers: int,
    metrics_minutes: int = 0,
    stray_disabled_days: int = 0,
    monitoring_asked: bool = False,
) -> ScanResult:
    """Observe and diagnose one listed mapping; an AWS failure becomes the result's error, not the scan's."""
    esm = esm_from_api(raw)
    result = _unchecked(aws, raw)
    try:
        facts = observe(
            aws,
            esm.uuid,
            max_workers=observe_workers,
            raw_esm=raw,
            metrics_minutes=metrics_minutes,
            stray_disabled_days=stray_disabled_days,
            monitoring_asked=monitoring_asked,
        )
    except RemediateError as exc:
        return dataclasses.replace(result, error=str(exc))
    findings = tuple(diagnose(facts, playbooks))
    return dataclasses.replace(result, findings=findings, facts=facts if findings else None)


@contextmanager
def _cancelled_at_end(pool: ThreadPoolExecutor) -> Iterator[ThreadPoolExecutor]:
    """`pool`, whose queued work is dropped when the block ends: the scan's function reads run ahead of
    its mappings on a pool of their own (so they never queue behind the metric reads), and a scan cut
    short (`stop_after`, an error) does not wait for, or make, the function reads still queued."""
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def scan(
    sessions: Sequence[Aws],
    playbooks: list[Playbook],
    *,
    function: str | None = None,
    workers: int = 16,
    observe_workers: int = 8,
    progress: ScanProgress | None = None,
    metrics_minutes: int = 0,
    stop_after: float | None = None,
    stray_disabled_days: int = 0,
    monitoring_asked: bool = False,
) -> list[ScanResult]:
    """Diagnose every Kafka/MSK mapping of every session's region, `workers` mappings at a time.

    `stop_after` (issue 27, D17: an SSM step runs at most 600 s): no mapping starts after that many
    seconds; the ones running finish, the rest are results with the error NOT_CHECKED, so a report of
    what was done is always written."""
    shown = progress or SILENT
    listed = [(aws, raw) for aws in sessions for raw in kafka_mappings(aws, function)]
    if function is None:
        # The whole region's listing: every mapping's peers in its consumer group are found in it.
        for aws in sessions:
            seed_listing(aws, [raw for owner, raw in listed if owner is aws])
    shown.start(len(listed))
    results: list[ScanResult] = []
    with (
        denials.collected(),  # each denied read logged once, with the mappings it affects
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan") as pool,
        ThreadPoolExecutor(max_workers=observe_workers, thread_name_prefix="metrics") as reads,
        _cancelled_at_end(ThreadPoolExecutor(observe_workers, thread_name_prefix="functions")) as functions,
    ):
        for aws in sessions:  # issue 26: the metrics of all the region's functions and clusters, batched
            mine = [raw for owner, raw in listed if owner is aws]
            prefetch_functions(aws, functions, mine)
            prefetch_metrics(aws, reads, mine, metrics_minutes)
        futures = {
            pool.submit(
                diagnose_one,
                aws,
                raw,
                playbooks,
                observe_workers,
                metrics_minutes,
                stray_disabled_days,
                monitoring_asked,
            ): (aws, raw)
            for aws, raw in listed
        }
        deadline = None if stop_after is None else time.monotonic() + stop_after
        try:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            for future in as_completed(futures, timeout=left):
                results.append(future.result())
                shown.advance()
        except FuturesTimeout:
            for future in futures:
                future.cancel()  # not started yet: never will; running ones finish
            done = {id(r) for r in results}
            for future, (aws, raw) in futures.items():
                result = _unchecked(aws, raw, NOT_CHECKED) if future.cancelled() else future.result()
                if id(result) not in done:
                    results.append(result)
                    shown.advance()
    return sorted(results, key=lambda r: (r.region, r.function_arn, r.esm_uuid))


def exit_code(results: Sequence[ScanResult]) -> int:
    """1 if any mapping could not be checked, else 2 if any has a finding, else 0 (docs/contract.md)."""
    if any(r.error for r in results):
        return 1
    return 2 if any(r.findings for r in results) else 0


def to_json(results: Sequence[ScanResult], fixes: Sequence[FixOutcome] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema": SCAN_SCHEMA, "mappings": [r.to_json() for r in results]}
    doc["duplicates"] = [d.to_json() for d in duplicates(results)]  # issue 25
    if fixes is not None:
        doc["fixes"] = [f.to_json() for f in fixes]
    return doc


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


def fixes_for(
    results: Sequence[ScanResult],
    playbooks: list[Playbook],
    *,
    enable_user_disabled: bool = False,
    fix_with: frozenset[str] = frozenset(),
) -> list[Fix]:
    """The plan of every mapping with findings that a playbook can change (pure: from the scan's facts)."""
    fixes = []
    for r in results:
        if r.facts is None or not r.findings:
            continue
        plan = build_plan(
            r.facts, list(r.findings), playbooks, enable_user_disabled=enable_user_disabled, fix_with=fix_with
        )
        if plan.changes:
            fixes.append(Fix(result=r, plan=plan))
    return fixes


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
        return all(c.key() in self._approved for c in plan.changes)


def apply_fixes(
    fixes: Sequence[Fix],
    sessions: Mapping[str, Aws],
    settings: Settings,
    playbooks: list[Playbook],
    progress: Callable[[str], None],
    stop: Stop | None = None,
    *,
    enable_user_disabled: bool = False,
    fix_with: frozenset[str] = frozenset(),
) -> list[FixOutcome]:
    """Run plan+apply+verify per mapping, one after another (they may share what they change).

    `stop` (set on SIGINT/SIGTERM by the CLI) is shared by the runs: the run in flight stops at its
    next safe point and no further mapping is started."""
    reporter = ApprovedOnce(frozenset(c.key() for fx in fixes for c in fx.plan.changes), progress)
    outcomes = []
    for fx in fixes:
        if stop is not None and stop.requested:
            break
        progress(f"fixing {fx.result.esm_uuid}")
        run = Run(
            esm_id=fx.result.esm_uuid,
            mode="apply",
            settings=settings,
            aws=sessions[fx.result.region].fresh(),  # same clients and pacing, fresh reads
            playbooks=playbooks,
            reporter=reporter,
            stop=stop or Stop(),
            enable_user_disabled=enable_user_disabled,
            fix_with=fix_with,
        )
        try:
            run.execute()
        except (RemediateError, KeyboardInterrupt) as exc:  # KeyboardInterrupt: stopped at once
            error: str | None = str(exc) or "interrupted"
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
