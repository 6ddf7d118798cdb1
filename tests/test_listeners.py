"""Unit tests (issue 21, item 5): which clusters leave a secret-less mapping without a listener."""

from __future__ import annotations

import pytest

from remediate import kafka
from remediate.checks import run_check
from remediate.facts import ClusterAuth, Facts
from tests import factories


def with_cluster(encryption: str | None, **auth: bool) -> Facts:
    f = factories.facts()
    assert f.cluster is not None
    cluster = f.cluster.model_copy(
        update={"auth": ClusterAuth(**auth), "client_broker_encryption": encryption}
    )
    return f.model_copy(update={"cluster": cluster})


@pytest.mark.parametrize(
    ("encryption", "auth", "expected"),
    [
        # ClientBroker TLS: "client-broker communication is enabled with TLS only" (no 9092 listener).
        ("TLS", {"scram": True}, (("sasl-scram",), (9096,))),
        ("TLS", {"tls": True}, (("mtls",), (9094,))),
        ("TLS", {"scram": True, "tls": True}, (("sasl-scram", "mtls"), (9096, 9094))),
        # A listener a mapping without a secret can use: IAM, unauthenticated TLS, plaintext.
        ("TLS", {"scram": True, "iam": True}, None),
        ("TLS", {"scram": True, "unauthenticated": True}, None),
        ("TLS_PLAINTEXT", {"scram": True}, None),
    ],
)
def test_secret_missing_only_where_no_listener_is_left(
    encryption: str, auth: dict[str, bool], expected: tuple[tuple[str, ...], tuple[int, ...]] | None
) -> None:
    found = run_check("listeners", with_cluster(encryption, **auth))
    if expected is None:
        assert found == []
        return
    [finding] = found
    assert (finding.evidence.offered, finding.evidence.ports) == expected  # type: ignore[attr-defined]
    assert "9092" not in finding.summary


def test_no_listener_means_no_port_and_no_bootstrap() -> None:
    f = with_cluster("TLS", scram=True)
    assert f.cluster is not None
    assert kafka.msk_auth_mode(f.esm, f.cluster) is None
    assert kafka.broker_ports(f.esm, f.cluster) == ()
