"""replace_secret_value: the exact commands to repair a secret's value and store it again.

remediate never reads a fix into a secret: the value is the user's key material, and writing it would
put it in a plan. So this action only plans manual steps: openssl commands for each problem found,
then building the JSON from files and `aws secretsmanager put-secret-value` from a file, so neither
the key nor its password ever appears on a command line or in shell history. No apply, no verify.
"""

from __future__ import annotations

from pydantic import BaseModel

from remediate.actions.base import Draft, ManualAction, register
from remediate.evidence import SecretMaterialProblems
from remediate.facts import Facts, Secret
from remediate.findings import Finding
from remediate.plan import ManualStep

# Encrypting with PBES1, the only encryption the Lambda guide documents for privateKey (RFC 8018 section
# 6.1: `-v1 PBE-SHA1-DES` writes pbeWithSHA1AndDES-CBC; `PBE-SHA1-3DES` would write a PKCS#12 scheme, not
# PBES1). OpenSSL 3 keeps PBES1's DES in its legacy provider, hence the two -provider options (drop them
# with OpenSSL 1.1, which has no providers). openssl reads the first line of a file given to both -passin
# and -passout as the input password and the second as the output one, so the old password is copied to a
# file of its own. Checked against the openssl binary by the test suite.
PBES1_ENCRYPT = "openssl pkcs8 -topk8 -v1 PBE-SHA1-DES -provider legacy -provider default"

# One command (or instruction) per problem kind; files are named for what they should end up holding.
_COMMANDS: dict[str, str] = {
    "der-not-pem": "openssl x509 -inform DER -in client.der -out client.pem   "
    "# a DER key: openssl pkcs8 -topk8 -inform DER -in key.der -nocrypt -out key.pem",
    "escaped-newlines": "write each PEM to a file as it is (real line breaks) and build the JSON with jq "
    "as below instead of pasting PEM text into JSON by hand",
    "traditional-key": "openssl pkcs8 -topk8 -nocrypt -in key-traditional.pem -out key.pem   "
    f"# or encrypted with PBES1: {PBES1_ENCRYPT} -in key-traditional.pem -out key.pem "
    "-passout file:key-password.txt",
    "pbes2": f"cp key-password.txt key-password-old.txt; {PBES1_ENCRYPT} -in key-pbes2.pem "
    "-passin file:key-password-old.txt -out key.pem -passout file:key-password.txt",
    "pkcs12-pbe": f"cp key-password.txt key-password-old.txt; {PBES1_ENCRYPT} -in key-pkcs12.pem "
    "-passin file:key-password-old.txt -out key.pem -passout file:key-password.txt",
    "key-mismatch": "find the key that belongs to the certificate: the two digests must be equal: "
    "openssl x509 -in client.pem -noout -pubkey | openssl sha256; "
    "openssl pkey -provider legacy -provider default -in key.pem -passin file:key-password.txt -pubout "
    "| openssl sha256",
    "chain-order": "cat client-only.pem intermediate.pem > client.pem   # the client certificate first, "
    "then each issuer",
    "expired": "issue a new client certificate from your CA (the old one has expired), then check it: "
    "openssl x509 -in client.pem -noout -subject -dates",
    "not-yet-valid": "check the certificate's dates and the issuing host's clock: "
    "openssl x509 -in client.pem -noout -dates",
    "wrong-password": "check the password file decrypts the key: "
    "openssl pkey -provider legacy -provider default -in key.pem -passin file:key-password.txt -noout",
    "missing-password": "put the key's password in key-password.txt (the JSON needs privateKeyPassword)",
    "not-ca": "keep only CA certificates in the bundle: openssl x509 -in ca.pem -noout -text | "
    "grep -A1 'Basic Constraints'",
}
_CHECK = "openssl x509 -in client.pem -noout -text   # must print the certificate"


def _build_json(secret: Secret, encrypted: bool) -> list[str]:
    material = secret.material
    assert material is not None
    if material.kind == "credentials":
        return [
            "printf '%s' 'USERNAME' > username.txt; "
            "read -rs PASSWORD; printf '%s' \"$PASSWORD\" > password.txt   # printf is a shell builtin",
            "jq -n --rawfile username username.txt --rawfile password password.txt "
            "'{username: $username, password: $password}' > secret.json",
        ]
    if material.kind == "root-ca":
        return ["jq -n --rawfile certificate ca.pem '{certificate: $certificate}' > secret.json"]
    if encrypted:
        return [
            "jq -n --rawfile certificate client.pem --rawfile privateKey key.pem "
            "--rawfile privateKeyPassword key-password.txt "
            "'{certificate: $certificate, privateKey: $privateKey, "
            'privateKeyPassword: ($privateKeyPassword | rtrimstr("\\n"))}\' > secret.json'
        ]
    return [
        "jq -n --rawfile certificate client.pem --rawfile privateKey key.pem "
        "'{certificate: $certificate, privateKey: $privateKey}' > secret.json"
    ]


def steps_text(secret: Secret, codes: set[str]) -> str:
    """The manual steps for one secret's problems with the given finding codes."""
    material = secret.material
    assert material is not None
    problems = [p for p in material.problems if p.code in codes]
    encrypted = material.key_encryption not in (None, "none") or any(
        p.kind in ("pbes2", "pkcs12-pbe", "missing-password", "wrong-password") for p in problems
    )
    lines = [f"Repair secret {secret.arn} ({secret.access_type}):"]
    lines += [f"  - {p.detail}" for p in problems]
    lines.append("Fix the material in files, then store it again (the value never goes on a command line):")
    commands = list(dict.fromkeys(_COMMANDS[p.kind] for p in problems if p.kind in _COMMANDS))
    if material.kind != "credentials":
        commands.append(_CHECK)
    commands += _build_json(secret, encrypted)
    commands += [
        f"aws secretsmanager put-secret-value --secret-id {secret.arn} --secret-string file://secret.json",
        "shred -u secret.json key-password.txt key-password-old.txt password.txt 2>/dev/null; true",
    ]
    lines += [f"  {n}. {c}" for n, c in enumerate(commands, 1)]
    return "\n".join(lines)


@register
class ReplaceSecretValue(ManualAction):
    """Manual steps to repair and store a secret's value (remediate never writes secret values)."""

    name = "replace_secret_value"
    accepts = (SecretMaterialProblems,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        if not isinstance(finding.evidence, SecretMaterialProblems):
            return []
        arn = finding.evidence.secret
        secret = next((s for s in facts.secrets if s.arn == arn and s.material is not None), None)
        # Other checks report the same codes about a secret (e.g. SASL_AUTH_FAILED for a SCRAM secret
        # not associated with the cluster): only problems found in the value itself need a new value.
        if secret is None or secret.material is None:
            return []
        if not any(p.code == finding.code for p in secret.material.problems):
            return []
        return [ManualStep(because=(finding.code,), text=steps_text(secret, {finding.code}))]
