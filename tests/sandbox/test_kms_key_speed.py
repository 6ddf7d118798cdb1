"""The sandbox makes a symmetric KMS key's unused private key on first use (remediate/sandbox/speed.py):
nothing a client sees changes, and asymmetric keys are made, and their specs checked, at creation."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from moto.backends import get_backend

from remediate.sandbox import Sandbox


def _private_key(sb: Sandbox, key_id: str) -> object:
    return get_backend("kms")[sb.account_id][sb.region].keys[key_id].private_key


def test_a_symmetric_key_works_without_its_private_key_being_made(sandbox: Sandbox) -> None:
    kms = sandbox.client("kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    assert len(kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")["Plaintext"]) == 32
    lazy = _private_key(sandbox, key_id)
    assert type(lazy).__name__ == "_PrivateKeyOnUse"
    assert lazy._key is None  # type: ignore[attr-defined]  # not made: nothing used it
    sandbox.snapshot()  # copying the state does not make it either
    # Nothing AWS accepts on a symmetric key needs it: GetPublicKey returns the public key of an
    # asymmetric KMS key (KMS API reference, GetPublicKey), Sign needs KeyUsage SIGN_VERIFY (Sign; moto
    # refuses it as a ValidationException where AWS names InvalidKeyUsageException).
    with pytest.raises(ClientError, match="UnsupportedOperationException"):
        kms.get_public_key(KeyId=key_id)
    with pytest.raises(ClientError, match="SIGN_VERIFY"):
        kms.sign(KeyId=key_id, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert lazy._key is None  # type: ignore[attr-defined]


def test_an_asymmetric_key_is_made_and_checked_at_creation(sandbox: Sandbox) -> None:
    kms = sandbox.client("kms")
    key_id = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    assert type(_private_key(sandbox, key_id)).__name__ == "RSAPrivateKey"
    assert kms.get_public_key(KeyId=key_id)["PublicKey"]
    signed = kms.sign(KeyId=key_id, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    verified = kms.verify(KeyId=key_id, Message=b"m", Signature=signed, SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert verified["SignatureValid"]
    with pytest.raises(ClientError, match="ValidationException"):
        kms.create_key(KeySpec="RSA_1024")
