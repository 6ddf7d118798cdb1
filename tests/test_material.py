"""The secret analyser (pure), the secret_material check and its manual steps, on generated material."""

from __future__ import annotations

import base64
import datetime
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from remediate import log
from remediate.actions.secret_value import _COMMANDS, steps_text
from remediate.checks.secrets import secret_material
from remediate.error_text import classify
from remediate.facts import Secret, SecretMaterial, SourceAccess
from remediate.observe.secret_material import analyse, encryption_scheme, parse_pem, register_value
from tests import factories
from tests import tls_factory as tf

CLIENT = "CLIENT_CERTIFICATE_TLS_AUTH"
PASSWORD = "pa55-w0rd-for-the-key"
ROOT = tf.ca()
GOOD = tf.leaf(ROOT)


def kinds(material: SecretMaterial) -> list[tuple[str, str]]:
    return [(p.code, p.kind) for p in material.problems]


def test_good_certificate_and_key() -> None:
    material = analyse(CLIENT, tf.client_secret(GOOD.cert_pem + ROOT.cert_pem, GOOD.key_pem))
    assert material.problems == ()
    assert material.key_encryption == "none"
    assert material.key_algorithm == "EC secp256r1"
    assert [c.subject for c in material.certificates] == ["CN=client", "CN=Test Root CA"]


def test_der_instead_of_pem() -> None:
    der = base64.b64encode(GOOD.cert.public_bytes(serialization.Encoding.DER)).decode()
    material = analyse(CLIENT, tf.client_secret(der, GOOD.key_pem))
    assert kinds(material) == [("SECRET_NOT_PEM", "der-not-pem")]
    assert material.problems[0].field == "certificate"


def test_key_that_does_not_match() -> None:
    material = analyse(CLIENT, tf.client_secret(GOOD.cert_pem, tf.leaf(ROOT).key_pem))
    assert kinds(material) == [("SECRET_NOT_PEM", "key-mismatch")]


def test_key_of_a_later_chain_certificate_names_the_order() -> None:
    material = analyse(CLIENT, tf.client_secret(ROOT.cert_pem + GOOD.cert_pem, GOOD.key_pem))
    assert ("SECRET_NOT_PEM", "chain-order") in kinds(material)
    assert "belongs to certificate 2" in material.problems[-1].detail


def test_pbes1_key_is_accepted_and_checked_against_the_certificate() -> None:
    material = analyse(CLIENT, tf.client_secret(GOOD.cert_pem, tf.pbes1_pem(GOOD.key, PASSWORD), PASSWORD))
    assert material.problems == ()
    assert material.key_encryption == "PBES1 (pbeWithSHA1AndDES-CBC)"
    other = tf.leaf(ROOT)
    wrong = analyse(CLIENT, tf.client_secret(GOOD.cert_pem, tf.pbes1_pem(other.key, PASSWORD), PASSWORD))
    assert ("SECRET_NOT_PEM", "key-mismatch") in kinds(wrong)  # decrypted, so matched against the cert


def test_item_11_pkcs12_schemes_are_not_pbes1() -> None:
    """The Lambda guide documents PBES1 (RFC 8018 section 6.1); a PKCS#12 scheme is not PBES1."""
    key = tf.pkcs12_pbe_pem(GOOD.key, PASSWORD)
    material = analyse(CLIENT, tf.client_secret(GOOD.cert_pem, key, PASSWORD))
    assert kinds(material) == [("SECRET_NOT_PEM", "pkcs12-pbe")]
    assert "pbeWithSHAAnd3-KeyTripleDES-CBC" in material.problems[0].detail
    assert "RFC 8018 section 6.1" in material.problems[0].detail


def test_pbes2_key_is_flagged() -> None:
    material = analyse(CLIENT, tf.client_secret(GOOD.cert_pem, tf.pbes2_pem(GOOD.key, PASSWORD), PASSWORD))
    assert kinds(material) == [("PRIVATE_KEY_PBES2", "pbes2")]
    assert material.key_encryption is not None
    assert material.key_encryption.startswith("PBES2")


def test_wrong_or_missing_password() -> None:
    pem = tf.pbes1_pem(GOOD.key, PASSWORD)
    assert kinds(analyse(CLIENT, tf.client_secret(GOOD.cert_pem, pem, "nope-nope"))) == [
        ("SECRET_NOT_PEM", "wrong-password")
    ]
    assert kinds(analyse(CLIENT, tf.client_secret(GOOD.cert_pem, pem))) == [
        ("SECRET_NOT_PEM", "missing-password")
    ]


