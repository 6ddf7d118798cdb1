"""Start-up stays fast: commands that talk to no AWS import neither boto3 nor rich, and a diagnosis imports
botocore but not what it does not use.

Each command runs in a fresh interpreter (a test process has long since imported both), which then
reports the top-level packages that got imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from remediate.sandbox import Sandbox, build_scenario

_PROBE = """
import json, sys
sys.argv = ["remediate", *json.loads(sys.argv[1])]
from remediate.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [["--help"], ["playbooks", "list"], ["scan", "--help"]],
)
def test_command_imports_neither_boto3_nor_rich(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout  # the command did its work (help text, the playbook list)
    imported = set(json.loads(result.stderr.strip().splitlines()[-1]))
    assert "remediate" in imported
    assert not imported & {"boto3", "botocore", "rich"}


def test_diagnose_imports_only_what_it_needs(sandbox: Sandbox, cli_env: dict[str, str]) -> None:
    """A diagnosis without --probe logs nothing at the default level and reads no secret: it needs neither
    structlog nor rich, and no boto3 (botocore alone), nor cryptography."""
    scn = build_scenario(sandbox, "healthy-msk")
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(["diagnose", "--esm", scn.esm_uuid])],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "No problems found." in result.stdout
    imported = set(json.loads(result.stderr.strip().splitlines()[-1]))
    assert "botocore" in imported
    assert not imported & {"boto3", "s3transfer", "rich", "structlog", "cryptography"}
