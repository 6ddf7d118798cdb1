"""Issue 22: `remediate probe` and `diagnose --probe-from-vpc` report what the probe measured as findings,
through the real CLI against the sandbox, whose Lambda runtime runs the packaged probe against the real
Kafka broker (tests/kafka_broker.py). The codes asserted are the ones the real broker returns."""

from __future__ import annotations

import json

from remediate.sandbox import Sandbox, build_scenario
from remediate.sandbox.faults import FaultRule
from remediate.sandbox.scenarios import CONNECTION_ERROR
from tests import kafka_broker as kb
from tests.conftest import CliRunner
from tests.kafka_broker import Broker
from tests.test_probe_e2e import _nothing_left, _scenario, left_behind


def _measured(doc: dict[str, object]) -> list[dict[str, object]]:
    findings = doc["findings"]
    assert isinstance(findings, list)
    return [f for f in findings if f["evidence"].get("source") == "measured"]


def test_wrong_password_is_a_measured_sasl_finding_in_json_and_text(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner
) -> None:
    scn = _scenario(sandbox, kafka_broker, password="not-the-password")
    done = cli("probe", "--esm", scn.esm_uuid, "--auto-approve", "--output", "json")
    assert done.returncode == 0, done.stderr
    [finding] = _measured(json.loads(done.stdout))
    assert finding["code"] == "SASL_AUTH_FAILED"
    step = finding["evidence"]["measured"]
    assert (step["server"], step["step"], step["error_code"]) == (
        f"localhost:{kafka_broker.sasl_ssl}",
        "sasl",
        58,
    )
    text = cli("probe", "--esm", scn.esm_uuid, "--auto-approve")
    assert text.returncode == 0, text.stderr
    assert (
        f"SASL_AUTH_FAILED: measured from the pollers' place: the broker rejects the mapping's SASL "
        f"authentication: bootstrap localhost:{kafka_broker.sasl_ssl}, step sasl: kafka-error "
        "SASL_AUTHENTICATION_FAILED (58)"
    ) in text.stdout
    assert "not-the-password" not in done.stdout + text.stdout + text.stderr
    _nothing_left(sandbox, scn.esm_uuid)


def test_denied_group_is_a_measured_cluster_authz_finding(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner
) -> None:
    scn = _scenario(sandbox, kafka_broker, group=kb.DENIED_GROUP)
    done = cli("probe", "--esm", scn.esm_uuid, "--auto-approve", "--output", "json")
    assert done.returncode == 0, done.stderr
    [finding] = _measured(json.loads(done.stdout))
    assert finding["code"] == "CLUSTER_AUTHZ_FAILED"
    assert finding["evidence"]["measured"]["step"] == "group"
    assert finding["evidence"]["measured"]["error_code"] == 30
    assert kb.DENIED_GROUP in finding["summary"]


def test_diagnose_probe_from_vpc_explains_the_connection_error_with_the_measurement(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner
) -> None:
    # The mapping reports Lambda's connection error, as it does when the brokers reject its SASL login.
    scn = build_scenario(
        sandbox,
        "self-managed-healthy",
        auth="scram",
        self_managed_vpc=True,
        self_managed_servers=(f"localhost:{kafka_broker.sasl_ssl}",),
        secret_value=json.dumps({"username": kb.SCRAM_USER, "password": "not-the-password"}),
        root_ca_certificate=kafka_broker.ca_pem,
        consumer_group_id=kb.ALLOWED_GROUP,
        last_processing_result=CONNECTION_ERROR,
    )
    plain = cli("diagnose", "--esm", scn.esm_uuid, "--output", "json")
    assert "CONNECTION_UNEXPLAINED" in {f["code"] for f in json.loads(plain.stdout)["findings"]}
    done = cli("diagnose", "--esm", scn.esm_uuid, "--probe-from-vpc", "--auto-approve", "--output", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    codes = {f["code"] for f in doc["findings"]}
    assert "SASL_AUTH_FAILED" in codes
    assert "CONNECTION_UNEXPLAINED" not in codes
    assert doc["probe"]["function"].startswith("remediate-probe-")
    report = cli(
        "diagnose", "--esm", scn.esm_uuid, "--probe-from-vpc", "--auto-approve", "--output", "markdown"
    )
    assert report.returncode == 0, report.stderr
    assert "step sasl: kafka-error SASL_AUTHENTICATION_FAILED (58)" in report.stdout
    assert "measured by probe run" in report.stdout
    _nothing_left(sandbox, scn.esm_uuid)


def test_diagnose_probe_from_vpc_asks_first(sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner) -> None:
    scn = _scenario(sandbox, kafka_broker)
    seen = len(sandbox.calls)
    done = cli("diagnose", "--esm", scn.esm_uuid, "--probe-from-vpc")  # no terminal, no --auto-approve
    assert done.returncode == 3
    assert "nothing was created" in done.stderr
    assert ("lambda", "CreateFunction") not in sandbox.calls[seen:]


def test_probe_policy_passes_only_the_mappings_role_and_only_to_lambda(cli: CliRunner) -> None:
    """IAM user guide, "Grant a user permissions to pass a role to an AWS service": the role's ARN as the
    resource and iam:PassedToService naming the service."""
    role = "arn:aws:iam::123456789012:role/esm-execution-role"
    done = cli("iam-policy", "--mode", "probe", "--probe-role", role)
    assert done.returncode == 0, done.stderr
    statements = json.loads(done.stdout)["Statement"]
    passing = [s for s in statements if "iam:PassRole" in json.dumps(s["Action"]) and s["Effect"] == "Allow"]
    # issue 27: and never a privileged role, whatever the Allow names
    [deny] = [s for s in statements if s["Effect"] == "Deny"]
    assert "iam:PassRole" in deny["Action"]
    assert passing == [
        {
            "Sid": "RemediateProbePassRole",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": [role],
            "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        }
    ]
    assert cli("iam-policy", "--mode", "probe", "--probe-role", "esm-execution-role").returncode == 1


def test_unlock_sweep_probes_removes_a_killed_runs_function_and_log_group(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner
) -> None:
    scn = _scenario(sandbox, kafka_broker)
    lam = sandbox.client("lambda")
    role = lam.get_function(FunctionName=scn.function_name)["Configuration"]["Role"]
    left = left_behind(sandbox, scn.esm_uuid, role)
    plain = cli("unlock", "--esm", scn.esm_uuid, "--auto-approve")
    assert plain.returncode == 0, plain.stderr
    assert left in {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    done = cli("unlock", "--esm", scn.esm_uuid, "--auto-approve", "--sweep-probes")
    assert done.returncode == 0, done.stderr
    assert f"Removed 1 probe function(s) a killed run left: {left}" in done.stderr
    _nothing_left(sandbox, scn.esm_uuid)


def test_unlock_sweep_probes_without_the_probes_rights_says_so_in_one_line(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner
) -> None:
    scn = _scenario(sandbox, kafka_broker)
    sandbox.faults.add(FaultRule(service="lambda", operation="ListFunctions", kind="status", status=403))
    try:
        done = cli("unlock", "--esm", scn.esm_uuid, "--auto-approve", "--sweep-probes")
    finally:
        sandbox.faults.clear()
    assert done.returncode == 0, done.stderr
    [line] = [x for x in done.stderr.splitlines() if x.startswith("Probe functions not swept")]
    assert "AccessDeniedException" in line
    assert f"remediate probe --esm {scn.esm_uuid}" in line
