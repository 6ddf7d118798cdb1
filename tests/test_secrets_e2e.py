"""End to end: secrets with real (generated) material in the sandbox, diagnosed by the real CLI.

Each case stores a certificate secret whose value the test made, runs `remediate diagnose` and `plan`
with JSON logs at debug level, and asserts the finding and that no secret part (key body, password)
appears anywhere in standard output or standard error.
"""

from __future__ import annotations

import base64
import datetime
import json
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from remediate.sandbox import Sandbox, build_scenario
from tests import tls_factory as tf
from tests.conftest import CliRunner

PASSWORD = "correct-horse-battery-staple"


def _body_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def _cases() -> dict[str, tuple[str, list[str], set[str]]]:
    """name -> (secret value, secret parts that must never be printed, expected codes)."""
    root = tf.ca()
    good = tf.leaf(root)
    other = tf.leaf(root, "someone-else")
    expired = tf.leaf(
        root,
        not_before=tf.NOW - datetime.timedelta(days=30),
        not_after=tf.NOW - datetime.timedelta(days=1),
    )
    der = base64.b64encode(good.cert.public_bytes(serialization.Encoding.DER)).decode()
    pbes1 = tf.pbes1_pem(good.key, PASSWORD)
    pbes2 = tf.pbes2_pem(good.key, PASSWORD)
    return {
        "good": (tf.client_secret(good.cert_pem, good.key_pem), _body_lines(good.key_pem), set()),
        "der": (tf.client_secret(der, good.key_pem), _body_lines(good.key_pem), {"SECRET_NOT_PEM"}),
        "mismatch": (
            tf.client_secret(good.cert_pem, other.key_pem),
            _body_lines(other.key_pem),
            {"SECRET_NOT_PEM"},
        ),
        "pbes1": (tf.client_secret(good.cert_pem, pbes1, PASSWORD), [PASSWORD, *_body_lines(pbes1)], set()),
        "pbes2": (
            tf.client_secret(good.cert_pem, pbes2, PASSWORD),
            [PASSWORD, *_body_lines(pbes2)],
            {"PRIVATE_KEY_PBES2"},
        ),
        "expired": (
            tf.client_secret(expired.cert_pem, expired.key_pem),
            _body_lines(expired.key_pem),
            {"SECRET_NOT_PEM"},
        ),
    }


CASES = _cases()


def _assert_no_secret(result: subprocess.CompletedProcess[str], parts: list[str]) -> None:
    output = result.stdout + result.stderr
    for part in parts:
        assert part not in output


@pytest.mark.parametrize("case", sorted(CASES))
def test_client_certificate_secret(sandbox: Sandbox, cli: CliRunner, case: str) -> None:
    value, parts, expected = CASES[case]
    scn = build_scenario(sandbox, "healthy-msk", name=f"tls-{case}", auth="tls", secret_value=value)
    debug = ("--log-format", "json", "--debug")
    diag = cli("diagnose", "--esm", scn.esm_uuid, "--output", "json", *debug)
    assert diag.returncode == 0, diag.stderr
    findings = json.loads(diag.stdout)["findings"]
    material = {f["code"] for f in findings if f["code"] in ("SECRET_NOT_PEM", "PRIVATE_KEY_PBES2")}
    assert material == expected
    plan = cli("plan", "--esm", scn.esm_uuid, *debug)
    assert plan.returncode == 0, plan.stderr
    for result in (diag, plan):
        _assert_no_secret(result, parts)
    if case == "pbes2":
        assert "openssl pkcs8 -topk8 -v1 PBE-SHA1-DES -provider legacy -provider default" in plan.stdout
        assert (
            f"put-secret-value --secret-id {scn.secret_arns[0]} --secret-string file://secret.json"
            in plan.stdout
        )
    if case == "der":
        assert "DER was given instead of PEM" in diag.stdout


def test_malformed_scram_secret_is_sasl_auth_failed(sandbox: Sandbox, cli: CliRunner) -> None:
    value = json.dumps({"user": "lambda", "password": PASSWORD})
    scn = build_scenario(sandbox, "healthy-msk", name="scram-shape", auth="scram", secret_value=value)
    diag = cli("diagnose", "--esm", scn.esm_uuid, "--output", "json", "--log-format", "json", "--debug")
    assert diag.returncode == 0, diag.stderr
    shape = [
        f
        for f in json.loads(diag.stdout)["findings"]
        if f["code"] == "SASL_AUTH_FAILED" and "problems" in f["evidence"]
    ]
    assert [p["field"] for p in shape[0]["evidence"]["problems"]] == ["username"]
    _assert_no_secret(diag, [PASSWORD])
