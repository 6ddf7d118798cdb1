"""End-to-end (issue 21, item 8): MSK Express brokers have no customer storage.

MSK developer guide, "Amazon MSK Express brokers": "Express brokers eliminate the need to provision or manage
any storage resources"; "No maintenance windows". Through the real CLI against the sandbox: an Express
cluster (instance type express.m7g.large) whose metrics show a data-log disk at 91% and a mapping with
connection errors. The same reading on Standard brokers is a storage finding and broker trouble
(tests/test_broker_health_e2e.py); here it is neither.
"""

from __future__ import annotations

import json

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner, diagnosed


def test_an_express_cluster_gets_no_storage_finding_or_change_and_says_why(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    scn = build_scenario(sandbox, "express-connection-error")
    found = diagnosed(cli, scn.esm_uuid)
    assert [f["code"] for f in found] == [
        "CONNECTION_UNEXPLAINED"
    ]  # no BROKER_STORAGE_FULL, no BROKER_TIMEOUT
    [unexplained] = found
    ev = unexplained["evidence"]
    assert ev["max_disk_used_percent"] == 91.0  # measured, shown, and not judged
    assert "express.m7g.large is an Express broker" in ev["express"]
    assert "MSK manages its storage" in ev["express"]
    assert "no maintenance window" in ev["express"]
    assert ev["express"] in unexplained["summary"]

    run = cli("plan", "--esm", scn.esm_uuid, "--output", "json")
    assert run.returncode == 0, run.stderr
    plan = json.loads(run.stdout)
    assert plan["changes"] == []
    assert not any(c.get("action") == "update_broker_storage" for c in plan["changes"])
    assert not any(
        "storage" in m["text"].lower() and "grow" in m["text"].lower() for m in plan["manual_steps"]
    )
    assert ("kafka", "UpdateBrokerStorage") not in sandbox.calls
