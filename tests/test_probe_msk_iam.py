"""Issue 22: the AWS_MSK_IAM authentication the probe sends, checked against AWS's documented format.

No broker in the tests can check it: the AWS_MSK_IAM SASL mechanism is MSK's own (a stock Apache Kafka
broker does not offer it), so this is a unit test of what the probe's SASL step sends, without network,
against the format AWS documents for it: the aws/aws-msk-iam-auth README ("Generating the authentication
payload"), whose JSON payload is

  {"version": "2020_10_22", "host": <broker>, "user-agent": ..., "action": "kafka-cluster:Connect",
   "x-amz-algorithm", "x-amz-credential" (<key id>/<yyyyMMdd>/<region>/kafka-cluster/aws4_request),
   "x-amz-date" (yyyyMMdd'T'HHmmss'Z'), "x-amz-security-token" (if any), "x-amz-signedheaders": "host",
   "x-amz-expires", "x-amz-signature"}

where the signature is SigV4 of a presigned GET / (the Amazon S3 API reference's "Authenticating Requests:
Using Query Parameters", which that README follows) with those query parameters, the host header and an
empty payload. The expected signature is computed here from those steps, not by the code under test.
What this cannot show is that MSK accepts it: only a real MSK cluster can.

The credentials are the ones Lambda gives the function (its execution role's, in AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) and the region Lambda sets (AWS_REGION): Lambda developer
guide, "Defined runtime environment variables" (AWS_DEFAULT_REGION, which botocore reads, is set too in
the runtime dumps seen, but was not confirmed on AWS's page: the probe copies AWS_REGION into it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from remediate.probe_function import handler as probe
from remediate.probe_function.handler import Credentials

HOST = "b-1.orders.abc123.c2.kafka.eu-west-1.amazonaws.com"
KEY_ID, SECRET, TOKEN = "ASIAEXAMPLEKEYID0001", "example/secret+key/not-real", "session-token/with+chars="


class Answer:
    """A broker's answer: the fields the probe reads."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


class RecordingConnection:
    """Stands in for the broker connection: records what the SASL step sends, answers as MSK does."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def call(self, request_cls: Any, _response_cls: Any, **fields: Any) -> Answer:
        self.sent.append((request_cls.__name__, fields))
        if request_cls.__name__ == "SaslHandshakeRequest":
            return Answer(error_code=0, mechanisms=["AWS_MSK_IAM"])
        # A successful authentication: a non-empty JSON answer (the README's "Message Exchange").
        return Answer(
            error_code=0, error_message=None, auth_bytes=b'{"version":"2020_10_22","request-id":"r"}'
        )


@pytest.fixture
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)


def _uri_encode(value: str) -> str:
    """The README's UriEncode: every byte but A-Z a-z 0-9 - . _ ~, as %XY with upper-case hex."""
    return "".join(
        c if re.fullmatch(r"[A-Za-z0-9\-._~]", c) else "".join(f"%{b:02X}" for b in c.encode()) for c in value
    )


def _expected_signature(payload: dict[str, str]) -> str:
    date = payload["x-amz-date"][:8]
    query = "&".join(
        f"{_uri_encode(k)}={_uri_encode(v)}"
        for k, v in sorted(
            {
                "Action": "kafka-cluster:Connect",
                "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
                "X-Amz-Credential": f"{KEY_ID}/{date}/eu-west-1/kafka-cluster/aws4_request",
                "X-Amz-Date": payload["x-amz-date"],
                "X-Amz-Expires": payload["x-amz-expires"],
                "X-Amz-Security-Token": TOKEN,
                "X-Amz-SignedHeaders": "host",
            }.items()
        )
    )
    canonical = "\n".join(("GET", "/", query, f"host:{HOST}\n", "host", hashlib.sha256(b"").hexdigest()))
    scope = f"{date}/eu-west-1/kafka-cluster/aws4_request"
    to_sign = "\n".join(
        ("AWS4-HMAC-SHA256", payload["x-amz-date"], scope, hashlib.sha256(canonical.encode()).hexdigest())
    )
    key = ("AWS4" + SECRET).encode()
    for part in (date, "eu-west-1", "kafka-cluster", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_the_iam_sasl_step_sends_awss_documented_payload_signed_with_the_roles_credentials(
    lambda_environment: None,
) -> None:
    conn = RecordingConnection()
    before = datetime.now(UTC).replace(microsecond=0)
    probe._sasl(conn, HOST, "SASL_SSL", Credentials(mechanism="AWS_MSK_IAM"))  # type: ignore[arg-type]

    [(handshake, asked), (authenticate, sent)] = conn.sent
    assert (handshake, asked) == ("SaslHandshakeRequest", {"mechanism": "AWS_MSK_IAM"})
    assert authenticate == "SaslAuthenticateRequest"
    payload = json.loads(sent["auth_bytes"])
    assert set(payload) == {
        "version",
        "host",
        "user-agent",
        "action",
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-signedheaders",
        "x-amz-expires",
        "x-amz-signature",
    }
    signed_at = datetime.strptime(payload["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= signed_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert payload["version"] == "2020_10_22"
    assert payload["host"] == HOST  # the broker's own name: the one the TLS session was opened to
    assert payload["action"] == "kafka-cluster:Connect"
    assert payload["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert payload["x-amz-credential"] == (
        f"{KEY_ID}/{signed_at:%Y%m%d}/eu-west-1/kafka-cluster/aws4_request"
    )
    assert payload["x-amz-security-token"] == TOKEN  # values are not URI-encoded in the payload
    assert payload["x-amz-signedheaders"] == "host"
    assert 0 < int(payload["x-amz-expires"]) <= 900  # the README recommends 900 seconds
    assert payload["user-agent"]
    assert payload["x-amz-signature"] == _expected_signature(payload)
    assert SECRET not in sent["auth_bytes"].decode()  # the secret key signs; it is never sent


def test_without_a_region_the_iam_step_is_a_sasl_error_before_sending_anything(
    lambda_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result for the step (the probe returns what it measured), not an exception out of the handler."""
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    conn = RecordingConnection()
    with pytest.raises(probe.StepFailed) as failed:
        probe._sasl(conn, HOST, "SASL_SSL", Credentials(mechanism="AWS_MSK_IAM"))  # type: ignore[arg-type]
    assert failed.value.outcome == "sasl-error"
    assert "could not build the AWS_MSK_IAM authentication" in failed.value.detail
    assert "region" in failed.value.detail
    assert [name for name, _ in conn.sent] == ["SaslHandshakeRequest"]


def test_uri_encoding_of_this_test_is_the_readmes() -> None:
    """The test's own encoder, checked against urllib's RFC 3986 quoting with the same safe set."""
    for value in (TOKEN, "kafka-cluster:Connect", f"{KEY_ID}/20261207/eu-west-1/kafka-cluster/aws4_request"):
        assert _uri_encode(value) == urllib.parse.quote(value, safe="-._~")


def test_the_region_lambda_documents_is_enough(
    lambda_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda's page documents AWS_REGION; botocore's signer reads AWS_DEFAULT_REGION."""
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    conn = RecordingConnection()
    probe._sasl(conn, HOST, "SASL_SSL", Credentials(mechanism="AWS_MSK_IAM"))  # type: ignore[arg-type]
    payload = json.loads(conn.sent[1][1]["auth_bytes"])
    assert payload["x-amz-credential"].endswith("/eu-west-1/kafka-cluster/aws4_request")
