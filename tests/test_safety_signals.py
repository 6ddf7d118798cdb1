"""Interrupts and kills at every mutation, with real CLI processes against the sandbox.

Defect 3 ("Ctrl-C lies"): SIGINT after a change said "nothing was changed" and exited 3; SIGTERM
had no handler. And what must show: SIGKILL, SIGINT and SIGTERM at each mutation of the network
apply, then (a) a plain re-run, (b) `--resume`, (c) resume then rollback: the end state equals an
uninterrupted run's (a, b) or the pre-apply state (c), no orphan carries the run-id tag. SIGKILL with
every way on at every mutation; SIGINT and SIGTERM take turns over the ways on (`signal_cases`).
"""

from __future__ import annotations

import json
import signal
from typing import Any

import pytest

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner, settle, vpc_inventory
from tests.safety import case_id, events, lock_tags, runs, signal_cases, signal_during, tagged

UPDATE = ("lambda", "UpdateEventSourceMapping")
NETWORK_WRITES = (
    ("ec2", "CreateSecurityGroup"),
    ("ec2", "AuthorizeSecurityGroupIngress"),
    ("ec2", "AuthorizeSecurityGroupEgress"),
    ("ec2", "CreateVpcEndpoint"),
    ("lambda", "UpdateEventSourceMapping"),
)
SIGNALS = {signal.SIGINT: 130, signal.SIGTERM: 143}
MUTATIONS = 5  # of the network apply (scram-no-nat): the group, its ingress rule, three endpoints


def same_shape(inventory: dict[str, Any], vpc_id: str) -> str:
    return json.dumps(inventory, sort_keys=True).replace(vpc_id, "VPC")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_defect_3_ctrl_c_after_a_change_says_nothing_was_changed(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str], sig: signal.Signals
) -> None:
    """A signal during the restart (the ESM is Disabling): the restart finishes, the run stops
    before verification, says what it changed and how to go on, releases its lock, exits 130/143."""
    scn = build_scenario(sandbox, "broker-timeout")
    ended = signal_during(
        sandbox, cli_env, ("apply", "--esm", scn.esm_uuid, "--auto-approve"), (UPDATE,), 2, sig
    )
    assert ended.returncode == SIGNALS[sig], ended.stderr
    assert "nothing was changed" not in ended.stderr
    assert f"{sig.name} received: stopped after the AWS call in flight" in ended.stderr
    assert f"Run id: {ended.run_id}" in ended.stderr
    assert f"remediate apply --resume {ended.run_id}" in ended.stderr
    assert f"remediate rollback {ended.run_id}" in ended.stderr
    assert "c1 update_esm" in ended.stderr
    assert "c2 reenable_esm" in ended.stderr
    esm = settle(sandbox, scn.esm_uuid)
    assert (esm["State"], esm["BatchSize"]) == ("Enabled", 1)  # the restart was finished, not abandoned
    assert lock_tags(sandbox, scn.esm_arn) == {}
    finish = events(cli_env, ended.run_id)[-1]
    assert (finish["event"], finish["status"]) == ("finish", "interrupted")
    resumed = cli("apply", "--resume", ended.run_id)
    assert resumed.returncode == 0, resumed.stderr


def test_defect_3_a_signal_before_any_change_exits_3(sandbox: Sandbox, cli_env: dict[str, str]) -> None:
    """Before the apply changes anything, an interrupt aborts at once: exit 3, and that is true."""
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.esm_transition_reads = 10_000  # the run waits for the ESM to settle before its first write
    sandbox.set_esm_status(scn.esm_uuid, state="Updating")
    ended = signal_during(
        sandbox,
        cli_env,
        ("apply", "--esm", scn.esm_uuid, "--auto-approve"),
        (("lambda", "TagResource"),),
        1,
        signal.SIGTERM,
    )
    assert ended.returncode == 3, ended.stderr
    assert "SIGTERM received" in ended.stderr
    assert "nothing was changed" in ended.stderr
    assert "Traceback" not in ended.stderr
    assert lock_tags(sandbox, scn.esm_arn) == {}
    assert sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"] == 500


def test_defect_3_ctrl_c_during_rollback_says_nothing_was_changed(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "scram-no-nat")
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    run_id = runs(cli_env)[-1].stem
    ended = signal_during(
        sandbox,
        cli_env,
        ("rollback", run_id, "--auto-approve"),
        (("ec2", "DeleteVpcEndpoints"),),
        1,
        signal.SIGINT,
    )
    assert ended.returncode == 130, ended.stderr
    assert "nothing was changed" not in ended.stderr
    assert f"remediate apply --resume {ended.run_id}" in ended.stderr
    assert "undo-c4" in ended.stderr
    again = cli("rollback", run_id, "--auto-approve")  # the rest is undone by a second rollback
    assert again.returncode == 0, again.stderr
    assert tagged(sandbox, scn.vpc_id or "", run_id) == []


