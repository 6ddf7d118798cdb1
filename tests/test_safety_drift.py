"""Issue 23, item 4: drift between approval and write (audit 2026-12-06: operator hunt N4, reliability N4).

A colleague's change made while the approval question waits, or after a run stopped, is never
overwritten: the run re-reads each target before writing, compares with the plan's `before`, and
stops with exit 4, having changed nothing more.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import threading
import time

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import REMEDIATE, CliRunner, settle
from tests.safety import error_lines, signal_during, writes


def test_n4_a_change_made_while_the_question_waits_stops_the_run(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    """`apply` shows BatchSize 500 -> 1; while `Enter a value:` waits a colleague sets 50; `yes`: the
    run stops with exit 4, BatchSize stays 50, and there is nothing for a rollback to 'restore'."""
    scn = build_scenario(sandbox, "broker-timeout")
    master, terminal = pty.openpty()
    proc = subprocess.Popen(
        [REMEDIATE, "apply", "--esm", scn.esm_uuid],
        env=cli_env,
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    err: list[str] = []
    assert proc.stderr is not None
    stream = proc.stderr
    reader = threading.Thread(target=lambda: err.extend(iter(stream.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while not any("Only 'yes' will be accepted" in line for line in err):
            assert proc.poll() is None, "".join(err)
            assert time.monotonic() < deadline, "".join(err)
            time.sleep(0.05)
        sandbox.client("lambda").update_event_source_mapping(UUID=scn.esm_uuid, BatchSize=50)
        settle(sandbox, scn.esm_uuid)
        seen = len(sandbox.calls)
        os.write(master, b"yes\n")
        proc.wait(timeout=120)
        reader.join(timeout=10)
    finally:
        os.close(terminal)
        os.close(master)
    stderr = "".join(err)
    assert proc.returncode == 4, stderr
    assert "Traceback" not in stderr
    (line,) = [x for x in stderr.splitlines() if "Error: " in x]  # the prompt's line ends with the answer
    assert "c1 update_esm" in line
    assert "'BatchSize': 50" in line
    assert [w for w in writes(sandbox, seen) if w[1] not in ("TagResource", "UntagResource")] == []
    esm = settle(sandbox, scn.esm_uuid)
    assert (esm["BatchSize"], esm["State"]) == (50, "Enabled")


def test_n4_resume_after_someone_wrote_the_planned_inline_policy_changes_nothing(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    """Killed after the first endpoint; a colleague writes `remediate-esm-access`; `--resume` stops at
    once with exit 4 (not exit 1 after creating two more endpoints), naming the policy."""
    scn = build_scenario(sandbox, "scram-no-nat", role_grants_secret=False)
    args = ("apply", "--esm", scn.esm_uuid, "--auto-approve")
    ended = signal_during(sandbox, cli_env, args, (("ec2", "CreateVpcEndpoint"),), 1, signal.SIGKILL)
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    document = {"Version": "2012-10-17", "Statement": [statement]}
    sandbox.client("iam").put_role_policy(
        RoleName=scn.role_name, PolicyName="remediate-esm-access", PolicyDocument=json.dumps(document)
    )
    seen = len(sandbox.calls)
    out = cli("apply", "--resume", ended.run_id)
    assert out.returncode == 4, out.stderr
    (line,) = error_lines(out.stderr)
    assert "c5 put_role_policy" in line
    assert "remediate-esm-access" in line
    made = [w for w in writes(sandbox, seen) if w[1] not in ("TagResource", "UntagResource")]
    assert made == []
    assert f"c5 put_role_policy on {scn.role_name}: in flight" not in out.stderr  # never sent
    policy = sandbox.client("iam").get_role_policy(RoleName=scn.role_name, PolicyName="remediate-esm-access")
    assert policy["PolicyDocument"]["Statement"][0]["Action"] == "s3:GetObject"
