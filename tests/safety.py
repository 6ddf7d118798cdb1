"""Helpers of the safety tests: real CLI processes started, interrupted, killed and raced."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from remediate.sandbox import Sandbox
from tests import zygote
from tests.conftest import REMEDIATE
from tests.zygote import ForkedProcess

RUN_TAG = "remediate:run-id"
WRITE_PREFIXES = (
    "Update",
    "Create",
    "Delete",
    "Put",
    "Authorize",
    "Modify",
    "Associate",
    "Revoke",
    "Tag",
    "Untag",
)


T = TypeVar("T")
GRACEFUL = (signal.SIGINT, signal.SIGTERM)


def signal_cases(points: Sequence[T], ways: Sequence[str]) -> list[tuple[signal.Signals, T, str]]:
    """(signal, point, way on) to run: SIGKILL at every point with every way on; SIGINT and SIGTERM at
    every point, taking turns over the ways on.

    SIGINT and SIGTERM reach one handler (remediate/cli/interrupts.py) and leave the same journal,
    differing only in their names and exit codes, so running both with every way on would repeat the
    same path. Taking turns (shifted at each point) still runs every pair: each signal at each point,
    each signal with each way on, and each point with each way on after a graceful stop. A kill leaves
    whatever the instant left, so it gets the whole product."""
    cases = [(signal.SIGKILL, point, way) for point in points for way in ways]
    for i, point in enumerate(points):
        cases += [(GRACEFUL[(i + j) % 2], point, way) for j, way in enumerate(ways)]
    return cases


def case_id(case: tuple[signal.Signals, Any, str]) -> str:
    sig, point, way = case
    return f"{sig.name}-{point}-{way}"


@dataclass
class Ended:
    """A CLI process that ended (by itself, or by a signal)."""

    returncode: int
    stdout: str
    stderr: str
    run_id: str

    def json(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.stdout)
        return doc


def start(env: dict[str, str], *args: str) -> ForkedProcess | subprocess.Popen[str]:
    """`remediate ARGS`, a real process (forked from the worker's zygote: tests/zygote.py)."""
    return zygote.shared().spawn(
        [REMEDIATE, *args], env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def runs(env: dict[str, str]) -> list[Path]:
    folder = Path(env["REMEDIATE_STATE_DIR"]) / "runs"
    return sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime) if folder.exists() else []


def events(env: dict[str, str], run_id: str) -> list[dict[str, Any]]:
    path = Path(env["REMEDIATE_STATE_DIR"]) / "runs" / f"{run_id}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def signal_during(
    sb: Sandbox,
    env: dict[str, str],
    args: tuple[str, ...],
    writes: tuple[tuple[str, str], ...],
    boundary: int,
    sig: signal.Signals,
) -> Ended:
    """Start `remediate ARGS`, send `sig` while the server holds its `boundary`-th call among `writes`
    (the call is in flight: sent, not yet done), then let the server do the call (it takes effect even
    when the client was killed, as on AWS) and return how the process ended."""
    known = {p.stem for p in runs(env)}
    hold = sb.faults.hold(writes, boundary)
    proc = start(env, *args)
    try:
        deadline = time.monotonic() + 120
        while not hold.arrived.wait(0.05):
            assert proc.poll() is None, f"the command ended before mutation {boundary}: {proc.communicate()}"
            assert time.monotonic() < deadline, "the mutation never came"
        proc.send_signal(sig)
        if sig == signal.SIGKILL:
            proc.wait(timeout=60)  # dead while its call is in flight
    finally:
        hold.release()
    out, err = proc.communicate(timeout=180)
    assert hold.handled.wait(60), "the server never finished the held call"
    sb.faults.clear()
    new = [p.stem for p in runs(env) if p.stem not in known]
    return Ended(proc.returncode, out, err, new[-1] if new else "")


def kill_apply(
    sb: Sandbox, env: dict[str, str], esm_uuid: str, writes: tuple[tuple[str, str], ...], boundary: int
) -> Ended:
    """`remediate apply --esm ESM --auto-approve`, SIGKILLed during its `boundary`-th call among `writes`."""
    args = ("apply", "--esm", esm_uuid, "--auto-approve")
    return signal_during(sb, env, args, writes, boundary, signal.SIGKILL)


def tagged(sb: Sandbox, vpc_id: str, run_id: str) -> list[str]:
    """Every live resource in the VPC carrying `remediate:run-id = run_id`: endpoints, groups, rules."""
    ec2 = sb.client("ec2")
    by_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]

    def mine(item: dict[str, Any]) -> bool:
        return any(t["Key"] == RUN_TAG and t["Value"] == run_id for t in item.get("Tags") or [])

    found = [
        e["VpcEndpointId"]
        for e in ec2.describe_vpc_endpoints(Filters=by_vpc)["VpcEndpoints"]
        if e["State"] not in ("deleting", "deleted") and mine(e)
    ]
    groups = ec2.describe_security_groups(Filters=by_vpc)["SecurityGroups"]
    found += [g["GroupId"] for g in groups if mine(g)]
    for group in groups:
        rules = ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [group["GroupId"]]}]
        )
        found += [r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"] if mine(r)]
    return found


def lock_tags(sb: Sandbox, esm_arn: str) -> dict[str, str]:
    tags: dict[str, str] = sb.client("lambda").list_tags(Resource=esm_arn).get("Tags", {})
    return {k: v for k, v in tags.items() if k.startswith("remediate:lock")}


def writes(sb: Sandbox, since: int = 0) -> list[tuple[str, str]]:
    return [c for c in sb.calls[since:] if c[1].startswith(WRITE_PREFIXES)]


def error_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("Error:")]
