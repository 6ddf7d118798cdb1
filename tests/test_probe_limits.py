"""Issue 22: the probe function within Lambda's limits (memory, /tmp), from the API reference's ranges.

Lambda API reference, CreateFunction: MemorySize "Minimum value of 128. Maximum value of 10240";
EphemeralStorage (the size of /tmp) "The default value is 512, but can be any whole number between 512 and
10,240 MB" (API_EphemeralStorage). The probe asks for no ephemeral storage (the default 512 MB) and writes
to /tmp only the client certificate and key, for the length of `ssl.load_cert_chain`, which reads files
only: this checks nothing of them is left behind."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from remediate.probe_function.handler import Credentials, tls_context
from remediate.probe_package import Package
from remediate.probe_request import ProbeRequest
from remediate.probe_run import create_spec
from tests import tls_factory as tf


def test_the_function_asks_for_memory_in_lambdas_range_and_the_default_tmp() -> None:
    request = ProbeRequest(event={}, subnet_ids=(), security_group_ids=(), role_arn="arn:aws:iam::1:role/r")
    spec = create_spec(request, Package(b"zip", "0" * 64, 3), "remediate-probe-x", "uuid", "r-1")
    assert 128 <= spec["MemorySize"] <= 10240
    assert 1 <= spec["Timeout"] <= 900
    assert "EphemeralStorage" not in spec


def test_the_client_key_is_on_tmp_only_while_it_is_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    authority = tf.ca("Limits CA")
    client = tf.leaf(authority, "probe-client")
    context = tls_context(
        Credentials(client_cert_pem=client.cert_pem, client_key_pem=client.key_pem, ca_pem=authority.cert_pem)
    )
    assert context.verify_mode.name == "CERT_REQUIRED"
    assert list(tmp_path.iterdir()) == []
