"""The harness's forked processes (tests/zygote.py) behave as `remediate` started from scratch: same
output and exit code for the same command, environment and input; their own pid; signals reach them."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import REMEDIATE
from tests.zygote import ForkedProcess, Zygote, shared


@pytest.fixture
def forking() -> None:
    if not shared().usable():
        pytest.skip("no zygote here (pidfds need Linux 5.3): cli_process starts processes as they are")


def _both(args: list[str], env: dict[str, str], input: str = "") -> tuple[tuple[int, str, str], ...]:
    fresh = subprocess.run(
        [REMEDIATE, *args], env=env, input=input, capture_output=True, text=True, timeout=120
    )
    proc = shared().spawn(
        [REMEDIATE, *args], env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert isinstance(proc, ForkedProcess)
    assert proc.pid not in (os.getpid(), os.getppid())
    out, err = proc.communicate(input, timeout=120)
    assert proc.returncode is not None
    return (fresh.returncode, fresh.stdout, fresh.stderr), (proc.returncode, out, err)


@pytest.mark.parametrize(
    ("args", "input"),
    [
        (["--version"], ""),
        (["runs"], ""),  # reads REMEDIATE_STATE_DIR from the child's own environment
        (["diagnose", "--esm", "no-such-uuid"], ""),  # one error line, its exit code
        (["apply", "--esm", "ESM"], "yes\n"),  # the plan, then no terminal to ask: refused
    ],
)
def test_a_forked_run_is_a_fresh_run(
    forking: None, sandbox: Sandbox, cli_env: dict[str, str], args: list[str], input: str
) -> None:
    if "ESM" in args:
        uuid = build_scenario(sandbox, "broker-timeout").esm_uuid
        args = [uuid if a == "ESM" else a for a in args]
    fresh, forked = _both(args, cli_env, input)
    assert forked == fresh


def test_each_child_has_its_own_environment(
    forking: None, cli_env: dict[str, str], tmp_path: os.PathLike[str]
) -> None:
    """A variable set for one child is not seen by the next (the zygote's own environment is untouched)."""
    first = {**cli_env, "REMEDIATE_STATE_DIR": str(tmp_path), "REMEDIATE_METRICS_WINDOW": "not-a-number"}
    fresh, forked = _both(["runs"], first)
    assert forked == fresh
    assert forked[0] != 0  # the bad setting is refused
    assert _both(["runs"], cli_env)[1][0] == 0  # and gone for the next child


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGTERM, 143)])
def test_signals_reach_the_child(
    forking: None, sandbox: Sandbox, cli_env: dict[str, str], sig: signal.Signals, code: int
) -> None:
    """Signalled while its first write is in flight, the child ends as a fresh process does."""
    scn = build_scenario(sandbox, "broker-timeout")
    hold = sandbox.faults.hold([("lambda", "UpdateEventSourceMapping")])
    proc = shared().spawn(
        [REMEDIATE, "apply", "--esm", scn.esm_uuid, "--auto-approve"],
        cli_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert hold.arrived.wait(60), proc.communicate()
        proc.send_signal(sig)
        if sig == signal.SIGKILL:
            proc.wait(60)
    finally:
        hold.release()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    if sig == signal.SIGTERM:
        assert "SIGTERM received: stopped after the AWS call in flight" in err


def test_where_no_zygote_can_run_processes_start_as_they_are(cli_env: dict[str, str]) -> None:
    zygote = Zygote(python="/bin/false")  # a server that cannot start
    try:
        assert not zygote.usable()
        proc = zygote.spawn([REMEDIATE, "--version"], cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert isinstance(proc, subprocess.Popen)
        out, _ = proc.communicate(timeout=60)
        assert (proc.returncode, out.split(",")[0]) == (0, "remediate")
    finally:
        zygote.close()
