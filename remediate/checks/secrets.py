"""Checks on the *values* of the ESM's secrets, from the analysis observation made in memory.

Observation reads each secret's value, runs `remediate.material.analyse` and keeps only the result
(`Secret.material`): which field is wrong and how, certificate subjects, dates and fingerprints. So
these checks see problems, never key bytes or passwords. SCRAM association, naming and KMS checks
live with the SASL checks (`checks/iam.py`); here only the value's shape is judged.
"""

from __future__ import annotations

from remediate.checks.base import check
from remediate.evidence import CertificateJson, MaterialProblemJson, SecretMaterialProblems
from remediate.facts import Facts, Secret
from remediate.findings import Finding

_WHAT = {
    "SECRET_NOT_PEM": "is not usable as TLS material",
    "PRIVATE_KEY_PBES2": "has a private key encrypted with PBES2, which Lambda cannot read (it needs PBES1)",
    "SASL_AUTH_FAILED": "is not a valid SASL credentials secret",
}


def _evidence(secret: Secret, code: str) -> SecretMaterialProblems:
    material = secret.material
    assert material is not None
    return SecretMaterialProblems(
        secret=secret.arn,
        access_type=secret.access_type,
        fields=material.fields,
        problems=tuple(
            MaterialProblemJson(field=p.field, detail=p.detail) for p in material.problems if p.code == code
        ),
        certificates=tuple(
            CertificateJson(subject=c.subject, issuer=c.issuer, not_after=c.not_after, sha256=c.sha256)
            for c in material.certificates
        ),
        key_algorithm=material.key_algorithm,
        key_encryption=material.key_encryption,
    )


# issue 24 (N9): a key under a PKCS#12 scheme (e.g. pbeWithSHAAnd3-KeyTripleDES-CBC) is outside what the
# Lambda guide documents ("Lambda supports the PBES1 (but not PBES2) private key encryption algorithms",
# https://docs.aws.amazon.com/lambda/latest/dg/kafka-cluster-auth.html), but whether Lambda's pollers read it
# is not published. While the mapping reports OK the key evidently works: re-encrypting it could only break
# it, so it is no finding then; otherwise it is reported, saying it is unverified.
UNDOCUMENTED_SCHEMES = frozenset({"pkcs12-pbe"})


def _trigger_works(facts: Facts) -> bool:
    """Whether Lambda reports the mapping's last processing as OK (it polled and authenticated)."""
    return facts.esm.last_processing_result.strip().upper().startswith("OK")


@check("secret_material", "SECRET_NOT_PEM", "PRIVATE_KEY_PBES2", "SASL_AUTH_FAILED")
def secret_material(facts: Facts) -> list[Finding]:
    """Each secret whose value Lambda would reject: one finding per secret and finding code."""
    findings: list[Finding] = []
    works = _trigger_works(facts)
    for secret in facts.secrets:
        material = secret.material
        if material is None:
            continue
        problems = [p for p in material.problems if not (works and p.kind in UNDOCUMENTED_SCHEMES)]
        for code in dict.fromkeys(p.code for p in problems):
            details = [p.detail for p in problems if p.code == code]
            findings.append(
                Finding(
                    code=code,
                    summary=f"secret {secret.name or secret.arn} ({secret.access_type}) {_WHAT[code]}: "
                    + "; ".join(details),
                    evidence=_evidence(secret, code),
                )
            )
    return findings
