"""Issue 27, item 7: the probe from the runbook, run step by step by the local runner (`ssm-run --local`).

The sandbox's Lambda runtime runs the packaged probe for real against the real Kafka broker
(tests/kafka_broker.py), as in tests/test_probe_e2e.py. A deployment that opted in (`--allow-probe`, the
templates' AllowProbe) reports what the probe measured in the plan step's output and leaves no function,
log group or lock; one that did not refuses `Probe: true` in one line and creates nothing.
"""

from __future__ import annotations

import json
import re

import pytest

from remediate.errors import InputError
from remediate.probe_run import PREFIX
from remediate.sandbox import Sandbox
from remediate.ssm.handlers import plan_handler
from remediate.ssm.probe_step import NOT_ALLOWED
from tests.conftest import CliRunner
from tests.kafka_broker import Broker
from tests.test_probe_e2e import _nothing_left, _scenario

ROLE = "arn:aws:iam::123456789012:role/automation"
BUCKET = "remediate-probe-state"
ACCOUNT = "123456789012"


def _ssm_run(cli: CliRunner, esm: str, *extra: str) -> dict[str, object]:
    done = cli(
        *("ssm-run", "--local", "--esm", esm, "--mode", "Diagnose", "--role-arn", ROLE, "--probe"),
        *("--bucket", BUCKET, "--output", "json", *extra),
    )
    execution: dict[str, object] = json.loads(done.stdout)
    execution["returncode"] = done.returncode
    execution["stderr"] = done.stderr
    return execution


def test_diagnose_with_probe_reports_the_measured_finding_and_leaves_nothing(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner
) -> None:
    scn = _scenario(sandbox, kafka_broker, password="not-the-password")
    sandbox.client("s3").create_bucket(Bucket=BUCKET)
    execution = _ssm_run(cli, scn.esm_uuid, "--allow-probe", "--role-path", "/service-role/")
    assert execution["AutomationExecutionStatus"] == "Success", execution["stderr"]
    outputs = execution["Outputs"]
    assert isinstance(outputs, dict)
    measured = [f for f in outputs["plan.Findings"] if f.endswith("(measured by the probe)")]
    assert measured == [
        "SASL_AUTH_FAILED: measured from the pollers' place: the broker rejects the mapping's SASL "
        f"authentication: bootstrap localhost:{kafka_broker.sasl_ssl}, step sasl: kafka-error "
        "SASL_AUTHENTICATION_FAILED (58) (measured by the probe)"
    ]
    probe = outputs["plan.Probe"]
    assert f"function {PREFIX}{scn.esm_uuid}-" in probe
    assert probe.endswith("; 1 measured finding(s)")
    assert "not-the-password" not in json.dumps(execution)
    _nothing_left(sandbox, scn.esm_uuid)  # no function, no log group, no lock tag
    # The probe run is journaled in the deployment's bucket, create to delete.
    run_id = probe.split()[2].rstrip(":")
    body = sandbox.client("s3").get_object(Bucket=BUCKET, Key=f"remediate/journals/{ACCOUNT}/{run_id}.jsonl")
    events = [json.loads(line)["event"] for line in body["Body"].read().decode().splitlines()]
    assert events == ["probe", "probe-create", "probe-invoke", "probe-deleted", "finish"]


def test_probe_is_refused_in_one_line_where_the_deployment_did_not_opt_in(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner
) -> None:
    scn = _scenario(sandbox, kafka_broker)
    sandbox.client("s3").create_bucket(Bucket=BUCKET)
    sandbox.clear_calls()
    execution = _ssm_run(cli, scn.esm_uuid, "--role-path", "/service-role/")
    assert execution["returncode"] == 1
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert NOT_ALLOWED in str(execution["FailureMessage"])
    assert [op for _svc, op in sandbox.calls if op in ("CreateFunction", "Invoke", "ListFunctions")] == []
    assert [
        f
        for f in sandbox.client("lambda").list_functions()["Functions"]
        if f["FunctionName"].startswith(PREFIX)
    ] == []


def test_probe_needs_the_mappings_role_in_the_deployments_scope(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner
) -> None:
    """The role may pass only roles in its scope to Lambda: a mapping's role outside it is refused by name."""
    scn = _scenario(sandbox, kafka_broker)
    sandbox.client("s3").create_bucket(Bucket=BUCKET)
    execution = _ssm_run(cli, scn.esm_uuid, "--allow-probe", "--role-tag", "payments")
    assert execution["AutomationExecutionStatus"] == "Failed"
    failure = str(execution["FailureMessage"])
    assert f"cannot probe ESM {scn.esm_uuid} from this runbook" in failure
    assert "remediate:fixable=payments" in failure
    _nothing_left(sandbox, scn.esm_uuid)


@pytest.mark.parametrize(
    ("events", "message"),
    [
        (
            {"Mode": "Apply", "EsmId": "0f4c2c4e-1111-4222-8333-944455556666"},
            "Mode Diagnose or Plan, not Apply",
        ),
        ({"Mode": "Diagnose", "EsmId": ""}, "needs an EsmId"),
        (
            {"Mode": "Diagnose", "EsmId": "0f4c2c4e-1111-4222-8333-944455556666", "AllowProbe": "false"},
            NOT_ALLOWED,
        ),
    ],
)
def test_the_plan_step_refuses_a_probe_it_cannot_run_before_reading_anything(
    events: dict[str, str], message: str
) -> None:
    """An opted-in deployment still probes one mapping, and never in Apply; the template's "false" is no."""
    with pytest.raises(InputError, match=re.escape(message)):
        plan_handler({"AllowProbe": "true", **events, "Probe": True}, None)
