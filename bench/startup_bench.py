"""Start-up of the command line: `remediate --help`, and `remediate diagnose` split into the time its AWS
requests were on the wire and everything else (interpreter, imports, settings, clients, the diagnosis), and
its start-up: from starting the process to its first AWS request. `python -c pass` and `aws --version` (if
the AWS CLI is installed) run in the same turns, as yardsticks under the same load.

    .venv/bin/python -m bench.startup_bench                          # this checkout
    .venv/bin/python -m bench.startup_bench /tmp/base /work/tree      # two checkouts, in turns

Each command runs `--runs` times in a fresh process against a sandbox holding one healthy MSK mapping (no
injected latency), after one round that is not counted; the figures are medians. Several checkouts are
measured in turns, so they see the same load, with the same interpreter and dependencies (each put first on
the path). Bytecode is cached (in a temporary `PYTHONPYCACHEPREFIX`, even where PYTHONDONTWRITEBYTECODE is
set), as it is for an installed package: otherwise every run would also compile the sources.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.trips import cli_intervals
from remediate.sandbox import Sandbox, build_scenario

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one run, in `cwd` (the checkout: `python -c` puts the working directory first)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, _status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "checkouts",
        nargs="*",
        type=Path,
        help="checkouts of remediate to measure, in turns (default: this one)",
    )
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    checkouts = [p.resolve() for p in args.checkouts] or [ROOT]
    helps: dict[Path, list[float]] = {c: [] for c in checkouts}
    rows: dict[Path, list[tuple[float, float, int, float]]] = {c: [] for c in checkouts}
    yardsticks: dict[str, list[float]] = {"python -c pass": [], "aws --version": []}
    aws_cli = shutil.which("aws")
    with (
        Sandbox(region="us-east-1") as sb,
        tempfile.TemporaryDirectory() as state,
        tempfile.TemporaryDirectory() as pycache,
    ):
        esm = build_scenario(sb, "healthy-msk").esm_uuid
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "REMEDIATE_")) and k != "PYTHONDONTWRITEBYTECODE"
        }
        base.update(sb.env(), REMEDIATE_STATE_DIR=state, PYTHONPYCACHEPREFIX=pycache)
        python = sys.executable
        remediate = str(Path(python).with_name("remediate"))
        # In turns, so that both versions see the same load; the first round (which compiles) is not counted.
        for run in range(args.runs + 1):
            for src in checkouts:
                env = {**base, "PYTHONPATH": os.pathsep.join([str(src), str(ROOT)])}
                wall, _cpu = timed([remediate, "--help"], env, src)
                started, intervals, wire = cli_intervals(["diagnose", "--esm", esm], env, src)
                total = time.perf_counter() - started
                first = min(a for a, _ in intervals) - started if intervals else float("nan")
                if run:
                    helps[src].append(wall)
                    rows[src].append((total, wire, len(intervals), first))
            if run:
                yardsticks["python -c pass"].append(timed([python, "-c", "pass"], base, ROOT)[0])
                if aws_cli:
                    yardsticks["aws --version"].append(timed([aws_cli, "--version"], base, ROOT)[0])
    median = statistics.median
    for src in checkouts:
        got = rows[src]
        print(f"checkout: {src}")
        print(f"  remediate --help: {median(helps[src]) * 1000:.0f} ms wall")
        print(
            f"  remediate diagnose: {median(r[0] for r in got) * 1000:.0f} ms wall, "
            f"{got[0][2]} AWS calls on the wire for {median(r[1] for r in got) * 1000:.0f} ms; "
            f"everything but the wire: {median(r[0] - r[1] for r in got) * 1000:.0f} ms"
        )
        print(f"  start-up (process start to first AWS request): {median(r[3] for r in got) * 1000:.0f} ms")
    for name, walls in yardsticks.items():
        print(f"{name}: {median(walls) * 1000:.0f} ms wall" if walls else f"{name}: not installed")


if __name__ == "__main__":
    main()
