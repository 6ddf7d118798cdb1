"""The private CAs of an mTLS cluster (issue 24, N6): each CA's certificate, read with ACM PCA
GetCertificateAuthorityCertificate, reduced to the public names a client certificate's chain is matched on.

MSK developer guide, "Mutual TLS client authentication for Amazon MSK": "To use client authentication, you
need an AWS Private CA. The AWS Private CA can be either in the same AWS account as your cluster, or in a
different account"; the cluster names them in ClientAuthentication.Tls.CertificateAuthorityArnList (MSK API
reference, Tls). Lambda developer guide, "Configuring Amazon MSK cluster authentication methods in Lambda":
the client certificate must be signed by a CA in the server's trust store.
"""

from __future__ import annotations

from typing import Any

from remediate.facts import PrivateCa

PERMISSIONS = ("acm-pca:GetCertificateAuthorityCertificate",)

REFUSALS = ("ResourceNotFoundException", "InvalidStateException", "InvalidArnException")
"""What GetCertificateAuthorityCertificate answers for a CA that is gone, not ACTIVE (no certificate yet),
or malformed (ACM PCA API reference, GetCertificateAuthorityCertificate, Errors): the CA trusts no one."""


def private_ca_from_api(arn: str, raw: dict[str, Any]) -> PrivateCa:
    """The CA's subject and key identifier from its PEM certificate (never its key, which ACM PCA keeps).
    cryptography is imported here, as for the secrets' material: only mTLS clusters need it, and a diagnosis
    of any other mapping starts faster without it."""
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID

    from remediate.observe.secret_material import key_identifier

    cert = x509.load_pem_x509_certificate(str(raw.get("Certificate", "")).encode())
    return PrivateCa(
        arn=arn,
        subject=cert.subject.rfc4514_string(),
        subject_key_id=key_identifier(cert, ExtensionOID.SUBJECT_KEY_IDENTIFIER),
    )