def test_a_wrong_password_that_passes_pbes1s_padding_is_still_the_wrong_password() -> None:
    """PBES1 has no integrity check but its padding: about 1 wrong password in 256 decrypts to a last
    octet of 1, which checks out, and yields bytes that are no key. Such a password is found here by
    trying, with a decryption of the test's own (tests/tls_factory.py; the chance of none in 4,000
    tries is below 1e-6): the analyser must still blame the password, not the key (it said
    `invalid-key`, one suite run in some hundreds)."""
    pem = tf.pbes1_pem(GOOD.key, PASSWORD)
    wrong = next(
        (f"nope-{n}" for n in range(4000) if tf.pbes1_padding_passes(GOOD.key, PASSWORD, f"nope-{n}")), ""
    )
    if not wrong:
        pytest.fail("no wrong password passed the padding check in 4,000 tries")
    problems = analyse(CLIENT, tf.client_secret(GOOD.cert_pem, pem, wrong)).problems
    assert [(p.code, p.kind, p.field) for p in problems] == [
        ("SECRET_NOT_PEM", "wrong-password", "privateKeyPassword")
    ]
    assert problems[0].detail == "privateKeyPassword does not decrypt privateKey to a private key"


def test_expired_and_not_yet_valid_certificates() -> None:
    expired = tf.leaf(
        ROOT, not_before=tf.NOW - datetime.timedelta(days=9), not_after=tf.NOW - datetime.timedelta(days=1)
    )
    future = tf.leaf(
        ROOT, not_before=tf.NOW + datetime.timedelta(days=1), not_after=tf.NOW + datetime.timedelta(days=9)
    )
    assert kinds(analyse(CLIENT, tf.client_secret(expired.cert_pem, expired.key_pem))) == [
        ("SECRET_NOT_PEM", "expired")
    ]
    assert kinds(analyse(CLIENT, tf.client_secret(future.cert_pem, future.key_pem))) == [
        ("SECRET_NOT_PEM", "not-yet-valid")
    ]


def test_traditional_key_is_not_pkcs8() -> None:
    traditional = GOOD.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    assert kinds(analyse(CLIENT, tf.client_secret(GOOD.cert_pem, traditional))) == [
        ("SECRET_NOT_PEM", "traditional-key")
    ]


def test_armour_errors_name_the_line() -> None:
    lines = GOOD.cert_pem.splitlines()
    lines[2] = lines[2][:5] + "!" + lines[2][6:]
    _, errors = parse_pem("\n".join(lines), "certificate")
    assert errors == [("armour", "certificate line 3: not base64 (inside CERTIFICATE)")]
    _, errors = parse_pem(GOOD.cert_pem.replace("-----END CERTIFICATE-----", ""), "certificate")
    assert errors == [("armour", "certificate line 1: BEGIN CERTIFICATE has no END line")]
    _, errors = parse_pem(GOOD.cert_pem.replace("\n", "\\n"), "certificate")
    assert errors[0][0] == "escaped-newlines"


@pytest.mark.parametrize(
    ("value", "kind", "field"),
    [
        ("not json", "not-json", "(secret)"),
        ("[1, 2]", "not-object", "(secret)"),
        (json.dumps({"username": "u"}), "missing-field", "password"),
        (json.dumps({"username": "u", "password": 7}), "not-string", "password"),
        (json.dumps({"username": " u", "password": "p"}), "whitespace", "username"),
    ],
)
def test_credentials_shape_is_sasl_auth_failed(value: str, kind: str, field: str) -> None:
    material = analyse("SASL_SCRAM_512_AUTH", value)
    assert [(p.code, p.kind, p.field) for p in material.problems] == [("SASL_AUTH_FAILED", kind, field)]


def test_root_ca_bundle_must_hold_ca_certificates() -> None:
    assert analyse("SERVER_ROOT_CA_CERTIFICATE", json.dumps({"certificate": ROOT.cert_pem})).problems == ()
    bundle = json.dumps({"certificate": ROOT.cert_pem + GOOD.cert_pem})
    assert kinds(analyse("SERVER_ROOT_CA_CERTIFICATE", bundle)) == [("SECRET_NOT_PEM", "not-ca")]


