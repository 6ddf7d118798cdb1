"""The manual step for an mTLS client certificate no private CA of the cluster signed (issue 24, N6).

The certificate and its key are the user's: remediate never issues or stores one. The step names the two
ways AWS documents: issue the client certificate from one of the cluster's private CAs (ACM PCA
IssueCertificate, MSK developer guide "Set up a client to use authentication"), or add the issuing CA to the
cluster's trust store (MSK UpdateSecurity, ClientAuthentication.Tls.CertificateAuthorityArnList).
"""

from __future__ import annotations

from pydantic import BaseModel

from remediate.actions.base import Draft, ManualAction, register
from remediate.evidence import ClientCertificateUntrusted
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import ManualStep


@register
class ClientCertificateSteps(ManualAction):
    """Name the cluster's CAs and the commands that put a certificate they trust into the secret."""

    name = "client_certificate_steps"
    accepts = (ClientCertificateUntrusted,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, ClientCertificateUntrusted)
        ca = ev.ca_arns[0] if ev.ca_arns else "CA_ARN"
        text = (
            f"The brokers of {ev.cluster} trust client certificates from {', '.join(ev.ca_arns)} only; "
            f"secret {ev.secret} holds one issued by {ev.issuer}. Either issue a client certificate from one "
            f"of those CAs (`aws acm-pca issue-certificate --certificate-authority-arn {ca} --csr "
            "fileb://client.csr --signing-algorithm SHA256WITHRSA --validity Value=365,Type=DAYS`, then `aws "
            f"acm-pca get-certificate --certificate-authority-arn {ca} --certificate-arn CERT_ARN`) and "
            f"store it with its key (`aws secretsmanager put-secret-value --secret-id {ev.secret} "
            "--secret-string file://secret.json`, fields `certificate` and `privateKey`); or add the "
            f"issuing CA to the cluster (`aws kafka update-security --cluster-arn {ev.cluster} "
            "--current-version VERSION --client-authentication ...`, which lists every CA to keep)."
        )
        return [ManualStep(because=(finding.code,), text=text)]
