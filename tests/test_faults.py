"""Fault injection: with ~30% of all calls failing at random, applies of the network scenario converge.

SCRAM without NAT (a security group, its rule, three VPC endpoints) is the apply with the most
creates; throttling, 503s and connection resets hit every service's calls, writes included, and a
reset may come after the server acted. Each apply must still end with exactly one endpoint per
service and a plan with nothing left to do.
"""

from __future__ import annotations

import pytest

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import CliRunner, vpc_inventory

RUNS = 20


def chaos(sb: Sandbox, seed: int) -> None:
    """Throttling, 503s and connection resets, each on ~10% of every call to every service, and
    slow responses on another ~20% (50 ms: ten times a sandbox call, enough to reorder the answers
    of concurrent reads)."""
    sb.faults.add(FaultRule(kind="latency", latency=0.05, probability=0.2, seed=seed * 10 + 3))
    sb.faults.add(FaultRule(kind="throttle", probability=0.1, seed=seed * 10))
    sb.faults.add(FaultRule(kind="status", status=503, probability=0.1, seed=seed * 10 + 1))
    sb.faults.add(FaultRule(kind="reset", probability=0.1, seed=seed * 10 + 2))


@pytest.mark.parametrize("seed", range(RUNS))
def test_network_apply_converges_under_random_faults(sandbox: Sandbox, cli: CliRunner, seed: int) -> None:
    scn = build_scenario(sandbox, "scram-no-nat")
    assert scn.vpc_id is not None
    chaos(sandbox, seed)
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", env={"REMEDIATE_RETRY_ATTEMPTS": "10"})
    sandbox.faults.clear()
    assert run.returncode == 0, run.stderr
    inventory = vpc_inventory(sandbox, scn.vpc_id)
    assert inventory["endpoints"] == {"lambda": 1, "sts": 1, "secretsmanager": 1}
    assert sum(1 for name in inventory["groups"] if name.startswith("remediate-")) == 1
    assert cli("plan", "--esm", scn.esm_uuid, "--detailed-exitcode").returncode == 0
