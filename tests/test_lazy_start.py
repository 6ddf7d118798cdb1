"""Start-up stays fast: commands that talk to no AWS import neither boto3 nor rich.

Each command runs in a fresh interpreter (a test process has long since imported both), which then
reports the top-level packages that got imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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
