"""The Sandbox object itself: env, clients, reset, the call log, patches idempotence."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
from typing import Any

import pytest

from remediate.sandbox import Sandbox, patches


def test_env_points_at_the_server_without_touching_os_environ(sb: Sandbox) -> None:
    before = dict(os.environ)
    env = sb.env()
    assert env["AWS_ENDPOINT_URL"] == sb.endpoint_url
    assert sb.endpoint_url.startswith("http://127.0.0.1:")
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == env["AWS_SESSION_TOKEN"] == "testing"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert dict(os.environ) == before


def test_clients_are_cached_per_service(sb: Sandbox) -> None:
    assert sb.client("lambda") is sb.client("lambda")
    assert sb.client("lambda") is not sb.client("ec2")
    assert sb.client("sts").get_caller_identity()["Account"] == "123456789012"


def test_call_log_records_service_and_operation_in_order(sb: Sandbox) -> None:
    ec2, lam, kafka, iam = sb.client("ec2"), sb.client("lambda"), sb.client("kafka"), sb.client("iam")
    ec2.describe_subnets()
    lam.list_event_source_mappings()
    kafka.list_clusters_v2()
    iam.list_roles()
    sb.client("secretsmanager").list_secrets()
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.get_event_source_mapping(UUID="00000000-0000-0000-0000-000000000000")
    assert sb.calls == [
        ("ec2", "DescribeSubnets"),
        ("lambda", "ListEventSourceMappings"),
        ("kafka", "ListClustersV2"),
        ("iam", "ListRoles"),
        ("secretsmanager", "ListSecrets"),
        ("lambda", "GetEventSourceMapping"),
    ]


def test_reset_wipes_resources_and_log(sb: Sandbox) -> None:
    sb.client("ec2").create_vpc(CidrBlock="10.7.0.0/16")
    sb.esm_transition_reads = 0
    sb.reset()
    assert sb.calls == []
    assert sb.esm_transition_reads == patches.DEFAULT_TRANSITION_READS
    cidrs = [vpc["CidrBlock"] for vpc in sb.client("ec2").describe_vpcs()["Vpcs"]]
    assert "10.7.0.0/16" not in cidrs


def test_patches_apply_once() -> None:
    before = patches.applied_patches()
    patches.apply_patches()
    assert patches.applied_patches() == before
    assert "LambdaBackend.create_event_source_mapping" in before


def test_second_sandbox_can_start_and_stop(sandbox_server: Sandbox) -> None:
    with Sandbox() as other:
        assert other.endpoint_url != sandbox_server.endpoint_url
        other.client("sts").get_caller_identity()
    sandbox_server.client("sts").get_caller_identity()


def test_n12_a_busy_port_ends_the_sandbox_at_once_with_exit_1() -> None:
    """Issue 23 (operator-hunt N12): `python -m remediate.sandbox --port P` with P in use printed the
    error, then hung (SIGTERM did not end it; Ctrl-C ended it with exit 0)."""
    import socket
    import subprocess
    import sys

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "remediate.sandbox", "--port", str(port)],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
    assert run.returncode == 1, run.stderr
    assert f"Error: the sandbox cannot listen on 127.0.0.1:{port} (in use?)" in run.stderr
    assert run.stdout == ""


_AUTH = "AWS4-HMAC-SHA256 Credential=testing/20261207/us-east-1/lambda/aws4_request, SignedHeaders=host"


def _answer(reader: Any) -> tuple[str, dict[str, str], bytes]:
    """One HTTP answer from a buffered stream: status line, headers, the body by its Content-Length."""
    status = reader.readline().decode().strip()
    headers = {}
    while (line := reader.readline().decode().strip()) != "":
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, reader.read(int(headers["content-length"]))


@pytest.mark.parametrize("early", [False, True])
def test_a_connection_stays_open_for_the_next_request(sb: Sandbox, early: bool) -> None:
    """HTTP/1.1 keep-alive, as AWS's endpoints: requests one after the other on one connection, each sent
    as soon as the last answer is read (werkzeug would read and throw away what arrives then), or all
    written before any answer is read, each get their answer."""
    host, port = sb.endpoint_url.removeprefix("http://").split(":")
    request = f"GET /2015-03-31/functions/ HTTP/1.1\r\nHost: {host}\r\nAuthorization: {_AUTH}\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        reader = conn.makefile("rb")
        if early:
            conn.sendall(request.encode() * 3)
        for _ in range(3):
            if not early:
                conn.sendall(request.encode())
            status, headers, body = _answer(reader)
            assert status.startswith("HTTP/1.1 200"), status
            assert headers.get("connection") != "close"
            assert b"Functions" in body
    assert sb.calls == [("lambda", "ListFunctions")] * 3


def test_a_client_that_asks_to_close_is_answered_then_closed(sb: Sandbox) -> None:
    host, port = sb.endpoint_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", "/2015-03-31/functions/", headers={"Connection": "close", "Authorization": "x"})
    response = conn.getresponse()
    response.read()
    assert response.will_close
    conn.close()
