"""Fixtures for end-to-end tests: one sandbox server per session, and the real CLI run against it.

`cli` runs `remediate` in a subprocess, exactly as a user or a runbook would, with only the standard
AWS environment pointing it at the sandbox: the code under test cannot tell it from a real account.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from remediate.iam_policy import policy_document
from remediate.sandbox import Sandbox
from tests.iam_coverage import uncovered

REMEDIATE = str(Path(sys.executable).with_name("remediate"))
CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(region="us-east-1") as sb:
        yield sb


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Sandbox:
    """The session's sandbox, emptied before the test (state, faults and call log)."""
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def cli_env(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REMEDIATE_"))}
    env.update(sandbox.env())
    env.update(
        {
            "REMEDIATE_STATE_DIR": str(tmp_path / "state"),
            "REMEDIATE_ESM_POLL_INTERVAL": "0.05",
            "REMEDIATE_RETRY_BASE_DELAY": "0.05",
            "REMEDIATE_RETRY_MAX_DELAY": "0.5",
            "NO_COLOR": "1",
        }
    )
    return env


def settle(sb: Sandbox, uuid: str) -> dict[str, object]:
    """Read an ESM until its transitional state is over (it lasts a few reads, as on AWS)."""
    for _ in range(30):
        esm: dict[str, object] = sb.client("lambda").get_event_source_mapping(UUID=uuid)
        if esm["State"] in ("Enabled", "Disabled"):
            return esm
    raise AssertionError(f"ESM {uuid} never settled")


def vpc_inventory(sb: Sandbox, vpc_id: str) -> dict[str, Any]:
    """What exists in the VPC: endpoints per service, groups by name, rules per group."""
    ec2 = sb.client("ec2")
    by_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    endpoints = ec2.describe_vpc_endpoints(Filters=by_vpc)["VpcEndpoints"]
    groups = ec2.describe_security_groups(Filters=by_vpc)["SecurityGroups"]
    attrs = {
        a: ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=a)
        for a in ("enableDnsSupport", "enableDnsHostnames")
    }
    return {
        "endpoints": Counter(
            e["ServiceName"].rsplit(".", 1)[-1]
            for e in endpoints
            if e["State"] not in ("deleting", "deleted")
        ),
        "groups": Counter(g["GroupName"] for g in groups),
        "rules": {
            g["GroupName"]: sum(
                len(p.get("UserIdGroupPairs", [])) + len(p.get("IpRanges", [])) + len(p.get("Ipv6Ranges", []))
                for p in g["IpPermissions"] + g["IpPermissionsEgress"]
            )
            for g in groups
        },
        "dns": {a: v[a[0].upper() + a[1:]]["Value"] for a, v in attrs.items()},
    }


READ_ONLY_COMMANDS = frozenset({"diagnose", "plan", "scan"})
SECRET_KEYS = ("password", "privateKey", "privateKeyPassword")


def secret_fragments(sb: Sandbox) -> set[str]:
    """What must never appear in output: each stored secret value and its sensitive fields."""
    fragments: set[str] = set()
    for value in sb.secret_values():
        fragments.add(value)
        try:
            data = json.loads(value)
        except ValueError:
            continue
        if isinstance(data, dict):
            fragments.update(str(data[k]) for k in SECRET_KEYS if data.get(k))
    key_lines = {line for f in fragments for line in f.splitlines() if len(line) > 20 and "-----" not in line}
    return fragments | key_lines


@pytest.fixture
def cli(cli_env: dict[str, str], sandbox: Sandbox) -> CliRunner:
    """`cli("plan", "--esm", uuid, input=None, env=None)`: run remediate; stdin is not a terminal."""

    def run(
        *args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        seen = len(sandbox.calls)
        result = subprocess.run(
            [REMEDIATE, *args],
            env={**cli_env, **(env or {})},
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        # Every CLI run of the suite doubles as a leak test: no secret value in any output or log.
        state = Path(cli_env["REMEDIATE_STATE_DIR"])
        journals = "".join(p.read_text() for p in state.rglob("*") if p.is_file()) if state.exists() else ""
        for fragment in secret_fragments(sandbox):
            assert fragment not in result.stdout, "a secret value leaked to stdout"
            assert fragment not in result.stderr, "a secret value leaked to stderr"
            assert fragment not in journals, "a secret value leaked to the journal"
        # ... and an IAM test: every call it made is allowed by the policy the tool declares for it.
        mode = "diagnose" if args and args[0] in READ_ONLY_COMMANDS and "--fix" not in args else "apply"
        calls = sandbox.calls[seen:]
        # Calls that are not the tool's own: the local runner assumes the runbook's role, as Automation
        # does; starting an execution is the starter's right (`iam-policy --for starter`).
        theirs = {"ssm-run": ("sts", "AssumeRole"), "ssm-start": ("ssm", "StartAutomationExecution")}
        if args and args[0] in theirs:
            calls = [c for c in calls if c != theirs[args[0]]]
        missing = uncovered(calls, policy_document(mode))
        assert not missing, f"`remediate {' '.join(args)}` called {missing}, not in iam-policy --mode {mode}"
        return result

    return run
