"""The manual step for a mapping that names no secret on a cluster whose listeners all need one (issue 21).

The secret's value is the user's (credentials or a certificate from the cluster's CA): remediate never
makes one up, so the fix is a step naming the type, the port and the commands.
"""

from __future__ import annotations

from pydantic import BaseModel

from remediate.actions.base import Draft, ManualAction, register
from remediate.evidence import SecretMissing
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import ManualStep

_HOW = {
    "SASL_SCRAM_512_AUTH": (
        'a secret named `AmazonMSK_...` holding `{{"username": ..., "password": ...}}`, encrypted with a '
        "customer managed KMS key and associated with the cluster (`aws kafka batch-associate-scram-secret "
        "--cluster-arn {cluster} --secret-arn-list SECRET_ARN`)"
    ),
    "CLIENT_CERTIFICATE_TLS_AUTH": (
        "a secret holding `certificate` and `privateKey` (PEM; the key unencrypted or PBES1) signed by a "
        "certificate authority in the cluster's trust store"
    ),
}
"""MSK developer guide, "Sign-in credentials authentication with AWS Secrets Manager" (AmazonMSK_ prefix,
customer managed key, association); Lambda developer guide, "Configuring Amazon MSK cluster authentication
methods in Lambda" (the mTLS secret's fields, PBES1)."""


@register
class SecretMissingSteps(ManualAction):
    """Name the secret the mapping needs and how to add it; the execution role must read it too."""

    name = "secret_missing_steps"
    accepts = (SecretMissing,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, SecretMissing)
        options = "; or ".join(
            f"{_HOW[t].format(cluster=ev.cluster)}, as `Type={t}` (port {p})"
            for t, p in zip(ev.secret_types, ev.ports, strict=True)
        )
        text = (
            f"Give ESM {facts.esm.uuid} the secret its cluster requires: {options}. Then allow the execution "
            "role `secretsmanager:GetSecretValue` on it (and `kms:Decrypt` on its key), and add it: `aws "
            f"lambda update-event-source-mapping --uuid {facts.esm.uuid} --source-access-configurations "
            "Type=TYPE,URI=SECRET_ARN`; `remediate plan` then checks the secret, its association and the "
            "port."
        )
        return [ManualStep(because=(finding.code,), text=text)]
