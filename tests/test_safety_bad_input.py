"""Defect 11: tracebacks instead of one line. Each bad input gets one line on standard error, the
documented exit code (1, docs/contract.md section 4), no traceback without --debug, and changes
nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner, settle
from tests.safety import error_lines, writes

NO_KEYS = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}

Case = Callable[[Path, str], tuple[list[str], dict[str, str], str]]


def config(tmp: Path, text: str) -> str:
    path = tmp / "aws-config"
    path.write_text(text)
    return str(path)


def digest(doc: dict[str, object]) -> str:
    """The plan's digest as docs/contract.md defines it: sha256 of the canonical JSON of the rest."""
    body = {k: v for k, v in doc.items() if k != "digest"}
    return (
        "sha256:"
        + hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    )


CASES: dict[str, Case] = {
    "broken ~/.aws/config": lambda tmp, esm: (
        ["plan", "--esm", esm],
        {
            "AWS_CONFIG_FILE": config(tmp, "[default]\nregion = us-east-1\n[[[broken\n"),
            "AWS_PROFILE": "default",
        },
        "the AWS config is broken: Unable to parse config file",
    ),
    "missing SSO token": lambda tmp, esm: (
        ["plan", "--esm", esm, "--profile", "sso"],
        {
            **NO_KEYS,
            "HOME": str(tmp),
            "AWS_CONFIG_FILE": config(
                tmp,
                "[profile sso]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n"
                "sso_account_id = 123456789012\nsso_role_name = R\nregion = us-east-1\n",
            ),
        },
        "sign in with `aws sso login --profile sso`",
    ),
    "failing credential_process": lambda tmp, esm: (
        ["plan", "--esm", esm, "--profile", "cp"],
        {
            **NO_KEYS,
            "AWS_CONFIG_FILE": config(
                tmp, "[profile cp]\ncredential_process = /bin/false\nregion = us-east-1\n"
            ),
        },
        "the profile's credential_process failed",
    ),
    "missing source_profile": lambda tmp, esm: (
        ["plan", "--esm", esm, "--profile", "ar"],
        {
            **NO_KEYS,
            "AWS_CONFIG_FILE": config(
                tmp, "[profile ar]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = missing\n"
            ),
        },
        'The source_profile "missing" referenced in the profile "ar" does not exist',
    ),
    "AWS_PROFILE=nosuch": lambda tmp, esm: (
        ["plan", "--esm", esm],
        {"AWS_PROFILE": "nosuch", "AWS_CONFIG_FILE": config(tmp, "[default]\nregion = us-east-1\n")},
        "AWS profile 'nosuch' not found",
    ),
    "plan --out a directory": lambda tmp, esm: (
        ["plan", "--esm", esm, "--out", str(tmp)],
        {},
        "is a directory",
    ),
    "plan --out a missing directory": lambda tmp, esm: (
        ["plan", "--esm", esm, "--out", str(tmp / "nope" / "plan.json")],
        {},
        "does not exist",
    ),
    "plan --out unwritable": lambda tmp, esm: (
        ["plan", "--esm", esm, "--out", "/proc/remediate-plan.json"],
        {},
        "/proc/remediate-plan.json",
    ),
    'plan --out ""': lambda tmp, esm: (["plan", "--esm", esm, "--out", ""], {}, "--out needs a file name"),
    "non-UTF-8 config file": lambda tmp, esm: (
        ["plan", "--esm", esm, "--config", str(write_bytes(tmp / "c.toml", b"colour = \xff\xfe\n"))],
        {},
        "is not UTF-8 text",
    ),
    "non-UTF-8 playbook": lambda tmp, esm: (
        ["plan", "--esm", esm],
        {
            "REMEDIATE_PLAYBOOKS_DIR": str(
                write_bytes(tmp / "books" / "x.yaml", b"name: x\n\xff\xfe\n").parent
            )
        },
        "not UTF-8 text",
    ),
    "malformed REMEDIATE_API_RATES": lambda tmp, esm: (
        ["plan", "--esm", esm],
        {"REMEDIATE_API_RATES": '{"ec2": 10'},
        "invalid setting 'api_rates' (environment REMEDIATE_API_RATES)",
    ),
    "a 5,000-character run id": lambda tmp, esm: (
        ["apply", "--resume", "r-" + "x" * 4998],
        {},
        "... (5000 characters)' is not a run id",
    ),
    "ssm-run --bundle not a zip": lambda tmp, esm: (
        [
            *("ssm-run", "--local", "--esm", esm, "--role-arn", "arn:aws:iam::123456789012:role/Remediate"),
            *("--bundle", str(write_bytes(tmp / "b.zip", b"PK not a zip"))),
        ],
        {},
        "is not a zip file (build one with `remediate ssm-bundle`)",
    ),
}


def write_bytes(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", sorted(CASES))
def test_defect_11_tracebacks_instead_of_one_line(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path, name: str
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    args, env, says = CASES[name](tmp_path, scn.esm_uuid)
    before = set(tmp_path.rglob("*"))
    sandbox.clear_calls()
    run = cli(*args, env=env)
    assert run.returncode == 1, run.stderr
    (line,) = error_lines(run.stderr)
    assert says in line
    assert len(line) < 400
    assert writes(sandbox) == []
    assert set(tmp_path.rglob("*")) == before  # no plan file, no journal
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 500


@pytest.mark.parametrize("damage", ["non-UTF-8", "unknown action"])
def test_defect_11_bad_plan_files(sandbox: Sandbox, cli: CliRunner, tmp_path: Path, damage: str) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    path = tmp_path / "plan.json"
    assert cli("plan", "--esm", scn.esm_uuid, "--out", str(path)).returncode == 0
    if damage == "non-UTF-8":
        path.write_bytes(b"\xff\xfe" + path.read_bytes())
        says = "is not UTF-8 text"
    else:
        doc = json.loads(path.read_text())
        doc["changes"][0]["action"] = "no_such_action"
        doc["digest"] = digest(doc)  # digest-valid: it is the action that is unknown
        path.write_text(json.dumps(doc))
        says = "names an unknown action 'no_such_action'"
    sandbox.clear_calls()
    run = cli("apply", str(path))
    assert run.returncode == 1, run.stderr
    (line,) = error_lines(run.stderr)
    assert says in line
    assert writes(sandbox) == []
