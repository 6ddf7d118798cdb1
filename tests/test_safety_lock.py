"""The ESM lock, raced and crashed by real CLI processes.

Defect 1: two applies on one ESM both mutated (a late tag read, a late tag write), two resumes of one
run both proceeded, nothing renewed a lock a long run outlived, and expiry was judged on another
host's clock. Defect 4: no way out of a stale lock but the AWS CLI, and no message naming one.
"""

from __future__ import annotations

import json
import re
import time
from email.utils import parsedate_to_datetime

import pytest

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import CliRunner, settle, vpc_inventory
from tests.safety import error_lines, events, kill_apply, lock_tags, start, tagged

HOLDER = re.compile(r"locked by run (r-[0-9A-Za-z-]+)")
NETWORK_WRITES = (
    ("ec2", "CreateSecurityGroup"),
    ("ec2", "AuthorizeSecurityGroupIngress"),
    ("ec2", "CreateVpcEndpoint"),
)


def aws_now(sb: Sandbox) -> float:
    headers = sb.client("lambda").list_functions()["ResponseMetadata"]["HTTPHeaders"]
    return parsedate_to_datetime(headers["date"]).timestamp()


def foreign_lock(
    sb: Sandbox, esm_arn: str, expires: float, run_id: str = "r-20260101T000000Z-abcdef"
) -> None:
    """A lock held by a run on another machine (its process cannot be checked from here)."""
    value = f"held/{run_id}/other-host/4242/{int(expires) - 3600}/{int(expires)}"
    sb.client("lambda").tag_resource(Resource=esm_arn, Tags={"remediate:lock:0123456789ab": value})


@pytest.mark.parametrize("round_", range(5))
def test_defect_1_two_applies_on_one_esm_both_mutate(
    sandbox: Sandbox, cli_env: dict[str, str], round_: int
) -> None:
    """Two applies at once, one's tag write slowed and the other's tag read answered late (each round
    its own pair of delays, so the five rounds cover five interleavings of the write and the read): never
    more than one endpoint per service, only one run changes anything, no traceback, and a run
    refused the lock names the run holding it (a run that got the lock after the winner finished
    observes the fixed mapping and has nothing to do)."""
    scn = build_scenario(sandbox, "scram-no-nat")
    assert scn.vpc_id is not None
    sandbox.endpoint_pending_reads = 40  # the winner holds the lock for a while (verification waits)
    write_delay = 0.1 + 0.1 * (round_ % 5)  # A's tag write lands late...
    read_delay = 1.0 + 0.25 * (round_ % 5)  # ...and B's tag read, made early, is answered later still
    sandbox.faults.add(
        FaultRule(
            service="lambda", operation="TagResource", kind="latency", latency=write_delay, caller="RACERA"
        )
    )
    sandbox.faults.add(
        FaultRule(
            service="lambda",
            operation="ListTags",
            kind="latency",
            latency=read_delay,
            phase="response",
            caller="RACERB",
        )
    )
    procs = [
        start(
            {**cli_env, "AWS_ACCESS_KEY_ID": key},
            "apply",
            "--esm",
            scn.esm_uuid,
            "--auto-approve",
            "--output",
            "json",
        )
        for key in ("RACERA", "RACERB")
    ]
    ended = [(p, *p.communicate(timeout=300)) for p in procs]
    for _proc, _out, err in ended:
        assert "Traceback" not in err
    endpoints = vpc_inventory(sandbox, scn.vpc_id)["endpoints"]
    assert endpoints, "neither run made the endpoints"
    assert max(endpoints.values()) == 1, f"two runs both mutated: {endpoints}"
    docs = [json.loads(out) for _proc, out, _err in ended]
    changers = [d["run_id"] for d in docs if d["applied"]]
    assert len(changers) == 1, f"runs that changed something: {changers}"
    for (proc, _out, err), doc in zip(ended, docs, strict=True):
        if proc.returncode == 0:
            continue
        (line,) = error_lines(err)
        holder = HOLDER.search(line)
        assert holder is not None, line
        assert holder.group(1) == changers[0]
        assert f"remediate unlock --esm {scn.esm_uuid}" in line
        assert doc["applied"] == []
    assert lock_tags(sandbox, scn.esm_arn) == {}


def test_defect_1_two_resumes_of_one_run_both_proceed(sandbox: Sandbox, cli_env: dict[str, str]) -> None:
    scn = build_scenario(sandbox, "scram-no-nat")
    killed = kill_apply(sandbox, cli_env, scn.esm_uuid, NETWORK_WRITES, 2)
    procs = [start(cli_env, "apply", "--resume", killed.run_id) for _ in range(2)]
    ended = [(p.communicate(timeout=300)[1], p.returncode) for p in procs]
    ended = [(code, err) for err, code in ended]
    assert sorted(code for code, _ in ended) == [0, 1], ended
    (loser,) = [err for code, err in ended if code == 1]
    (line,) = error_lines(loser)
    assert killed.run_id in line
    assert "in use by another remediate process" in line or "that same run is already being applied" in line
    assert [e["event"] for e in events(cli_env, killed.run_id)].count("resume") == 1


