"""Issue 23, item 6 (operator-hunt N5): an apply that leaves a manual step blocking the mapping ends
"partly fixed" with its own exit code (6) and names the findings still open, never
"Apply complete! Verified" alone."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import REMEDIATE, CliRunner


@pytest.mark.parametrize("output", ["text", "json"])
def test_n5_apply_complete_verified_while_a_manual_step_still_blocks_the_mapping(
    sandbox: Sandbox, cli: CliRunner, output: str
) -> None:
    # The STS endpoint cannot be created (VPC endpoint quota): 2 changes and one manual step.
    scn = build_scenario(sandbox, "endpoint-quota-nearly-reached")
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", "--output", output)
    assert run.returncode == 6, run.stderr
    if output == "text":
        assert "Apply complete!" not in run.stdout
        assert "Apply partly fixed! Resources: 2 added, 0 changed, 0 destroyed." in run.stdout
        assert "1 manual step remains (above); the mapping will not recover until it is done" in run.stdout
        assert "Still open: SERVICE_ENDPOINTS_UNREACHABLE" in run.stdout
    else:
        doc = json.loads(run.stdout)
        assert doc["state"] == "partly_fixed"
        assert doc["error"] is None
        assert doc["remaining"] == ["SERVICE_ENDPOINTS_UNREACHABLE"]
        assert len(doc["applied"]) == 2
    # The remaining finding is real: a plan right after still reports it.
    again = cli("plan", "--esm", scn.esm_uuid, "--output", "json")
    assert "SERVICE_ENDPOINTS_UNREACHABLE" in [f["code"] for f in json.loads(again.stdout)["findings"]]


def test_n5_an_advisory_manual_step_leaves_a_verified_fix_complete(sandbox: Sandbox, cli: CliRunner) -> None:
    # Issue 23, item 6: "more partitions" is advised beside the raised maximum pollers; after verify a
    # fresh diagnosis finds no lag finding, so the apply is complete (exit 0), not partly fixed.
    scn = build_scenario(sandbox, "lag-growing-provisioned")
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert run.returncode == 0, run.stderr
    assert "Apply complete! Resources: 0 added, 1 changed, 0 destroyed." in run.stdout
    assert "The manual steps above are advised; the findings they answer are no longer found" in run.stdout
    assert "Still open" not in run.stdout


def test_n11_changes_made_and_outcome_unknown_for_calls_aws_refused(sandbox: Sandbox, cli: CliRunner) -> None:
    # operator-hunt N11: a 403 on CreateVpcEndpoint was listed as "in flight, its outcome unknown".
    scn = build_scenario(sandbox, "scram-no-nat")
    sandbox.faults.add(FaultRule(service="ec2", operation="CreateVpcEndpoint", kind="status", status=403))
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert run.returncode == 1, run.stderr
    assert "in flight" not in run.stderr
    report = run.stderr.split("Changes made by run ", 1)[1].split("Run id:", 1)[0]
    lines = [line.strip() for line in report.splitlines()[1:] if line.strip()]
    ids = [line.split()[0] for line in lines]
    assert len(ids) == len(set(ids)), lines  # each change once
    (refused,) = [line for line in lines if "create_vpc_endpoint" in line]
    assert "refused by AWS (UnauthorizedOperation on ec2:CreateVpcEndpoint, HTTP 403)" in refused
    assert "remediate iam-policy" in refused


def test_n11_a_403_on_the_first_call_is_refused_and_nothing_changed(sandbox: Sandbox, cli: CliRunner) -> None:
    # operator-hunt N11 / reliability N7: a refused first call printed "Changes made by run", "in flight",
    # "Continue it" and "Undo it" although AWS changed nothing.
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.faults.add(
        FaultRule(service="lambda", operation="UpdateEventSourceMapping", kind="status", status=403)
    )
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert run.returncode == 1, run.stderr
    for wrong in ("in flight", "Changes made", "Continue it", "Undo it"):
        assert wrong not in run.stderr
    assert (
        f"Nothing was changed: c1 update_esm on {scn.esm_uuid} was refused by AWS (AccessDeniedException on "
        "lambda:UpdateEventSourceMapping, HTTP 403)"
    ) in run.stderr


def test_n7_efbig_on_the_end_line_lists_the_change_twice(sandbox: Sandbox, cli_env: dict[str, str]) -> None:
    # reliability N7: the journal cannot take c3's `end` line (file-size limit); c3 was listed as made
    # and again as in flight.
    scn = build_scenario(sandbox, "scram-no-nat", role_grants_secret=False)
    sandbox.faults.add(
        FaultRule(service="ec2", operation="CreateVpcEndpoint", kind="latency", latency=1.5, phase="response")
    )
    n0 = len(sandbox.calls)
    proc = subprocess.Popen(
        [REMEDIATE, "apply", "--esm", scn.esm_uuid, "--auto-approve"],
        env=cli_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while sum(c == ("ec2", "CreateVpcEndpoint") for c in sandbox.calls[n0:]) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    (journal,) = (Path(cli_env["REMEDIATE_STATE_DIR"]) / "runs").glob("*.jsonl")
    limit = f"--fsize={journal.stat().st_size + 100}"
    subprocess.run(["prlimit", "--pid", str(proc.pid), limit], check=True)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    report = err.split("Changes made by run ", 1)[1].split("Run id:", 1)[0]
    ids = [line.split()[0] for line in report.splitlines()[1:] if line.strip()]
    assert ids == ["c1", "c2", "c3"], report  # each change once
    assert "in flight" not in report
