"""End-to-end: the function cannot run, is throttled or failing (issue 15, item 2), through the real CLI.

The sandbox seeds what Lambda alone reports (the function's state, its CloudWatch metrics); the expected
counts are the seeded ones.
"""

from __future__ import annotations

import json
from pathlib import Path

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import CliRunner, diagnosed


def reserved(sb: Sandbox, name: str) -> object:
    return sb.client("lambda").get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")


def test_reserved_concurrency_zero_is_cleared_and_rolled_back(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "function-concurrency-zero")
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "FUNCTION_CANNOT_RUN"
    assert found["evidence"] == {
        "function": scn.function_arn,
        "cause": "reserved-concurrency-zero",
        "state": "Active",
        "state_reason": None,
        "last_update_status": "Successful",
        "last_update_status_reason": None,
        "reserved_concurrency": 0,
    }
    plan = json.loads(cli("plan", "--esm", scn.esm_uuid, "--output", "json").stdout)
    [change] = plan["changes"]
    assert (change["action"], change["before"], change["after"]) == (
        "clear_reserved_concurrency",
        {"ReservedConcurrentExecutions": 0},
        {"ReservedConcurrentExecutions": None},
    )
    applied = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", "--output", "json")
    assert applied.returncode == 0, applied.stderr
    assert reserved(sandbox, scn.function_name) is None
    assert diagnosed(cli, scn.esm_uuid) == []
    run_id = json.loads(applied.stdout)["run_id"]
    undone = cli("rollback", run_id, "--auto-approve")
    assert undone.returncode == 0, undone.stderr
    assert reserved(sandbox, scn.function_name) == 0  # exactly what was there before
    assert Path(cli_env["REMEDIATE_STATE_DIR"]).exists()


def test_failed_function_is_a_manual_step(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "function-failed")
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "FUNCTION_CANNOT_RUN"
    ev = found["evidence"]
    assert isinstance(ev, dict)
    assert (ev["cause"], ev["state"]) == ("state", "Failed")
    assert ev["state_reason"] == "The subnet has no free IP addresses."
    plan = json.loads(cli("plan", "--esm", scn.esm_uuid, "--output", "json").stdout)
    assert plan["changes"] == []
    assert f"/aws/lambda/{scn.function_name}" in plan["manual_steps"][0]["text"]


def test_throttles_are_counted(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "function-throttled")
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "FUNCTION_THROTTLED"
    ev = found["evidence"]
    assert isinstance(ev, dict)
    assert (ev["throttles"], ev["invocations"], ev["reserved_concurrency"]) == (12.0, 30.0, 2)


def test_errors_name_the_log_group(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "function-failing")
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "FUNCTION_FAILING"
    ev = found["evidence"]
    assert isinstance(ev, dict)
    assert (ev["errors"], ev["invocations"]) == (18.0, 20.0)
    assert ev["log_group"] == f"/aws/lambda/{scn.function_name}"
    plan = cli("plan", "--esm", scn.esm_uuid)
    assert f"aws logs tail /aws/lambda/{scn.function_name}" in plan.stdout


def test_denied_concurrency_read_is_could_not_check(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "healthy-msk")
    # GetFunction denied (issue 26): the configuration comes from GetFunctionConfiguration, the
    # concurrency from GetFunctionConcurrency, which is denied too.
    sandbox.faults.add(FaultRule(service="lambda", operation="GetFunction", kind="status", status=403))
    sandbox.faults.add(
        FaultRule(service="lambda", operation="GetFunctionConcurrency", kind="status", status=403)
    )
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "COULD_NOT_CHECK"
    assert "AccessDeniedException on GetFunctionConcurrency" in str(found["summary"])