def test_defect_1_a_run_outliving_lock_ttl_is_not_renewed(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    """A run longer than lock_ttl keeps its lock: the tag is renewed, and a second run is refused
    after the first expiry has passed."""
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.esm_transition_reads = 100  # each wait for the ESM to settle lasts a few seconds
    env = {**cli_env, "REMEDIATE_LOCK_TTL": "3"}
    first = start(env, "apply", "--esm", scn.esm_uuid, "--auto-approve")
    try:
        seen: dict[str, str] = {}
        while not any(v.startswith("held/") for v in seen.values()):
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
            seen = lock_tags(sandbox, scn.esm_arn)
        (key, value) = next(iter(seen.items()))
        expires = float(value.rsplit("/", 1)[1])
        while lock_tags(sandbox, scn.esm_arn).get(key) == value:  # wait for a renewal
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
        while aws_now(sandbox) <= expires + 3:  # the first expiry is behind us (AWS's clock)
            assert first.poll() is None, "the first run ended before its lock's first expiry"
            time.sleep(0.05)
        second = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", env=env)
        assert second.returncode == 1, second.stderr
        holder = HOLDER.search(error_lines(second.stderr)[0])
        assert holder is not None
    finally:
        sandbox.esm_transition_reads = 2
        _out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert f"Run id: {holder.group(1)}" in _out


@pytest.mark.parametrize(
    ("offset", "expires_local", "takes_over"),
    [
        (7200, 3600, True),  # AWS's clock says it expired an hour ago; this machine's says it has an hour
        (-7200, -3600, False),  # this machine's clock says it expired; AWS's says it has an hour left
    ],
)
def test_defect_1_expiry_is_judged_on_another_hosts_clock(
    sandbox: Sandbox, cli: CliRunner, offset: float, expires_local: float, takes_over: bool
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.clock_offset = offset
    foreign_lock(sandbox, scn.esm_arn, time.time() + expires_local)
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    if takes_over:
        assert run.returncode == 0, run.stderr
        assert lock_tags(sandbox, scn.esm_arn) == {}  # the dead lock was cleaned up too
    else:
        assert run.returncode == 1, run.stderr
        assert "locked by run r-20260101T000000Z-abcdef (host other-host, pid 4242" in run.stderr


def test_defect_4_no_way_out_of_a_stale_lock_but_the_aws_cli(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    foreign_lock(sandbox, scn.esm_arn, aws_now(sandbox) + 3600)
    refused = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert refused.returncode == 1
    (line,) = error_lines(refused.stderr)
    assert f"remediate unlock --esm {scn.esm_uuid}" in line
    asked = cli("unlock", "--esm", scn.esm_uuid)  # no terminal to ask on: nothing is removed
    assert asked.returncode == 3
    assert "run r-20260101T000000Z-abcdef (host other-host, pid 4242" in asked.stderr
    assert lock_tags(sandbox, scn.esm_arn) != {}
    unlocked = cli("unlock", "--esm", scn.esm_arn, "--auto-approve")
    assert unlocked.returncode == 0, unlocked.stderr
    assert f"Removed 1 lock tag(s) from ESM {scn.esm_uuid}." in unlocked.stdout
    assert lock_tags(sandbox, scn.esm_arn) == {}
    assert cli("unlock", "--esm", scn.esm_uuid).stdout == f"ESM {scn.esm_uuid} is not locked.\n"
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0


def test_defect_4_after_a_crash_rollback_of_that_run_is_refused_for_lock_ttl(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    """A SIGKILLed run's lock (this machine, its process gone) does not stop the rollback of that
    very run, which also finds what the run was creating when it died (its run-id tag)."""
    scn = build_scenario(sandbox, "scram-no-nat")
    assert scn.vpc_id is not None
    before = vpc_inventory(sandbox, scn.vpc_id)
    killed = kill_apply(sandbox, cli_env, scn.esm_uuid, NETWORK_WRITES, 4)
    assert lock_tags(sandbox, scn.esm_arn) != {}  # the dead run's lock is still there
    undo = cli("rollback", killed.run_id, "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    assert vpc_inventory(sandbox, scn.vpc_id) == before
    assert tagged(sandbox, scn.vpc_id, killed.run_id) == []
    assert lock_tags(sandbox, scn.esm_arn) == {}
    assert settle(sandbox, scn.esm_uuid)["State"] == "Enabled"
