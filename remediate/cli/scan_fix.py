"""`scan --fix` in text: the mappings whose plan is manual steps only, listed with their steps.

No run is started for them (there is nothing to apply), and before this they went unmentioned
between the plans shown and the result lines; an operator must see them to act on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from remediate.cli.context import Ctx
    from remediate.run.fleet import Fix, ScanResult


def emit_manual_only(
    ctx: Ctx,
    results: Sequence[ScanResult],
    fixes: Sequence[Fix],
    books: Any,
    *,
    enable_user_disabled: bool,
    fix_with: frozenset[str] = frozenset(),
) -> None:
    from remediate.run.engine import build_plan
    from remediate.run.render import render_plan

    planned = {fx.result.esm_uuid for fx in fixes}
    for r in results:
        if r.facts is None or not r.findings or r.esm_uuid in planned:
            continue
        plan = build_plan(
            r.facts, list(r.findings), books, enable_user_disabled=enable_user_disabled, fix_with=fix_with
        )
        if plan.manual_steps:
            ctx.emit(f"\n# ESM {r.esm_uuid} ({r.function_arn}): manual steps only, nothing to apply\n")
            ctx.emit(render_plan(plan, ctx.color))
