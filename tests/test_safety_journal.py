"""Defect 7: the journal. A damaged middle line was skipped silently; a torn last line was not closed
off, so the next record was lost; EFBIG, EROFS and ENOTDIR gave tracebacks; writability was checked
only after the lock and the approval; the directory was not fsynced once the file was created; a run
id like `../../x` read outside `state_dir`; `REMEDIATE_STATE_DIR=` (empty) wrote to `./runs`."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import stat
import subprocess
from pathlib import Path

import pytest

from remediate.run.journal import Journal
from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import REMEDIATE, CliRunner, settle, vpc_inventory
from tests.safety import error_lines, lock_tags, runs, signal_during, writes

NETWORK_WRITES = (("ec2", "CreateSecurityGroup"), ("ec2", "CreateVpcEndpoint"))


def journal_of(env: dict[str, str], run_id: str) -> Path:
    return Path(env["REMEDIATE_STATE_DIR"]) / "runs" / f"{run_id}.jsonl"


def test_defect_7_a_corrupt_middle_line_is_skipped_silently(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "scram-no-nat")
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    run_id = runs(cli_env)[-1].stem
    path = journal_of(cli_env, run_id)
    lines = path.read_text().splitlines(keepends=True)
    damaged = next(i for i, line in enumerate(lines) if '"change_id": "c2"' in line and '"end"' in line)
    lines[damaged] = lines[damaged][:20] + "\x00garbage\n"
    path.write_text("".join(lines))
    sandbox.clear_calls()
    for args in (("rollback", run_id, "--auto-approve"), ("apply", "--resume", run_id)):
        run = cli(*args)
        assert run.returncode == 1, run.stdout
        (line,) = error_lines(run.stderr)
        assert f"line {damaged + 1} is damaged" in line
    assert writes(sandbox) == []
    assert len(vpc_inventory(sandbox, scn.vpc_id or "")["endpoints"]) == 3


def test_defect_7_a_torn_last_line_swallows_the_next_record(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    """A crash mid-write leaves half a line; resuming closes it off before appending, so nothing
    after it is lost, and the run rolls back completely."""
    scn = build_scenario(sandbox, "scram-no-nat")
    assert scn.vpc_id is not None
    before = vpc_inventory(sandbox, scn.vpc_id)
    killed = signal_during(
        sandbox,
        cli_env,
        ("apply", "--esm", scn.esm_uuid, "--auto-approve"),
        NETWORK_WRITES,
        3,
        signal.SIGKILL,
    )
    path = journal_of(cli_env, killed.run_id)
    text = path.read_text()
    last = text.rstrip("\n").rsplit("\n", 1)[-1]
    path.write_text(text[: len(text) - len(last) - 1] + last[: len(last) // 2])  # torn mid-record
    resumed = cli("apply", "--resume", killed.run_id)
    assert resumed.returncode == 0, resumed.stderr
    raw = path.read_text().splitlines()
    damaged = [n for n, line in enumerate(raw, start=1) if not line.startswith("{") or not line.endswith("}")]
    assert len(damaged) == 1  # the torn line, closed off by a newline
    closing = json.loads(raw[damaged[0]])  # the line right after it says so
    assert (closing["event"], closing["line"]) == ("torn", damaged[0])
    parsed = [json.loads(line) for n, line in enumerate(raw, start=1) if n != damaged[0]]
    assert [e["event"] for e in parsed][-1] == "finish"
    assert "resume" in [e["event"] for e in parsed]
    undo = cli("rollback", killed.run_id, "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    assert vpc_inventory(sandbox, scn.vpc_id) == before


def preexec_fsize() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (300, 300))  # Python already ignores SIGXFSZ


def unshare_ro(state: Path) -> list[str]:
    """A command prefix that runs the CLI with `state` a read-only file system (its own mount
    namespace); skips where this machine cannot make one."""
    state.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o ro tmpfs {state}"], capture_output=True, check=False
    )
    if probe.returncode != 0 or not shutil.which("unshare"):
        pytest.skip("cannot make a read-only file system here (needs unshare and mount)")
    return ["unshare", "-m", "sh", "-c", f'mount -t tmpfs -o ro tmpfs {state} && exec "$0" "$@"']


@pytest.mark.parametrize("failure", ["ENOTDIR", "EROFS", "EFBIG", "EACCES"])
def test_defect_7_journal_io_errors_give_tracebacks(
    sandbox: Sandbox, cli_env: dict[str, str], tmp_path: Path, failure: str
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    state = tmp_path / "state"
    prefix: list[str] = []
    preexec = None
    if failure == "ENOTDIR":
        state.write_text("a file where the state directory should be")
    elif failure == "EROFS":
        prefix = unshare_ro(state)
    elif failure == "EFBIG":
        preexec = preexec_fsize
    else:
        state = Path("/sys/kernel/remediate-state")  # sysfs: no one may create files there
    sandbox.clear_calls()
    run = subprocess.run(
        [*prefix, REMEDIATE, "apply", "--esm", scn.esm_uuid, "--auto-approve"],
        env={**cli_env, "REMEDIATE_STATE_DIR": str(state)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=preexec,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    (line,) = error_lines(run.stderr)
    assert str(state) in line
    assert [w for w in writes(sandbox) if w[1] not in ("TagResource", "UntagResource")] == []
    assert lock_tags(sandbox, scn.esm_arn) == {}
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 500


def test_defect_7_writability_is_checked_only_after_the_lock_and_the_approval(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path
) -> None:
    """No terminal and no --auto-approve would refuse (exit 3); an unwritable state directory must be
    found first, before the lock is taken and before anything is asked."""
    scn = build_scenario(sandbox, "broker-timeout")
    state = tmp_path / "state"
    state.write_text("not a directory")
    sandbox.clear_calls()
    run = cli("apply", "--esm", scn.esm_uuid, env={"REMEDIATE_STATE_DIR": str(state)})
    assert run.returncode == 1, run.stderr
    assert "is not writable" in error_lines(run.stderr)[0]
    assert "Do you want to perform these actions" not in run.stderr
    assert writes(sandbox) == []  # not even the lock's tag


def test_defect_7_the_directory_is_not_fsynced_after_the_file_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[bool] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    journal = Journal(tmp_path, "r-20260101T000000Z-abcdef")
    journal.record("run", esm_uuid="x")
    journal.record("begin", change_id="c1")
    journal.close()
    assert synced.count(True) == 1  # the directory, once, when the file was created
    assert synced.count(False) == 2  # the file, after each record


def test_defect_7_a_run_id_reads_outside_state_dir(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    real = runs(cli_env)[-1]
    outside = Path(cli_env["REMEDIATE_STATE_DIR"]).parent / "evil.jsonl"
    shutil.copy(real, outside)  # a journal that is not under state_dir/runs
    sandbox.clear_calls()
    for args in (("rollback", "../../evil", "--auto-approve"), ("apply", "--resume", "../../evil")):
        run = cli(*args)
        assert run.returncode == 1
        (line,) = error_lines(run.stderr)
        assert "'../../evil' is not a run id (like r-20261128T055626Z-52eff9)" in line
    assert sandbox.calls == []
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 1


def test_defect_7_an_empty_state_dir_writes_to_runs(
    sandbox: Sandbox, cli_env: dict[str, str], tmp_path: Path
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.clear_calls()
    run = subprocess.run(
        [REMEDIATE, "apply", "--esm", scn.esm_uuid, "--auto-approve"],
        env={**cli_env, "REMEDIATE_STATE_DIR": ""},
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1
    (line,) = error_lines(run.stderr)
    assert "invalid setting 'state_dir' (environment REMEDIATE_STATE_DIR)" in line
    assert not (tmp_path / "runs").exists()
    assert sandbox.calls == []
