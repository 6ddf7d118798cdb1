"""Listeners as the cluster offers them (issue 21, item 5): a mapping must be able to use one of them.

Lambda picks an MSK listener from the mapping's secret and the cluster's authentication ("How Lambda
chooses a bootstrap broker", Lambda developer guide, "Configuring Amazon MSK cluster authentication methods
in Lambda"). A cluster that offers only SASL/SCRAM or only mTLS (no IAM, no unauthenticated access) has no
listener for a mapping without a secret: the cause is the missing secret, and no port rule can fix it.
"""

from __future__ import annotations

from remediate import kafka
from remediate.checks.base import check
from remediate.evidence import SecretMissing
from remediate.facts import Facts
from remediate.findings import Finding

_SECRET = {
    "sasl-scram": (kafka.SASL_SCRAM_512_AUTH, kafka.PORT["scram"]),
    "mtls": (kafka.CLIENT_CERTIFICATE_TLS_AUTH, kafka.PORT["mtls"]),
}
"""Lambda API reference, SourceAccessConfiguration: SASL_SCRAM_512_AUTH and CLIENT_CERTIFICATE_TLS_AUTH
name the secret of each method; MSK developer guide, "Port information": 9096 SASL/SCRAM, 9094 TLS."""


@check("listeners", "ESM_SECRET_MISSING")
def listeners(facts: Facts) -> list[Finding]:
    """An MSK cluster whose every listener needs a secret, and a mapping that names none."""
    cluster, esm = facts.cluster, facts.esm
    if esm.source_kind != "msk" or cluster is None or facts.vpc_connection is not None:
        return []
    if kafka.msk_auth_mode(esm, cluster) is not None:
        return []
    offered = tuple(m for m, on in (("sasl-scram", cluster.auth.scram), ("mtls", cluster.auth.tls)) if on)
    if not offered:
        return []
    types = tuple(_SECRET[m][0] for m in offered)
    ports = tuple(_SECRET[m][1] for m in offered)
    ways = " or ".join(f"a {t} secret (port {p})" for t, p in zip(types, ports, strict=True))
    return [
        Finding(
            code="ESM_SECRET_MISSING",
            summary=f"MSK cluster {cluster.name or cluster.arn} accepts only "
            f"{' and '.join(m.replace('sasl-scram', 'SASL/SCRAM').replace('mtls', 'mTLS') for m in offered)} "
            f"clients, and the mapping names no secret: Lambda has no listener it can use. Add {ways} to "
            "the mapping; no port is opened for a listener the cluster does not have",
            evidence=SecretMissing(
                cluster=cluster.arn,
                offered=offered,
                secret_types=types,
                ports=ports,
                client_broker=cluster.client_broker_encryption,
            ),
        )
    ]
