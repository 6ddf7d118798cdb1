"""Analyse a secret's value in memory and keep only what the checks need: never the value itself.

Lambda reads an ESM's authentication secret as JSON: `certificate` (PEM, client certificate first,
then its chain), `privateKey` (PEM, PKCS#8, unencrypted or encrypted with PBES1) and
`privateKeyPassword` for CLIENT_CERTIFICATE_TLS_AUTH; `certificate` (a PEM CA bundle) for
SERVER_ROOT_CA_CERTIFICATE; `username` and `password` for SASL/SCRAM and BASIC_AUTH. AWS only says
"certificate or private key is invalid"; this module says which field, which PEM line, and why.

`analyse` is pure (value and time in, `SecretMaterial` out). Every problem's `detail` is written from
structure (field names, line numbers, labels, OIDs, certificate subjects) and never quotes the value,
so a problem can be logged and shown. `register` hands the value's secret parts to the log scrubber.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.x509.oid import ExtensionOID

from remediate.facts import CertificateInfo, MaterialProblem, SecretMaterial
from remediate.kafka import CLIENT_CERTIFICATE_TLS_AUTH, CREDENTIAL_TYPES
from remediate.log import register_secret

NOT_PEM = "SECRET_NOT_PEM"
PBES2 = "PRIVATE_KEY_PBES2"
SASL = "SASL_AUTH_FAILED"

PBES2_OID = "1.2.840.113549.1.5.13"
# What Lambda accepts for an encrypted key: "Lambda supports the PBES1 (but not PBES2) private key
# encryption algorithms" (Lambda developer guide, "Configuring cluster authentication methods in Lambda",
# client certificate secret, https://docs.aws.amazon.com/lambda/latest/dg/kafka-cluster-auth.html), PBES1
# being the scheme of RFC 2898 / RFC 8018 section 6.1, whose algorithms are exactly these six
# ("pbeWithMD2AndDES-CBC OBJECT IDENTIFIER ::= {pkcs-5 1}" ... RFC 8018 appendix A.3).
PBES1_OIDS: dict[str, str] = {
    "1.2.840.113549.1.5.1": "pbeWithMD2AndDES-CBC",
    "1.2.840.113549.1.5.4": "pbeWithMD2AndRC2-CBC",
    "1.2.840.113549.1.5.3": "pbeWithMD5AndDES-CBC",
    "1.2.840.113549.1.5.6": "pbeWithMD5AndRC2-CBC",
    "1.2.840.113549.1.5.10": "pbeWithSHA1AndDES-CBC",
    "1.2.840.113549.1.5.11": "pbeWithSHA1AndRC2-CBC",
}
# The PKCS#12 password-based schemes (RFC 7292 appendix C; `openssl pkcs8 -v1 PBE-SHA1-3DES` writes the
# first 3DES one) are not PBES1: the Lambda guide documents none of them, so a key using one is reported
# as outside what is documented (Lambda may or may not read it: nothing published says).
PKCS12_PBE_OIDS: dict[str, str] = {
    "1.2.840.113549.1.12.1.1": "pbeWithSHAAnd128BitRC4",
    "1.2.840.113549.1.12.1.2": "pbeWithSHAAnd40BitRC4",
    "1.2.840.113549.1.12.1.3": "pbeWithSHAAnd3-KeyTripleDES-CBC",
    "1.2.840.113549.1.12.1.4": "pbeWithSHAAnd2-KeyTripleDES-CBC",
    "1.2.840.113549.1.12.1.5": "pbeWithSHAAnd128BitRC2-CBC",
    "1.2.840.113549.1.12.1.6": "pbewithSHAAnd40BitRC2-CBC",
}
_PBES2_CIPHERS = {
    "2.16.840.1.101.3.4.1.2": "aes-128-cbc",
    "2.16.840.1.101.3.4.1.22": "aes-192-cbc",
    "2.16.840.1.101.3.4.1.42": "aes-256-cbc",
    "1.2.840.113549.3.7": "des-ede3-cbc",
    "1.3.14.3.2.7": "des-cbc",
}

_ARMOUR = re.compile(r"^-----(BEGIN|END) ([A-Z0-9 ]+)-----$")
_BASE64_LINE = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_FIELD_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


# --- registering secret values with the log scrubber -------------------------------------------------


def register(text: str) -> None:
    """Have the log scrubber mask `text` everywhere; for PEM, mask the base64 body, not the armour.

    `log.register_secret` also registers every line of what it is given: fed a PEM block, it would
    mask "-----BEGIN PRIVATE KEY-----" in every later message, including our own advice.
    """
    lines = text.splitlines()
    if not any(_ARMOUR.match(line.strip()) for line in lines):
        register_secret(text)
        return
    for line in lines:
        stripped = line.strip()
        if stripped and not _ARMOUR.match(stripped) and ":" not in stripped:
            register_secret(stripped)


def register_value(access_type: str, value: str) -> None:
    """Register a secret's whole value and its secret fields (decoded, so PEM lines match)."""
    register(value)
    try:
        doc = json.loads(value)
    except ValueError:
        return
    if not isinstance(doc, dict):
        return
    secret_fields = ("privateKey", "privateKeyPassword", "password")
    for name in secret_fields:
        field = doc.get(name)
        if isinstance(field, str) and field:
            register(field)


