"""Real certificates and keys for tests, made with `cryptography` at test time (nothing checked in).

`pbes1_pem` builds a PKCS#8 EncryptedPrivateKeyInfo with PBES1 as RFC 8018 section 6.1 defines it
(pbeWithSHA1AndDES-CBC), written out here from the RFC because no library at hand writes it.
`pkcs12_pbe_pem` builds one with the PKCS#12 scheme pbeWithSHAAnd3-KeyTripleDES-CBC (not PBES1):
`cryptography` writes that scheme only inside PKCS#12, so it is lifted out of a PKCS#12 key bag.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.UTC)
_SHROUDED_KEY_BAG = bytes.fromhex("060b2a864886f70d010c0a0102")  # OID 1.2.840.113549.1.12.10.1.2


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def ca(cn: str = "Test Root CA") -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def leaf(
    issuer: Issued,
    cn: str = "client",
    *,
    dns_names: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - datetime.timedelta(days=1))
        .not_valid_after(not_after or NOW + datetime.timedelta(days=10))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return Issued(builder.sign(issuer.key, hashes.SHA256()), key)


def pbes2_pem(key: ec.EllipticCurvePrivateKey, password: str) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password.encode()),
    ).decode()


def _tlv_end(data: bytes, offset: int) -> tuple[int, int]:
    length, start = data[offset + 1], offset + 2
    if length & 0x80:
        size = length & 0x7F
        length, start = int.from_bytes(data[start : start + size], "big"), start + size
    return start, start + length


def _der(tag: int, body: bytes) -> bytes:
    if len(body) < 0x80:
        return bytes([tag, len(body)]) + body
    size = (len(body).bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + len(body).to_bytes(size, "big") + body


def _pbes1_cipher(password: str, salt: bytes, iterations: int) -> Any:
    """RFC 8018 6.1.1: DK = PBKDF1-SHA1(P, S, c, 16); DES-CBC with K = DK[0:8], IV = DK[8:16]."""
    import hashlib

    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    block = hashlib.sha1(password.encode() + salt).digest()
    for _ in range(iterations - 1):
        block = hashlib.sha1(block).digest()
    return Cipher(TripleDES(block[:8] * 3), modes.CBC(block[8:16]))


def _pbes1_data(key: ec.EllipticCurvePrivateKey, password: str, salt: bytes, iterations: int) -> bytes:
    plain = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pad = 8 - len(plain) % 8  # 1..8 octets of the pad length
    encryptor = _pbes1_cipher(password, salt, iterations).encryptor()
    return bytes(encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize())


def pbes1_pem(
    key: ec.EllipticCurvePrivateKey, password: str, salt: bytes = b"8bytes!!", iterations: int = 2048
) -> str:
    """`key` encrypted with PBES1 (RFC 8018 6.1.1), AlgorithmIdentifier pbeWithSHA1AndDES-CBC
    (1.2.840.113549.1.5.10)."""
    data = _pbes1_data(key, password, salt, iterations)
    oid = bytes.fromhex("2a864886f70d01050a")  # 1.2.840.113549.1.5.10
    params = _der(0x30, _der(0x04, salt) + _der(0x02, iterations.to_bytes(2, "big")))
    info = _der(0x30, _der(0x30, _der(0x06, oid) + params) + _der(0x04, data))
    body = base64.encodebytes(info).decode()
    return f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{body}-----END ENCRYPTED PRIVATE KEY-----\n"


def pbes1_padding_passes(
    key: ec.EllipticCurvePrivateKey,
    password: str,
    tried: str,
    salt: bytes = b"8bytes!!",
    iterations: int = 2048,
) -> bool:
    """Whether `pbes1_pem(key, password)` decrypted with `tried` ends in valid padding (RFC 8018 6.1.2:
    1 to 8 octets, each the pad's length), the only check PBES1 has."""
    decryptor = _pbes1_cipher(tried, salt, iterations).decryptor()
    plain = decryptor.update(_pbes1_data(key, password, salt, iterations)) + decryptor.finalize()
    pad = plain[-1]
    return 1 <= pad <= 8 and plain[-pad:] == bytes([pad]) * pad


def pkcs12_pbe_pem(key: ec.EllipticCurvePrivateKey, password: str) -> str:
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(password.encode())
    )
    p12 = pkcs12.serialize_key_and_certificates(b"k", key, None, None, encryption)
    at = p12.index(_SHROUDED_KEY_BAG) + len(_SHROUDED_KEY_BAG)
    inner, _ = _tlv_end(p12, at)  # [0] EXPLICIT wraps the EncryptedPrivateKeyInfo
    _, end = _tlv_end(p12, inner)
    body = base64.encodebytes(p12[inner:end]).decode()
    return f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{body}-----END ENCRYPTED PRIVATE KEY-----\n"


def client_secret(cert_pem: str, key_pem: str, password: str | None = None) -> str:
    doc = {"certificate": cert_pem, "privateKey": key_pem}
    if password is not None:
        doc["privateKeyPassword"] = password
    return json.dumps(doc)


class LoopbackServer:
    """A TCP listener on 127.0.0.1 that, per connection, does a TLS handshake with `identity`
    (or, without one, accepts and stays silent, which a client sees as a handshake timeout)."""

    def __init__(self, identity: Issued | None = None, chain: tuple[Issued, ...] = ()) -> None:
        import socket
        import ssl
        import tempfile
        import threading
        from pathlib import Path

        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._context: ssl.SSLContext | None = None
        if identity is not None:
            with tempfile.TemporaryDirectory() as tmp:
                cert = Path(tmp) / "cert.pem"
                key = Path(tmp) / "key.pem"
                cert.write_text(identity.cert_pem + "".join(c.cert_pem for c in chain))
                key.write_text(identity.key_pem)
                self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                self._context.load_cert_chain(cert, key)
        self._open: list[Any] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        import contextlib

        self._socket.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._open.append(conn)
            if self._context is not None:
                conn.settimeout(5)
                with contextlib.suppress(OSError):
                    self._open.append(self._context.wrap_socket(conn, server_side=True))

    def close(self) -> None:
        import contextlib

        self._stop.set()
        self._socket.close()
        self._thread.join(2)
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.close()


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as sock:
        port: int = sock.getsockname()[1]
    return port
