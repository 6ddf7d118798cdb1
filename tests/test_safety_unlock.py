"""Issue 23, item 5: a removed lock stops its run before its next change (operator hunt N3).

Contract §5: "A run whose lock is removed stops before its next change." Before, the loss was noticed
only by the renewer, every third of `lock_ttl` (20 minutes by default), so after `remediate unlock`
the first run went on to restart the mapping while a second run took the lock.
"""

from __future__ import annotations

import time

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import CliRunner, settle
from tests.safety import lock_tags, start

UPDATE = ("lambda", "UpdateEventSourceMapping")


def test_n3_unlock_stops_the_holder_before_its_next_change(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    """broker-timeout: c1 sets BatchSize (update 1), c2 restarts (updates 2 and 3). `unlock` while
    update 1 is under way: the run stops before c2, exit 1, naming the removed lock."""
    scn = build_scenario(sandbox, "broker-timeout")
    hold = sandbox.faults.hold([UPDATE])
    before = len(sandbox.calls)
    proc = start(cli_env, "apply", "--esm", scn.esm_uuid, "--auto-approve")
    try:
        deadline = time.monotonic() + 120
        while not hold.arrived.wait(0.05):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
        assert lock_tags(sandbox, scn.esm_arn) != {}
        unlocked = cli("unlock", "--esm", scn.esm_uuid, "--auto-approve")
        assert unlocked.returncode == 0, unlocked.stderr
    finally:
        hold.release()
    _out, err = proc.communicate(timeout=120)
    sandbox.faults.clear()
    assert proc.returncode == 1, err
    assert "was removed while this run held it" in err
    assert "stopped before c2" in err
    assert sum(1 for c in sandbox.calls[before:] if c == UPDATE) == 1  # no disable, no enable
    esm = settle(sandbox, scn.esm_uuid)
    assert (esm["State"], esm["BatchSize"]) == ("Enabled", 1)


def test_n3_an_expired_lock_stops_the_holder_before_its_next_change(
    sandbox: Sandbox, cli_env: dict[str, str]
) -> None:
    """Issue 23, item 5: renewals fail (TagResource 503) while c1's update is slow, so the run's tag
    expires by AWS's clock and another run may take the lock: the holder neither writes again nor
    revives its tag; it stops before c2, naming the expiry."""
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.faults.add(
        FaultRule(service="lambda", operation="UpdateEventSourceMapping", kind="latency", latency=5)
    )
    before = len(sandbox.calls)
    proc = start({**cli_env, "REMEDIATE_LOCK_TTL": "2.5"}, "apply", "--esm", scn.esm_uuid, "--auto-approve")
    deadline = time.monotonic() + 120
    while UPDATE not in sandbox.calls[before:]:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    sandbox.faults.add(FaultRule(service="lambda", operation="TagResource", kind="status", status=503))
    _out, err = proc.communicate(timeout=120)
    sandbox.faults.clear()
    assert proc.returncode == 1, err
    assert f"the lock on ESM {scn.esm_uuid} expired (it could not be renewed)" in err
    assert "stopped before c2" in err
    assert sum(1 for c in sandbox.calls[before:] if c == UPDATE) == 1  # no disable, no enable
