"""End-to-end (issue 21, item 5): listeners as the cluster offers them, through the real CLI and sandbox.

A cluster that accepts only SASL/SCRAM or only mTLS has no plaintext listener (ClientBroker TLS), so a
mapping without a secret cannot connect anywhere: the finding is the missing secret, with its type and port
(Lambda API reference, SourceAccessConfiguration; MSK developer guide, "Port information": 9096 SASL/SCRAM,
9094 TLS), and nothing opens 9092.
"""

from __future__ import annotations

import json

import pytest

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner, diagnosed


@pytest.mark.parametrize(
    ("scenario", "secret_type", "port"),
    [
        ("scram-only-no-secret", "SASL_SCRAM_512_AUTH", 9096),
        ("mtls-only-no-secret", "CLIENT_CERTIFICATE_TLS_AUTH", 9094),
    ],
)
def test_a_secret_less_mapping_gets_the_missing_secret_not_a_9092_rule(
    sandbox: Sandbox, cli: CliRunner, scenario: str, secret_type: str, port: int
) -> None:
    scn = build_scenario(sandbox, scenario)
    found = diagnosed(cli, scn.esm_uuid)
    assert [f["code"] for f in found] == ["ESM_SECRET_MISSING"]
    ev = found[0]["evidence"]
    assert (ev["secret_types"], ev["ports"]) == ([secret_type], [port])
    assert f"{secret_type} secret (port {port})" in found[0]["summary"]
    assert "9092" not in json.dumps(found)

    run = cli("plan", "--esm", scn.esm_uuid, "--output", "json")
    assert run.returncode == 0, run.stderr
    plan = json.loads(run.stdout)
    assert plan["changes"] == []  # no port rule, no batch size, no restart
    [step] = plan["manual_steps"]
    assert f"Type={secret_type}" in step["text"]
    assert f"--uuid {scn.esm_uuid} --source-access-configurations" in step["text"]
    assert "9092" not in run.stdout


def test_the_same_cluster_with_the_secret_named_is_healthy(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "scram-only-no-secret", name="scram-with-secret", esm_names_secret=True)
    # With the secret, Lambda has its listener: the connection error is no longer the secret's doing.
    assert [f["code"] for f in diagnosed(cli, scn.esm_uuid)] == ["CONNECTION_UNEXPLAINED"]