def test_item_11_suggested_openssl_command_writes_pbes1(tmp_path: Path) -> None:
    """The command the manual steps suggest, run with the real openssl binary, writes a PBES1 key
    (pbeWithSHA1AndDES-CBC, RFC 8018 section 6.1) that the analysis accepts and matches to its certificate."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl binary on this machine")
    source = tmp_path / "key-pbes2.pem"
    source.write_text(tf.pbes2_pem(GOOD.key, PASSWORD))
    (tmp_path / "key-password.txt").write_text(PASSWORD)
    done = subprocess.run(  # the manual step is a shell line: run it as a user would
        _COMMANDS["pbes2"], shell=True, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    if "-provider" in done.stderr and done.returncode:
        pytest.skip("this openssl has no providers (OpenSSL 1.1)")
    assert done.returncode == 0, done.stderr
    key = (tmp_path / "key.pem").read_text()
    body = base64.b64decode("".join(key.splitlines()[1:-1]))
    assert encryption_scheme(body) == ("PBES1", "PBES1 (pbeWithSHA1AndDES-CBC)")
    assert analyse(CLIENT, tf.client_secret(GOOD.cert_pem, key, PASSWORD)).problems == ()


def test_binary_secret() -> None:
    assert kinds(analyse(CLIENT, None, binary=True)) == [("SECRET_NOT_PEM", "binary")]


def test_encryption_scheme_reads_the_oid() -> None:
    body = "".join(tf.pbes2_pem(GOOD.key, PASSWORD).splitlines()[1:-1])
    assert encryption_scheme(base64.b64decode(body)) == ("PBES2", "PBES2 (PBKDF2, aes-256-cbc)")


def test_no_problem_quotes_the_value() -> None:
    key = tf.pbes2_pem(GOOD.key, PASSWORD)
    values = [
        tf.client_secret(GOOD.cert_pem, key, PASSWORD),
        tf.client_secret(GOOD.cert_pem, key.replace("\n", "\\n"), PASSWORD),
        key,
        json.dumps({"privateKey": key}),
    ]
    secret_lines = [line for line in key.splitlines() if not line.startswith("-----")]
    for value in values:
        dumped = analyse(CLIENT, value).model_dump_json()
        assert PASSWORD not in dumped
        assert not any(line in dumped for line in secret_lines)


def test_registered_values_are_scrubbed_but_not_the_armour() -> None:
    key = tf.pbes1_pem(GOOD.key, PASSWORD)
    register_value(CLIENT, tf.client_secret(GOOD.cert_pem, key, PASSWORD))
    scrubbed = log.redact(f"password {PASSWORD} key {key}")
    assert PASSWORD not in scrubbed
    assert not any(line in scrubbed for line in key.splitlines()[1:-1])
    assert "-----BEGIN ENCRYPTED PRIVATE KEY-----" in scrubbed


def test_check_and_manual_steps() -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:client-cert-AbCdEf"
    material = analyse(CLIENT, tf.client_secret(GOOD.cert_pem, tf.pbes2_pem(GOOD.key, PASSWORD), PASSWORD))
    secret = Secret(arn=arn, access_type=CLIENT, name="client-cert", material=material)
    facts = factories.facts(
        esm=factories.esm(source_access=(SourceAccess(type=CLIENT, uri=arn),)), secrets=(secret,)
    )
    findings = secret_material(facts)
    assert [f.code for f in findings] == ["PRIVATE_KEY_PBES2"]
    assert findings[0].evidence.secret == arn
    text = steps_text(secret, {"PRIVATE_KEY_PBES2"})
    assert (
        "openssl pkcs8 -topk8 -v1 PBE-SHA1-DES -provider legacy -provider default -in key-pbes2.pem "
        "-passin file:key-password-old.txt" in text
    )
    assert "PBE-SHA1-3DES" not in text
    assert f"aws secretsmanager put-secret-value --secret-id {arn} --secret-string file://secret.json" in text
    assert PASSWORD not in text


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("PROBLEM: The certificate and/or private key must be in PEM format.", "certificate"),
        ("Provided certificate or private key is invalid", "certificate"),
        ("the private key must use a PBES1 algorithm, not PBES2", "certificate"),
        ("PROBLEM: SASL authentication failed.", "sasl"),
        (
            "Authentication failed during authentication due to invalid credentials with SASL mechanism",
            "sasl",
        ),
        ("PROBLEM: The provided Kafka broker endpoints cannot be resolved.", "dns"),
        ("No resolvable bootstrap urls given in bootstrap.servers", "dns"),
        (
            "PROBLEM: Server failed to authenticate Lambda, or Lambda failed to authenticate server.",
            "server-auth",
        ),
        ("SSL handshake failed: PKIX path building failed", "server-auth"),
        ("No subject alternative DNS name matching b-1.example found.", "server-auth"),
    ],
)
def test_error_text_hints(text: str, kind: str) -> None:
    hint = classify(text)
    assert hint is not None
    assert hint.kind == kind
