"""End-to-end (issue 21, item 3): turning on a provisioned mapping's system logs is a named alternative.

Lambda developer guide, "Kafka event source mapping logging": system logs exist only for Kafka mappings in
provisioned mode, at DEBUG, INFO or WARN (WARN the least detail); they go to the function's log group.
Through the real CLI against the sandbox (which refuses LoggingConfig on an on-demand mapping).
"""

from __future__ import annotations

import json
from typing import Any

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner, settle
from tests.test_rollback import last_run


def plan_json(cli: CliRunner, uuid: str, *extra: str) -> dict[str, Any]:
    run = cli("plan", "--esm", uuid, "--output", "json", *extra)
    assert run.returncode == 0, run.stderr
    doc: dict[str, Any] = json.loads(run.stdout)
    return doc


def test_system_logs_are_offered_applied_verified_and_rolled_back(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "broker-timeout-measured", name="logs-offered", provisioned_pollers=True)
    plan = plan_json(cli, scn.esm_uuid)
    assert [f["code"] for f in plan["findings"]] == ["CONNECTION_UNEXPLAINED"]
    assert plan["changes"] == []
    steps = " ".join(m["text"] for m in plan["manual_steps"])
    assert f"remediate plan --esm {scn.esm_uuid} --fix-with system-logs" in steps
    offers = [a["text"] for a in plan["alternatives"]]
    [offer] = [t for t in offers if t.startswith("`--fix-with system-logs` plans enable_system_logs")]
    assert "WARN" in offer
    assert "per GB" in offer  # its cost is stated in the plan

    chosen = plan_json(cli, scn.esm_uuid, "--fix-with", "system-logs")
    [change] = chosen["changes"]
    assert (change["action"], change["resource"]) == ("enable_system_logs", scn.esm_uuid)
    assert change["before"] == {"LoggingConfig": None}
    assert change["after"]["LoggingConfig"] == {"SystemLogLevel": "WARN"}
    assert "CloudWatch Logs" in change["after"]["CostBasis"]

    run = cli("apply", "--esm", scn.esm_uuid, "--fix-with", "system-logs", "--auto-approve")
    assert run.returncode == 0, run.stderr  # applied and verified (read back)
    assert settle(sandbox, scn.esm_uuid).get("LoggingConfig") == {"SystemLogLevel": "WARN"}
    # Converged: with the logs on, nothing more is planned for them.
    again = plan_json(cli, scn.esm_uuid, "--fix-with", "system-logs")
    assert [c for c in again["changes"] if c["action"] == "enable_system_logs"] == []

    undo = cli("rollback", last_run(cli_env), "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    assert settle(sandbox, scn.esm_uuid).get("LoggingConfig") in (None, {})


def test_on_demand_mapping_gets_no_system_logs_change(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout-measured", name="logs-on-demand")
    chosen = plan_json(cli, scn.esm_uuid, "--fix-with", "system-logs")
    assert chosen["changes"] == []
    steps = " ".join(m["text"] for m in chosen["manual_steps"])
    assert "provisioned mode" in steps  # what to do first instead
