"""The TLS probe against real loopback servers (127.0.0.1 only), the server_auth check, and
`remediate diagnose --probe` end to end. Outcomes are asserted, never durations."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator

import pytest

from remediate.checks.server_auth import server_auth
from remediate.facts import ClusterAuth, SourceAccess
from remediate.kafka import uses_tls
from remediate.observe.probe import probe_all
from remediate.sandbox import Sandbox, build_scenario
from tests import factories
from tests import tls_factory as tf
from tests.conftest import CliRunner

ROOT = tf.ca()
OTHER = tf.ca("Unknown CA")


def _identity(issuer: tf.Issued, *names: str, expired: bool = False) -> tf.Issued:
    if expired:
        return tf.leaf(
            issuer,
            "localhost",
            dns_names=names,
            not_before=tf.NOW - datetime.timedelta(days=9),
            not_after=tf.NOW - datetime.timedelta(days=1),
        )
    return tf.leaf(issuer, "localhost", dns_names=names)


@pytest.fixture(scope="module")
def brokers() -> Iterator[dict[str, str]]:
    servers = {
        "ok": tf.LoopbackServer(_identity(ROOT, "localhost")),
        "hostname-mismatch": tf.LoopbackServer(_identity(ROOT, "broker.elsewhere.example")),
        "unknown-ca": tf.LoopbackServer(_identity(OTHER, "localhost")),
        "expired": tf.LoopbackServer(_identity(ROOT, "localhost", expired=True)),
        "silent": tf.LoopbackServer(),
    }
    addresses = {name: f"localhost:{s.port}" for name, s in servers.items()}
    addresses["refused"] = f"127.0.0.1:{tf.closed_port()}"
    yield addresses
    for server in servers.values():
        server.close()


def test_each_outcome_is_told_apart(brokers: dict[str, str]) -> None:
    probes = probe_all(brokers.values(), tls=True, ca_pem=ROOT.cert_pem, ca_source="test CA", timeout=1.0)
    outcome = {p.server: p.outcome for p in probes}
    expected = {**{v: k for k, v in brokers.items()}, brokers["silent"]: "timeout"}
    assert outcome == expected
    mismatch = next(p for p in probes if p.outcome == "hostname-mismatch")
    assert mismatch.peer_names == ("broker.elsewhere.example",)


def test_system_store_does_not_trust_a_private_ca(brokers: dict[str, str]) -> None:
    (probe,) = probe_all(
        [brokers["ok"]], tls=True, ca_pem=None, ca_source="the system trust store", timeout=2.0
    )
    assert probe.outcome == "unknown-ca"


def test_plaintext_listener_is_only_connected(brokers: dict[str, str]) -> None:
    probes = probe_all(
        [brokers["silent"], brokers["refused"]], tls=False, ca_pem=None, ca_source="", timeout=1.0
    )
    assert [p.outcome for p in probes] == ["ok", "refused"]


def test_uses_tls() -> None:
    msk = factories.facts()  # an IAM cluster: SASL/IAM over TLS on 9098
    assert uses_tls(msk.esm, msk.cluster)
    assert msk.cluster is not None
    plaintext = msk.cluster.model_copy(
        update={"auth": ClusterAuth(unauthenticated=True), "client_broker_encryption": "PLAINTEXT"}
    )
    assert not uses_tls(msk.esm, plaintext)
    plain = factories.esm(source_kind="self-managed", event_source_arn=None)
    assert not uses_tls(plain, None)
    ca = SourceAccess(type="SERVER_ROOT_CA_CERTIFICATE", uri="arn:aws:secretsmanager:us-east-1:1:secret:ca")
    assert uses_tls(
        factories.esm(source_kind="self-managed", event_source_arn=None, source_access=(ca,)), None
    )


def test_check_maps_outcomes_to_codes(brokers: dict[str, str]) -> None:
    probes = probe_all(brokers.values(), tls=True, ca_pem=ROOT.cert_pem, ca_source="test CA", timeout=1.0)
    findings = server_auth(factories.facts(tls_probes=probes))
    by_server = {f.evidence.server: (f.code, f.evidence.outcome) for f in findings}
    assert by_server == {
        brokers["hostname-mismatch"]: ("SERVER_AUTH_FAILED", "hostname-mismatch"),
        brokers["unknown-ca"]: ("SERVER_AUTH_FAILED", "unknown-ca"),
        brokers["expired"]: ("SERVER_AUTH_FAILED", "expired"),
        brokers["silent"]: ("COULD_NOT_CHECK", "timeout"),
        brokers["refused"]: ("COULD_NOT_CHECK", "refused"),
    }
    assert server_auth(factories.facts()) == []  # no --probe, nothing to say


def test_diagnose_probe_end_to_end(sandbox: Sandbox, cli: CliRunner, brokers: dict[str, str]) -> None:
    servers = tuple(brokers[k] for k in ("ok", "hostname-mismatch", "unknown-ca", "expired", "refused"))
    scn = build_scenario(
        sandbox,
        "self-managed-healthy",
        name="probe",
        self_managed_servers=servers,
        root_ca_certificate=ROOT.cert_pem,
    )
    quiet = cli("diagnose", "--esm", scn.esm_uuid, "--output", "json")
    assert quiet.returncode == 0, quiet.stderr
    assert not [f for f in json.loads(quiet.stdout)["findings"] if f["code"] == "SERVER_AUTH_FAILED"]

    result = cli("diagnose", "--esm", scn.esm_uuid, "--probe", "--probe-timeout", "2", "--output", "json")
    assert result.returncode == 0, result.stderr
    seen = {
        f["evidence"]["server"]: (f["code"], f["evidence"]["outcome"])
        for f in json.loads(result.stdout)["findings"]
        if "outcome" in f["evidence"]
    }
    assert seen == {
        brokers["hostname-mismatch"]: ("SERVER_AUTH_FAILED", "hostname-mismatch"),
        brokers["unknown-ca"]: ("SERVER_AUTH_FAILED", "unknown-ca"),
        brokers["expired"]: ("SERVER_AUTH_FAILED", "expired"),
        brokers["refused"]: ("COULD_NOT_CHECK", "refused"),
    }
    text = cli("plan", "--esm", scn.esm_uuid)
    assert text.returncode == 0, text.stderr
