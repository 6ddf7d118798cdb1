"""Run a command and write its wall time, CPU time and peak memory as JSON to a file.

    python -m bench.measure RESULT.json COMMAND [ARG...]

A process's peak resident set (`ru_maxrss`) counts the memory it had between fork and exec, which is its
parent's: measured from the benchmark, which holds the sandbox, every child would seem as big as the
sandbox. This small launcher forks the command from itself instead, so the figure is the command's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> None:
    result, command = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    proc = subprocess.Popen(command)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    with open(result, "w") as out:
        json.dump(
            {
                "wall": wall,
                "cpu": usage.ru_utime + usage.ru_stime,
                "peak_mib": usage.ru_maxrss / 1024,
                "status": os.waitstatus_to_exitcode(status),
            },
            out,
        )


if __name__ == "__main__":
    main()