# --- a minimal DER reader: enough to name the algorithm of an EncryptedPrivateKeyInfo ---------------


def _tlv(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at `offset`; ValueError if truncated."""
    if offset + 2 > len(data):
        raise ValueError("truncated DER")
    tag, length = data[offset], data[offset + 1]
    start = offset + 2
    if length & 0x80:
        size = length & 0x7F
        if size == 0 or size > 4 or start + size > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[start : start + size], "big")
        start += size
    if start + length > len(data):
        raise ValueError("truncated DER")
    return tag, start, start + length


def _oid(data: bytes) -> str:
    first = data[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in data[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)


def _algorithm(der: bytes, offset: int) -> tuple[str, int, int]:
    """The OID of the AlgorithmIdentifier at `offset`, and the span of its parameters."""
    tag, start, end = _tlv(der, offset)
    if tag != 0x30:
        raise ValueError("not an AlgorithmIdentifier")
    tag, oid_start, oid_end = _tlv(der, start)
    if tag != 0x06:
        raise ValueError("no algorithm OID")
    return _oid(der[oid_start:oid_end]), oid_end, end


def encryption_scheme(der: bytes) -> tuple[str, str]:
    """("PBES1" | "PKCS12" | "PBES2" | "unknown", description) of a DER EncryptedPrivateKeyInfo."""
    tag, start, _end = _tlv(der, 0)
    if tag != 0x30:
        raise ValueError("not a SEQUENCE")
    oid, params, _ = _algorithm(der, start)
    if oid in PBES1_OIDS:
        return "PBES1", f"PBES1 ({PBES1_OIDS[oid]})"
    if oid in PKCS12_PBE_OIDS:
        return "PKCS12", f"the PKCS#12 scheme {PKCS12_PBE_OIDS[oid]}"
    if oid == PBES2_OID:
        tag, inner, _ = _tlv(der, params)
        _kdf, _kdf_params, kdf_end = _algorithm(der, inner)
        cipher, _, _ = _algorithm(der, kdf_end)
        return "PBES2", f"PBES2 (PBKDF2, {_PBES2_CIPHERS.get(cipher, cipher)})"
    return "unknown", f"an unknown scheme (OID {oid})"


_PBES1_HASHES = {"MD2": "md2", "MD5": "md5", "SHA1": "sha1"}


def pbes1_decrypt(der: bytes, password: bytes) -> bytes | None:
    """The PrivateKeyInfo DER inside a PBES1 EncryptedPrivateKeyInfo, or None when this machine cannot
    run its algorithm (MD2, and RC2 with a 64-bit key, which `cryptography` does not offer).

    RFC 8018 section 6.1.2: DK = PBKDF1(P, S, c, 16), with T_1 = Hash(P || S) and T_i = Hash(T_i-1); the
    DES (or RC2) key is DK<0..7> and the CBC IV DK<8..15>; the padding is 1 to 8 octets of its own length.
    ValueError when the password does not decrypt it (the padding does not check out).
    """
    _, start, _ = _tlv(der, 0)
    oid, params, _ = _algorithm(der, start)
    name = PBES1_OIDS[oid]
    digest = _PBES1_HASHES[name.removeprefix("pbeWith").split("And")[0]]
    if digest not in hashlib.algorithms_available or "RC2" in name:
        return None
    _, p_start, _ = _tlv(der, params)
    _, salt_start, salt_end = _tlv(der, p_start)
    _, count_start, count_end = _tlv(der, salt_end)
    salt = der[salt_start:salt_end]
    count = int.from_bytes(der[count_start:count_end], "big")
    _, data_start, data_end = _tlv(der, _tlv(der, start)[2])
    block = hashlib.new(digest, password + salt).digest()
    for _ in range(count - 1):
        block = hashlib.new(digest, block).digest()
    key, iv = block[:8], block[8:16]
    decryptor = Cipher(TripleDES(key * 3), modes.CBC(iv)).decryptor()  # single DES: K1 = K2 = K3
    plain = decryptor.update(der[data_start:data_end]) + decryptor.finalize()
    pad = plain[-1] if plain else 0
    if not 1 <= pad <= 8 or plain[-pad:] != bytes([pad]) * pad:
        raise ValueError("bad PBES1 padding")
    return plain[:-pad]


# --- PEM armour ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PemBlock:
    label: str
    der: bytes
    headers: tuple[str, ...]
    first_line: int


def _looks_like_der(text: str) -> bool:
    """Base64 of DER (a SEQUENCE) without PEM armour: the commonest "not PEM" mistake."""
    compact = "".join(text.split())
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) > 16 and raw[0] == 0x30


def parse_pem(text: str, field: str) -> tuple[list[PemBlock], list[tuple[str, str]]]:
    """The PEM blocks of `text` and, if any, (kind, what) is wrong with its armour, by line number."""
    if "\\n" in text and "\n" not in text.strip():
        return [], [
            (
                "escaped-newlines",
                f"{field} has literal '\\n' sequences instead of line breaks (the PEM was escaped twice "
                "when the JSON was built)",
            )
        ]
    if "-----BEGIN" not in text:
        if _looks_like_der(text):
            return [], [
                (
                    "der-not-pem",
                    f"{field} is base64 DER without PEM armour: DER was given instead of PEM "
                    "(no -----BEGIN ...----- line)",
                )
            ]
        return [], [("no-pem", f"{field} holds no PEM block (no -----BEGIN ...----- line)")]
    blocks: list[PemBlock] = []
    errors: list[tuple[str, str]] = []
    label: str | None = None
    body: list[str] = []
    headers: list[str] = []
    start = 0
    corrupt = False  # a line of the open block was already reported
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        armour = _ARMOUR.match(line)
        if line.startswith("-----") and not armour:
            errors.append(("armour", f"{field} line {number}: malformed PEM armour line"))
            continue
        if armour and armour.group(1) == "BEGIN":
            if label is not None:
                errors.append(
                    ("armour", f"{field} line {number}: BEGIN {armour.group(2)} inside an open {label} block")
                )
            label, body, headers, start, corrupt = armour.group(2), [], [], number, False
            continue
        if armour:
            end_label = armour.group(2)
            if label is None:
                errors.append(("armour", f"{field} line {number}: END {end_label} without a BEGIN line"))
            elif end_label != label:
                errors.append(
                    ("armour", f"{field} line {number}: END {end_label} closes a BEGIN {label} block")
                )
            elif not corrupt:
                try:
                    der = base64.b64decode("".join(body), validate=True)
                except (binascii.Error, ValueError):
                    errors.append(
                        (
                            "armour",
                            f"{field} lines {start + 1}-{number - 1}: the base64 body of {label} is corrupt",
                        )
                    )
                else:
                    blocks.append(PemBlock(label, der, tuple(headers), start))
            label = None
            continue
        if label is None:
            errors.append(("armour", f"{field} line {number}: text outside any BEGIN/END block"))
        elif ":" in line and not body:
            headers.append(line.split(":", 1)[0])
        elif not _BASE64_LINE.match(line):
            errors.append(("armour", f"{field} line {number}: not base64 (inside {label})"))
            corrupt = True
        else:
            body.append(line)
    if label is not None:
        errors.append(("armour", f"{field} line {start}: BEGIN {label} has no END line"))
    return blocks, errors


# --- certificates and keys ---------------------------------------------------------------------------


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def certificate_info(cert: x509.Certificate) -> CertificateInfo:
    try:
        constraints = cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
        is_ca = bool(getattr(constraints, "ca", False))
    except x509.ExtensionNotFound:
        is_ca = False
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        names = tuple(san.get_values_for_type(x509.DNSName))  # type: ignore[attr-defined]
    except x509.ExtensionNotFound:
        names = ()
    return CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=format(cert.serial_number, "x"),
        not_before=_rfc3339(cert.not_valid_before_utc),
        not_after=_rfc3339(cert.not_valid_after_utc),
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
        is_ca=is_ca,
        dns_names=names,
        authority_key_id=key_identifier(cert, ExtensionOID.AUTHORITY_KEY_IDENTIFIER),
        subject_key_id=key_identifier(cert, ExtensionOID.SUBJECT_KEY_IDENTIFIER),
    )


def key_identifier(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    """The certificate's Authority or Subject Key Identifier in hex (issue 24, N6): public, and what ties
    a certificate to the CA key that signed it (RFC 5280, 4.2.1.1 and 4.2.1.2)."""
    try:
        value = cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None
    found = getattr(value, "key_identifier", None) or getattr(value, "digest", None)
    return found.hex() if isinstance(found, bytes) else None


def _key_algorithm(key: Any) -> str:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, dsa.DSAPrivateKey | dsa.DSAPublicKey):
        return f"DSA {key.key_size}"
    return type(key).__name__


def _spki(public_key: Any) -> bytes:
    der: bytes = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der


def _load_certificates(
    text: str, field: str, now: datetime, problems: list[MaterialProblem]
) -> list[x509.Certificate]:
    """The certificates of a PEM field, each problem with its armour, DER, label or validity period."""
    blocks, errors = parse_pem(text, field)
    problems.extend(MaterialProblem(code=NOT_PEM, field=field, kind=k, detail=e) for k, e in errors)
    certs: list[x509.Certificate] = []
    for index, block in enumerate(blocks, 1):
        if block.label != "CERTIFICATE":
            problems.append(
                MaterialProblem(
                    kind="wrong-block",
                    code=NOT_PEM,
                    field=field,
                    detail=f"{field} block {index} (line {block.first_line}) is a {block.label}, "
                    "not a CERTIFICATE",
                )
            )
            continue
        try:
            certs.append(x509.load_der_x509_certificate(block.der))
        except ValueError:
            problems.append(
                MaterialProblem(
                    kind="invalid-certificate",
                    code=NOT_PEM,
                    field=field,
                    detail=f"{field} block {index} (line {block.first_line}) is not a valid X.509 "
                    "certificate",
                )
            )
    if not certs and not problems:
        problems.append(
            MaterialProblem(
                kind="no-certificate", code=NOT_PEM, field=field, detail=f"{field} holds no certificate"
            )
        )
    for index, cert in enumerate(certs, 1):
        subject = cert.subject.rfc4514_string() or "(empty subject)"
        if cert.not_valid_after_utc < now:
            problems.append(
                MaterialProblem(
                    kind="expired",
                    code=NOT_PEM,
                    field=field,
                    detail=f"certificate {index} ({subject}) expired on {_rfc3339(cert.not_valid_after_utc)}",
                )
            )
        elif cert.not_valid_before_utc > now:
            problems.append(
                MaterialProblem(
                    kind="not-yet-valid",
                    code=NOT_PEM,
                    field=field,
                    detail=f"certificate {index} ({subject}) is not valid before "
                    f"{_rfc3339(cert.not_valid_before_utc)}",
                )
            )
    return certs


def family_of(encryption: str | None) -> str:
    """The family named at the start of a `_Key.encryption` description ("PBES1 (...)" -> "PBES1")."""
    return (encryption or "").split(" ", 1)[0]


@dataclass
class _Key:
    public: Any = None
    algorithm: str | None = None
    encryption: str | None = None


def _load_key(text: str, password: str | None, problems: list[MaterialProblem]) -> _Key:
    """The private key's public half and encryption scheme; problems for anything Lambda refuses."""
    field = "privateKey"
    found = _Key()
    blocks, errors = parse_pem(text, field)
    problems.extend(MaterialProblem(code=NOT_PEM, field=field, kind=k, detail=e) for k, e in errors)
    if not blocks:
        if not errors:
            problems.append(
                MaterialProblem(
                    kind="no-pem", code=NOT_PEM, field=field, detail="privateKey holds no PEM block"
                )
            )
        return found
    if len(blocks) > 1:
        problems.append(
            MaterialProblem(
                kind="multiple-keys",
                code=NOT_PEM,
                field=field,
                detail=f"privateKey holds {len(blocks)} PEM blocks; it must hold exactly one key",
            )
        )
    block = blocks[0]
    if block.label in ("RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY"):
        legacy = " with legacy OpenSSL encryption (Proc-Type header)" if block.headers else ""
        problems.append(
            MaterialProblem(
                kind="traditional-key",
                code=NOT_PEM,
                field=field,
                detail=f"privateKey is a traditional {block.label} block{legacy}, not PKCS#8 "
                "(BEGIN PRIVATE KEY or BEGIN ENCRYPTED PRIVATE KEY)",
            )
        )
        return found
    if block.label not in ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"):
        problems.append(
            MaterialProblem(
                kind="wrong-block",
                code=NOT_PEM,
                field=field,
                detail=f"privateKey block (line {block.first_line}) is a {block.label}, not a PRIVATE KEY",
            )
        )
        return found
    secret: bytes | None = None
    if block.label == "ENCRYPTED PRIVATE KEY":
        try:
            family, found.encryption = encryption_scheme(block.der)
        except (ValueError, IndexError):
            problems.append(
                MaterialProblem(
                    kind="invalid-key",
                    code=NOT_PEM,
                    field=field,
                    detail="privateKey is not a valid EncryptedPrivateKeyInfo",
                )
            )
            return found
        if family == "PBES2":
            problems.append(
                MaterialProblem(
                    kind="pbes2",
                    code=PBES2,
                    field=field,
                    detail=f"privateKey is encrypted with {found.encryption}; Lambda needs PBES1",
                )
            )
        elif family == "PKCS12":
            problems.append(
                MaterialProblem(
                    kind="pkcs12-pbe",
                    code=NOT_PEM,
                    field=field,
                    detail=f"privateKey is encrypted with {found.encryption}, which is not PBES1 (RFC 8018 "
                    "section 6.1), the only encryption the Lambda guide documents; whether Lambda reads it "
                    "is not published (unverified), so re-encrypt it only if the mapping fails to use it",
                )
            )
        elif family != "PBES1":
            problems.append(
                MaterialProblem(
                    kind="unknown-encryption",
                    code=NOT_PEM,
                    field=field,
                    detail=f"privateKey is encrypted with {found.encryption}",
                )
            )
            return found
        if not password:
            problems.append(
                MaterialProblem(
                    kind="missing-password",
                    code=NOT_PEM,
                    field="privateKeyPassword",
                    detail="privateKey is encrypted but the secret has no privateKeyPassword",
                )
            )
            return found
        secret = password.encode()
    else:
        found.encryption = "none"
    der = block.der
    password_used = False
    if secret is not None and family_of(found.encryption) == "PBES1":
        # `cryptography` opens none of PBES1 (it reads PBES2 and the PKCS#12 schemes): decrypt it here.
        try:
            decrypted = pbes1_decrypt(der, secret)
        except (ValueError, IndexError, KeyError):
            problems.append(
                MaterialProblem(
                    kind="wrong-password",
                    code=NOT_PEM,
                    field="privateKeyPassword",
                    detail="privateKeyPassword does not decrypt privateKey",
                )
            )
            return found
        if decrypted is None:
            return found  # an algorithm this machine cannot run (MD2, 64-bit RC2): not checked further
        der, secret = decrypted, None
        # A wrong password passes the padding check by chance (about 1 in 256: the last octet decrypts
        # to 1), and what it decrypts to is then no key: still the password's failure, not the key's.
        password_used = True
    try:
        key = serialization.load_der_private_key(der, secret)
    except ValueError:
        by_password = secret is not None or password_used
        detail = (
            "privateKeyPassword does not decrypt privateKey"
            if secret is not None
            else "privateKeyPassword does not decrypt privateKey to a private key"
            if password_used
            else "privateKey is not a valid PKCS#8 private key"
        )
        problems.append(
            MaterialProblem(
                kind="wrong-password" if by_password else "invalid-key",
                code=NOT_PEM,
                field="privateKeyPassword" if by_password else field,
                detail=detail,
            )
        )
        return found
    except (TypeError, NotImplementedError):
        problems.append(
            MaterialProblem(
                kind="unsupported-key",
                code=NOT_PEM,
                field=field,
                detail="privateKey uses an algorithm or cipher that cannot be read",
            )
        )
        return found
    found.public = key.public_key()
    found.algorithm = _key_algorithm(key)
    return found


def _chain_problems(certs: list[x509.Certificate], problems: list[MaterialProblem]) -> None:
    """The client certificate must come first, each next one its issuer."""
    if not certs:
        return
    infos = [certificate_info(c) for c in certs]
    if infos[0].is_ca and any(not i.is_ca for i in infos[1:]):
        leaf = next(n for n, i in enumerate(infos, 1) if not i.is_ca)
        problems.append(
            MaterialProblem(
                kind="chain-order",
                code=NOT_PEM,
                field="certificate",
                detail=f"the chain is out of order: certificate 1 is a CA and certificate {leaf} is the "
                "client certificate; put the client certificate first",
            )
        )
        return
    for n in range(1, len(certs)):
        if certs[n - 1].issuer != certs[n].subject:
            problems.append(
                MaterialProblem(
                    kind="chain-order",
                    code=NOT_PEM,
                    field="certificate",
                    detail=f"certificate {n + 1} ({infos[n].subject}) did not issue certificate {n} "
                    f"(issuer {infos[n - 1].issuer}); order the chain client first, then each issuer",
                )
            )


def _fields(doc: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(k if _FIELD_NAME.match(k) else "(unprintable key)" for k in doc))


def _json_object(
    value: str, code: str, expected: str, problems: list[MaterialProblem]
) -> dict[str, Any] | None:
    """The secret as a JSON object, or None with a problem that quotes position, never content."""
    stripped = value.strip()
    if stripped.startswith("-----BEGIN"):
        problems.append(
            MaterialProblem(
                kind="bare-pem",
                code=code,
                field="(secret)",
                detail=f"the secret is a bare PEM block; Lambda expects JSON with {expected}",
            )
        )
        return None
    try:
        doc = json.loads(value)
    except json.JSONDecodeError as exc:
        problems.append(
            MaterialProblem(
                kind="not-json",
                code=code,
                field="(secret)",
                detail=f"the secret is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
                f"Lambda expects JSON with {expected}",
            )
        )
        return None
    if not isinstance(doc, dict):
        problems.append(
            MaterialProblem(
                kind="not-object",
                code=code,
                field="(secret)",
                detail=f"the secret is a JSON {type(doc).__name__}, not an object with {expected}",
            )
        )
        return None
    return doc


def _string_field(
    doc: dict[str, Any], name: str, code: str, problems: list[MaterialProblem], *, required: bool = True
) -> str | None:
    value = doc.get(name)
    if value is None:
        if required:
            near = [k for k in doc if k.lower() == name.lower() and k != name]
            hint = (
                f" (found {near[0]!r}: names are case-sensitive)"
                if near and _FIELD_NAME.match(near[0])
                else ""
            )
            problems.append(
                MaterialProblem(
                    kind="missing-field", code=code, field=name, detail=f"the secret has no {name}{hint}"
                )
            )
        return None
    if not isinstance(value, str):
        problems.append(
            MaterialProblem(
                kind="not-string",
                code=code,
                field=name,
                detail=f"{name} is a JSON {type(value).__name__}, not a string",
            )
        )
        return None
    if required and not value:
        problems.append(MaterialProblem(kind="empty-field", code=code, field=name, detail=f"{name} is empty"))
        return None
    return value


# --- the analyser -------------------------------------------------------------------------------------


def analyse(
    access_type: str, value: str | None, *, binary: bool = False, now: datetime | None = None
) -> SecretMaterial:
    """What is wrong with a secret's value for `access_type`; pure, and quotes nothing of the value."""
    when = now or datetime.now(UTC)
    problems: list[MaterialProblem] = []
    if access_type in CREDENTIAL_TYPES:
        return _credentials(value, binary, problems)
    kind: Literal["client-certificate", "root-ca"] = (
        "client-certificate" if access_type == CLIENT_CERTIFICATE_TLS_AUTH else "root-ca"
    )
    expected = (
        "the keys certificate and privateKey" if kind == "client-certificate" else "the key certificate"
    )
    if binary or value is None:
        problems.append(
            MaterialProblem(
                kind="binary",
                code=NOT_PEM,
                field="(secret)",
                detail=f"the secret is stored as SecretBinary; Lambda reads SecretString JSON "
                f"with {expected}",
            )
        )
        return SecretMaterial(kind=kind, problems=tuple(problems))
    doc = _json_object(value, NOT_PEM, expected, problems)
    if doc is None:
        return SecretMaterial(kind=kind, problems=tuple(problems))
    certs: list[x509.Certificate] = []
    cert_text = _string_field(doc, "certificate", NOT_PEM, problems)
    if cert_text is not None:
        certs = _load_certificates(cert_text, "certificate", when, problems)
    if kind == "root-ca":
        for n, cert in enumerate(certs, 1):
            if not certificate_info(cert).is_ca:
                problems.append(
                    MaterialProblem(
                        kind="not-ca",
                        code=NOT_PEM,
                        field="certificate",
                        detail=f"certificate {n} ({cert.subject.rfc4514_string()}) is not a CA certificate "
                        "(no basicConstraints CA:TRUE)",
                    )
                )
        return SecretMaterial(
            kind=kind,
            fields=_fields(doc),
            certificates=tuple(certificate_info(c) for c in certs),
            problems=tuple(problems),
        )
    _chain_problems(certs, problems)
    key = _Key()
    key_text = _string_field(doc, "privateKey", NOT_PEM, problems)
    password = _string_field(doc, "privateKeyPassword", NOT_PEM, problems, required=False)
    if key_text is not None:
        key = _load_key(key_text, password, problems)
    key_sha = None
    if key.public is not None:
        spki = _spki(key.public)
        key_sha = hashlib.sha256(spki).hexdigest()
        if certs and _spki(certs[0].public_key()) != spki:
            match = next((n for n, c in enumerate(certs, 1) if _spki(c.public_key()) == spki), None)
            detail = (
                f"privateKey belongs to certificate {match}, not to the first one; put the client "
                "certificate first"
                if match
                else f"privateKey does not match certificate 1 ({certs[0].subject.rfc4514_string()})"
            )
            problems.append(
                MaterialProblem(kind="key-mismatch", code=NOT_PEM, field="privateKey", detail=detail)
            )
    return SecretMaterial(
        kind=kind,
        fields=_fields(doc),
        certificates=tuple(certificate_info(c) for c in certs),
        key_algorithm=key.algorithm,
        key_encryption=key.encryption,
        key_public_sha256=key_sha,
        problems=tuple(problems),
    )


def _credentials(value: str | None, binary: bool, problems: list[MaterialProblem]) -> SecretMaterial:
    expected = "the keys username and password"
    if binary or value is None:
        problems.append(
            MaterialProblem(
                kind="binary",
                code=SASL,
                field="(secret)",
                detail=f"the secret is stored as SecretBinary; Lambda reads SecretString JSON "
                f"with {expected}",
            )
        )
        return SecretMaterial(kind="credentials", problems=tuple(problems))
    doc = _json_object(value, SASL, expected, problems)
    if doc is None:
        return SecretMaterial(kind="credentials", problems=tuple(problems))
    username = _string_field(doc, "username", SASL, problems)
    _string_field(doc, "password", SASL, problems)
    if username is not None and username != username.strip():
        problems.append(
            MaterialProblem(
                kind="whitespace",
                code=SASL,
                field="username",
                detail="username has leading or trailing whitespace",
            )
        )
    return SecretMaterial(kind="credentials", fields=_fields(doc), problems=tuple(problems))


def ca_bundle(value: str) -> str | None:
    """The PEM CA bundle of a SERVER_ROOT_CA_CERTIFICATE secret, for the TLS probe; None if unusable."""
    try:
        doc = json.loads(value)
    except ValueError:
        return None
    cert = doc.get("certificate") if isinstance(doc, dict) else None
    return cert if isinstance(cert, str) and "-----BEGIN CERTIFICATE-----" in cert else None
