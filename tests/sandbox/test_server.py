"""The Sandbox object itself: env, clients, reset, the call log, patches idempotence."""

from __future__ import annotations

import contextlib
import os

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
