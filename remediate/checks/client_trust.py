"""The mapping's mTLS client certificate must chain to a private CA the MSK cluster trusts (issue 24, N6).

Lambda developer guide, "Configuring Amazon MSK cluster authentication methods in Lambda" (mTLS): "The
client certificate must be signed by a certificate authority (CA) in the server's trust store"; MSK developer
guide, "Mutual TLS client authentication for Amazon MSK": that trust store is the cluster's AWS Private CAs
(ClientAuthentication.Tls.CertificateAuthorityArnList). Lambda's Kafka troubleshooting page lists "the client
certificate isn't trusted by the Kafka broker" under "Server failed to authenticate Lambda".

A certificate chains when it, or an intermediate the secret carries after it, names a listed CA's subject as
its issuer, and (when both are present) its Authority Key Identifier is that CA's Subject Key Identifier
(RFC 5280, 4.2.1.1). A CA whose certificate the caller may not read is COULD_NOT_CHECK (`unchecked_reads`),
and nothing is concluded then.
"""

from __future__ import annotations

from remediate import kafka
from remediate.checks.base import check
from remediate.evidence import ClientCertificateUntrusted
from remediate.facts import CertificateInfo, Facts, PrivateCa
from remediate.findings import Finding


def _signs(ca: PrivateCa, cert: CertificateInfo) -> bool:
    if ca.subject != cert.issuer:
        return False
    return (
        cert.authority_key_id is None
        or ca.subject_key_id is None
        or cert.authority_key_id == ca.subject_key_id
    )


def trusted_by(chain: tuple[CertificateInfo, ...], cas: tuple[PrivateCa, ...]) -> PrivateCa | None:
    """The CA the chain's leaf (its first certificate) leads to, through the chain's own intermediates."""
    current: CertificateInfo | None = chain[0] if chain else None
    seen: set[str] = set()
    while current is not None and current.sha256 not in seen:
        seen.add(current.sha256)
        signer = next((ca for ca in cas if ca.subject and _signs(ca, current)), None)
        if signer is not None:
            return signer
        issuer = current.issuer
        current = next((c for c in chain if c.subject == issuer and c.sha256 not in seen), None)
    return None


@check("client_trust", "CLIENT_CERTIFICATE_UNTRUSTED")
def client_trust(facts: Facts) -> list[Finding]:
    """A CLIENT_CERTIFICATE_TLS_AUTH secret whose certificate no private CA of the cluster signed."""
    cluster = facts.cluster
    if cluster is None or cluster.private_cas is None:
        return []
    findings: list[Finding] = []
    readable = tuple(ca for ca in cluster.private_cas if ca.subject)
    refused = tuple(f"{ca.arn}: {ca.error}" for ca in cluster.private_cas if ca.error)
    for secret in facts.secrets:
        material = secret.material
        if secret.access_type != kafka.CLIENT_CERTIFICATE_TLS_AUTH or material is None:
            continue
        if not material.certificates or trusted_by(material.certificates, readable) is not None:
            continue
        leaf = material.certificates[0]
        names = ", ".join(ca.subject or ca.arn for ca in readable)
        also = f"; AWS refused {', '.join(refused)}" if refused else ""
        findings.append(
            Finding(
                code="CLIENT_CERTIFICATE_UNTRUSTED",
                summary=f"the client certificate in secret {secret.arn} ({leaf.subject}, issued by "
                f"{leaf.issuer}) does not chain to any private CA of MSK cluster "
                f"{cluster.name or cluster.arn} ({names or 'none readable'}{also}): the brokers refuse it",
                evidence=ClientCertificateUntrusted(
                    secret=secret.arn,
                    cluster=cluster.arn,
                    subject=leaf.subject,
                    issuer=leaf.issuer,
                    authority_key_id=leaf.authority_key_id,
                    ca_arns=cluster.tls_ca_arns,
                    ca_subjects=tuple(ca.subject for ca in readable if ca.subject),
                    ca_refused=refused,
                ),
            )
        )
    return findings
