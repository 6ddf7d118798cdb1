"""Issue 23, item 3: a plan file approves only what the engine would plan (audit 2026-12-06, N3, N9).

The digest of a plan file is an unkeyed sha256 of its canonical JSON, so anyone can recompute it after
an edit. Each edit below recomputes it the way the contract describes the digest (independently of the
code under test), then applies the file with the real CLI: it must be refused in one line naming what
differs, with nothing changed in AWS.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner, settle
from tests.safety import error_lines, writes

Edit = Callable[[dict[str, Any]], None]


def redigest(doc: dict[str, Any]) -> None:
    body = {k: v for k, v in doc.items() if k != "digest"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    doc["digest"] = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def change(doc: dict[str, Any], action: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in doc["changes"] if c["action"] == action)
    return found


def star_policy(doc: dict[str, Any]) -> None:
    statement = {"Sid": "RemediateEsmAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}
    change(doc, "put_role_policy")["after"]["PolicyDocument"]["Statement"] = [statement]


def write_on_every_resource(doc: dict[str, Any]) -> None:
    statement = {
        "Sid": "RemediateEsmAccess",
        "Effect": "Allow",
        "Action": "iam:PutRolePolicy",
        "Resource": "*",
    }
    change(doc, "put_role_policy")["after"]["PolicyDocument"]["Statement"] = [statement]


def default_group(doc: dict[str, Any]) -> None:
    for c in doc["changes"]:
        if c["action"] == "create_vpc_endpoint":
            c["after"]["SecurityGroupIds"] = ["sg-default"]


def restart_to_batch_size(doc: dict[str, Any]) -> None:
    c = change(doc, "reenable_esm")
    c.update(action="update_esm", before={"BatchSize": 500}, after={"BatchSize": 10000})


def half_of_ipv4(doc: dict[str, Any]) -> None:
    rule = change(doc, "authorize_sg_ingress")["after"]
    del rule["PeerGroupId"]
    rule["CidrIp"] = "0.0.0.0/1"


def open_to_the_world(doc: dict[str, Any]) -> None:
    rule = change(doc, "authorize_sg_ingress")["after"]
    del rule["PeerGroupId"]
    rule["CidrIp"] = "0.0.0.0/0"


SCRAM = ("scram-no-nat", {"role_grants_secret": False})
MSK_IAM = ("msk-iam-no-self-ingress", {})
CASES: list[tuple[str, tuple[str, dict[str, Any]], Edit, str]] = [
    ("n3_star_policy", SCRAM, star_policy, 'allows "Action": "*", which no remediate plan may carry'),
    ("n3_write_on_star", SCRAM, write_on_every_resource, 'allows iam:PutRolePolicy on "Resource": "*"'),
    ("n3_default_group", SCRAM, default_group, "c2 create_vpc_endpoint on com.amazonaws.us-east-1.lambda: "),
    ("n3_restart_rewritten", SCRAM, restart_to_batch_size, "change 6 has action"),
    ("n3_half_of_ipv4", MSK_IAM, half_of_ipv4, "c1 authorize_sg_ingress on sg-"),
    ("n9_open_to_the_world", MSK_IAM, open_to_the_world, "opens a security group to 0.0.0.0/0"),
]


@pytest.mark.parametrize(("scenario", "edit", "says"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_n3_n9_edited_plan_file_with_recomputed_digest_is_refused(
    sandbox: Sandbox,
    cli: CliRunner,
    tmp_path: Path,
    scenario: tuple[str, dict[str, Any]],
    edit: Edit,
    says: str,
) -> None:
    scn = build_scenario(sandbox, scenario[0], **scenario[1])
    path = tmp_path / "fix.json"
    assert cli("plan", "--esm", scn.esm_uuid, "--out", str(path)).returncode == 0
    doc = json.loads(path.read_text())
    edit(doc)
    redigest(doc)
    path.write_text(json.dumps(doc))
    seen = len(sandbox.calls)
    out = cli("apply", str(path))
    assert out.returncode == 1, out.stdout + out.stderr
    errors = error_lines(out.stderr)
    assert len(errors) == 1, out.stderr
    assert says in errors[0], errors[0]
    assert "ValidationError" not in out.stderr
    assert "unexpected" not in out.stderr
    assert [w for w in writes(sandbox, seen) if w[1] not in ("TagResource", "UntagResource")] == []
    assert settle(sandbox, scn.esm_uuid)["State"] == "Enabled"


def test_an_unedited_plan_file_still_applies(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    scn = build_scenario(sandbox, "scram-no-nat", role_grants_secret=False)
    path = tmp_path / "fix.json"
    assert cli("plan", "--esm", scn.esm_uuid, "--out", str(path)).returncode == 0
    out = cli("apply", str(path))
    assert out.returncode == 0, out.stderr
    assert cli("plan", "--esm", scn.esm_uuid, "--detailed-exitcode").returncode == 0


def test_a_plan_file_with_an_alternative_fix_still_applies(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path
) -> None:
    """The engine's plan with `--fix-with` is the engine's too: the re-plan tries the file's choice."""
    scn = build_scenario(sandbox, "scram-no-nat")
    path = tmp_path / "fix.json"
    planned = cli("plan", "--esm", scn.esm_uuid, "--fix-with", "provisioned-mode", "--out", str(path))
    assert planned.returncode == 0, planned.stderr
    assert [c["action"] for c in json.loads(path.read_text())["changes"]] == ["switch_to_provisioned_mode"]
    out = cli("apply", str(path))
    assert out.returncode == 0, out.stderr
