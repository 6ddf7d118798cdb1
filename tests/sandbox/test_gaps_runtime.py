"""Gap: moto runs Lambda functions only in Docker. The sandbox runs a Python zip's handler in a subprocess
(remediate/sandbox/runtime.py), as Lambda's Python runtime would, and the probe's package against the real
Kafka broker (issue 22)."""

from __future__ import annotations

import io
import json
import zipfile

from remediate import probe_package
from remediate.probe_request import HANDLER
from remediate.sandbox import Sandbox
from tests import kafka_broker as kb
from tests.kafka_broker import Broker

from .helpers import make_function

ECHO = """import os
def handler(event, context):
    return {"got": event, "fn": os.environ["AWS_LAMBDA_FUNCTION_NAME"]}
"""


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def test_gap_runtime_runs_a_python_handler_and_creates_its_log_group(sb: Sandbox) -> None:
    make_function(sb, "echo")
    lam = sb.client("lambda")
    lam.update_function_code(
        FunctionName="echo",
        ZipFile=_zip(ECHO),
    )
    lam.update_function_configuration(FunctionName="echo", Handler="app.handler")
    answer = lam.invoke(FunctionName="echo", Payload=json.dumps({"n": 7}).encode())
    assert json.loads(answer["Payload"].read()) == {"got": {"n": 7}, "fn": "echo"}
    assert "FunctionError" not in answer
    groups = sb.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/echo")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/aws/lambda/echo"]


def test_gap_runtime_reports_a_handlers_exception_as_an_unhandled_function_error(sb: Sandbox) -> None:
    make_function(sb, "boom")
    lam = sb.client("lambda")
    lam.update_function_code(
        FunctionName="boom", ZipFile=_zip("def handler(event, context):\n    raise KeyError('x')\n")
    )
    lam.update_function_configuration(FunctionName="boom", Handler="app.handler")
    answer = lam.invoke(FunctionName="boom", Payload=b"{}")
    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read())["errorType"] == "KeyError"


def test_gap_runtime_runs_the_probe_package_which_reads_its_secret_and_measures_the_broker(
    sb: Sandbox, kafka_broker: Broker
) -> None:
    secrets = sb.client("secretsmanager")
    scram = secrets.create_secret(
        Name="AmazonMSK_probe",
        SecretString=json.dumps({"username": kb.SCRAM_USER, "password": kb.SCRAM_PASSWORD}),
    )["ARN"]
    ca = secrets.create_secret(
        Name="probe-ca", SecretString=json.dumps({"certificate": kafka_broker.ca_pem})
    )["ARN"]
    make_function(sb, "probe", Timeout=60)
    lam = sb.client("lambda")
    lam.update_function_code(FunctionName="probe", ZipFile=probe_package.build().data)
    lam.update_function_configuration(FunctionName="probe", Handler=HANDLER)
    event = {
        "bootstrap": [f"localhost:{kafka_broker.sasl_ssl}"],
        "security_protocol": "SASL_SSL",
        "auth": {"kind": "scram", "mechanism": "SCRAM-SHA-512", "secret_arn": scram, "ca_secret_arn": ca},
        "topics": [kb.ALLOWED_TOPIC, kb.DENIED_TOPIC],
        "group": kb.ALLOWED_GROUP,
        "deadline_s": 20,
    }
    answer = lam.invoke(FunctionName="probe", Payload=json.dumps(event).encode())
    payload = answer["Payload"].read().decode()
    assert "FunctionError" not in answer, payload
    result = json.loads(payload)
    assert result["complete"] is True
    assert {t["topic"]: t["error_code"] for t in result["topics"]} == {
        kb.ALLOWED_TOPIC: 0,
        kb.DENIED_TOPIC: 29,
    }
    assert kb.SCRAM_PASSWORD not in payload
