"""Fault injection: with ~30% of all calls failing at random, applies still converge."""

from __future__ import annotations

import pytest

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import CliRunner, settle

RUNS = 20


def chaos(sb: Sandbox, seed: int) -> None:
    """Throttling, 503s and connection resets, each on ~10% of every call to every service."""
    for i, kind in enumerate(("throttle", "status", "reset")):
        sb.faults.add(FaultRule(kind=kind, probability=0.1, seed=seed * 10 + i))  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(RUNS))
def test_apply_converges_under_random_faults(sandbox: Sandbox, cli: CliRunner, seed: int) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    chaos(sandbox, seed)
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", env={"REMEDIATE_RETRY_ATTEMPTS": "10"})
    sandbox.faults.clear()
    assert run.returncode == 0, run.stderr
    esm = settle(sandbox, scn.esm_uuid)
    assert (esm["State"], esm["BatchSize"]) == ("Enabled", 1)
    assert cli("plan", "--esm", scn.esm_uuid, "--detailed-exitcode").returncode == 0
