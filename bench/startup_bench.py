"""Start-up of the command line: `remediate --help`, and `remediate diagnose` split into the time its AWS
requests were on the wire and everything else (interpreter, imports, settings, clients, the diagnosis).

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
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from remediate.sandbox import Sandbox, build_scenario

ROOT = Path(__file__).resolve().parent.parent

# Runs the CLI in this process after hooking every botocore client it makes, then writes how long at least
# one AWS request was waiting for its answer.
_DIAGNOSE = """
import json, sys
import botocore.session
from bench.trips import CallClock

clock = CallClock()
make = botocore.session.Session.create_client

def create_client(self, *args, **kwargs):
    client = make(self, *args, **kwargs)
    clock.attach(client.meta.events)
    return client

botocore.session.Session.create_client = create_client
result, sys.argv = sys.argv[1], ["remediate", *sys.argv[2:]]
from remediate.cli import main
try:
    main()
except SystemExit:
    pass
with open(result, "w") as out:
    json.dump({"wire": clock.on_the_wire(), "calls": len(clock.intervals)}, out)
"""


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
    rows: dict[Path, list[tuple[float, float, float, int]]] = {c: [] for c in checkouts}
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
                with tempfile.NamedTemporaryFile("r") as result:
                    command = [python, "-c", _DIAGNOSE, result.name, "diagnose", "--esm", esm]
                    total, cpu = timed(command, env, src)
                    wire = json.load(result)
                if run:
                    helps[src].append(wall)
                    rows[src].append((total, cpu, wire["wire"], wire["calls"]))
    median = statistics.median
    for src in checkouts:
        got = rows[src]
        print(f"checkout: {src}")
        print(f"  remediate --help: {median(helps[src]) * 1000:.0f} ms wall")
        print(
            f"  remediate diagnose: {median(r[0] for r in got) * 1000:.0f} ms wall, "
            f"{median(r[1] for r in got) * 1000:.0f} ms CPU (least {min(r[1] for r in got) * 1000:.0f}), "
            f"{got[0][3]} AWS calls on the wire for {median(r[2] for r in got) * 1000:.0f} ms; "
            f"everything but the wire: {median(r[0] - r[2] for r in got) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
