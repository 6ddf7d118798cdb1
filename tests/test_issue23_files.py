"""issue 23 item 7: `plan --out` writes only a regular file (operator hunt N1)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner
from tests.safety import error_lines


def test_n1_plan_out_never_replaces_a_symbolic_link(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    real = tmp_path / "real.json"
    real.write_text("mine\n")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    run = cli("plan", "--esm", scn.esm_uuid, "--out", str(link))
    assert run.returncode == 1
    (line,) = error_lines(run.stderr)
    assert f"--out {link} is a symbolic link" in line
    assert link.is_symlink()
    assert real.read_text() == "mine\n"


def test_n1_plan_out_never_replaces_a_device_or_fifo(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path
) -> None:
    """A FIFO stands for /dev/null here: any node that is not a regular file is refused, not replaced."""
    scn = build_scenario(sandbox, "broker-timeout")
    node = tmp_path / "node"
    os.mkfifo(node)
    run = cli("plan", "--esm", scn.esm_uuid, "--out", str(node))
    assert run.returncode == 1
    (line,) = error_lines(run.stderr)
    assert "not a regular file" in line
    assert stat.S_ISFIFO(os.lstat(node).st_mode)


def test_n1_plan_out_leaves_a_tmp_file_it_does_not_own(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    out = tmp_path / "p.json"
    theirs = tmp_path / "p.json.tmp"
    theirs.write_text("someone else's\n")
    run = cli("plan", "--esm", scn.esm_uuid, "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert theirs.read_text() == "someone else's\n"
    assert json.loads(out.read_text())["schema"] == "remediate/plan@1"
    assert stat.S_ISREG(os.lstat(out).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json", "p.json.tmp"]  # no temp file left