def test_defect_3_ctrl_c_during_scan_fix_says_nothing_was_changed(
    sandbox: Sandbox, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    ended = signal_during(sandbox, cli_env, ("scan", "--fix", "--auto-approve"), (UPDATE,), 1, signal.SIGINT)
    assert ended.returncode == 130, ended.stderr
    assert "nothing was changed" not in ended.stderr
    assert f"remediate apply --resume {ended.run_id}" in ended.stderr
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 1
    assert lock_tags(sandbox, scn.esm_arn) == {}


_REFERENCE: dict[str, tuple[str, int]] = {}


def reference(sandbox: Sandbox, cli: CliRunner) -> tuple[str, int]:
    """The uninterrupted network apply: its end state (VPC id taken out) and its mutation count."""
    if "scram-no-nat" not in _REFERENCE:
        sandbox.reset()
        scn = build_scenario(sandbox, "scram-no-nat")
        assert scn.vpc_id is not None
        sandbox.clear_calls()
        assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
        count = sum(1 for c in sandbox.calls if c in NETWORK_WRITES)
        _REFERENCE["scram-no-nat"] = (same_shape(vpc_inventory(sandbox, scn.vpc_id), scn.vpc_id), count)
        sandbox.reset()
    return _REFERENCE["scram-no-nat"]


def check_interrupted(ended: Any, sig: signal.Signals) -> None:
    """What the interrupted process said (a killed one says nothing)."""
    if sig == signal.SIGKILL:
        assert ended.returncode == -signal.SIGKILL
        return
    assert ended.returncode == SIGNALS[sig], ended.stderr
    assert f"{sig.name} received" in ended.stderr
    assert f"Run id: {ended.run_id}" in ended.stderr
    assert f"remediate apply --resume {ended.run_id}" in ended.stderr
    assert f"remediate rollback {ended.run_id}" in ended.stderr
    assert "Traceback" not in ended.stderr


@pytest.mark.parametrize("case", signal_cases(range(1, MUTATIONS + 1), ("rerun", "resume")), ids=case_id)
def test_signal_at_every_mutation_of_the_network_apply(
    sandbox: Sandbox,
    cli: CliRunner,
    cli_env: dict[str, str],
    case: tuple[signal.Signals, int, str],
) -> None:
    """At this mutation: interrupt, then (a) a plain re-run, or (b) `--resume` and a roll back."""
    sig, boundary, mode = case
    expected, mutations = reference(sandbox, cli)
    assert mutations == MUTATIONS  # the group, its ingress rule, three endpoints
    where = f"{sig.name} at mutation {boundary}, then {mode}"
    sandbox.reset()
    scn = build_scenario(sandbox, "scram-no-nat")
    assert scn.vpc_id is not None
    before = same_shape(vpc_inventory(sandbox, scn.vpc_id), scn.vpc_id)
    args = ("apply", "--esm", scn.esm_uuid, "--auto-approve")
    ended = signal_during(sandbox, cli_env, args, NETWORK_WRITES, boundary, sig)
    check_interrupted(ended, sig)
    again = cli(*args) if mode == "rerun" else cli("apply", "--resume", ended.run_id)
    assert again.returncode == 0, f"{where}: {again.stderr}"
    assert same_shape(vpc_inventory(sandbox, scn.vpc_id), scn.vpc_id) == expected, where
    assert settle(sandbox, scn.esm_uuid)["State"] == "Enabled", where
    assert lock_tags(sandbox, scn.esm_arn) == {}, where
    replan = cli("plan", "--esm", scn.esm_uuid, "--detailed-exitcode")
    assert replan.returncode == 0, f"{where}: {replan.stdout}"
    if mode == "resume":
        undo = cli("rollback", ended.run_id, "--auto-approve")
        assert undo.returncode == 0, f"{where}, rollback: {undo.stderr}"
        assert same_shape(vpc_inventory(sandbox, scn.vpc_id), scn.vpc_id) == before, where
        assert tagged(sandbox, scn.vpc_id, ended.run_id) == [], f"{where}: an orphan carries the tag"


@pytest.mark.parametrize(("points", "ways"), [(range(1, 6), ("rerun", "resume")), ("ab", ("x", "y", "z"))])
def test_the_graceful_signals_taking_turns_still_run_every_pair(points: Any, ways: tuple[str, ...]) -> None:
    """`signal_cases`: SIGKILL at every point with every way; SIGINT and SIGTERM each at every point
    and with every way, and every point with every way after one of them."""
    cases = signal_cases(list(points), ways)
    kills = {(p, w) for s, p, w in cases if s == signal.SIGKILL}
    graceful = [(s, p, w) for s, p, w in cases if s != signal.SIGKILL]
    assert kills == {(p, w) for p in points for w in ways}
    assert len(graceful) == len(kills)  # one graceful stop per (point, way)
    both = (signal.SIGINT, signal.SIGTERM)
    assert {(s, p) for s, p, _ in graceful} == {(s, p) for s in both for p in points}
    assert {(s, w) for s, _, w in graceful} == {(s, w) for s in both for w in ways}
