"""Reliability and safety: locks, denied reads and writes, and the bad-input catalogue.

Each bad input gets one clear line on stderr, the documented exit code, and changes nothing.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import REMEDIATE, CliRunner

WRITES = ("Update", "Create", "Delete", "Put", "Authorize", "Modify", "Associate", "Tag", "Untag")


def writes(sb: Sandbox) -> list[tuple[str, str]]:
    return [c for c in sb.calls if c[1].startswith(WRITES)]


def one_line(stderr: str) -> str:
    """The one error line (progress lines may precede it), and no traceback."""
    lines = [line for line in stderr.strip().splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_two_concurrent_applies_one_is_locked_out(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.esm_transition_reads = 40  # the first apply spends a while waiting on transitions
    first = subprocess.Popen(
        [REMEDIATE, "apply", "--esm", scn.esm_uuid, "--auto-approve"],
        env=cli_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        tags: dict[str, str] = {}
        for _ in range(200):
            tags = sandbox.client("lambda").list_tags(Resource=scn.esm_arn).get("Tags", {})
            if any(k.startswith("remediate:lock") for k in tags):
                break
            time.sleep(0.05)
        assert any(k.startswith("remediate:lock") for k in tags)
        second = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
        assert second.returncode == 1
        assert "locked by run r-" in one_line(second.stderr)
    finally:
        sandbox.esm_transition_reads = 2
        _out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    tags = sandbox.client("lambda").list_tags(Resource=scn.esm_arn).get("Tags", {})
    assert not any(k.startswith("remediate:lock") for k in tags)


def test_a_stale_lock_is_taken_over(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.client("lambda").tag_resource(
        Resource=scn.esm_arn, Tags={"remediate:lock": f"r-dead@{int(time.time()) - 5}"}
    )
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert run.returncode == 0, run.stderr


def test_denied_read_becomes_could_not_check(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "healthy-msk")
    sandbox.faults.add(FaultRule(service="iam", operation="GetRole", kind="status", status=403))
    run = cli("diagnose", "--esm", scn.esm_uuid, "--output", "json")
    assert run.returncode == 0, run.stderr
    findings = json.loads(run.stdout)["findings"]
    assert [f["code"] for f in findings] == ["COULD_NOT_CHECK"]
    assert "execution role" in findings[0]["summary"]


def test_denied_write_fails_cleanly_and_the_journal_says_where(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.faults.add(
        FaultRule(service="lambda", operation="UpdateEventSourceMapping", kind="status", status=403)
    )
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert run.returncode == 1
    assert "AccessDeniedException" in one_line(run.stderr)
    journal = next((Path(cli_env["REMEDIATE_STATE_DIR"]) / "runs").glob("*.jsonl"))
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [e["event"] for e in entries][-3:] == ["begin", "error", "finish"]
    assert entries[-2]["change_id"] == "c1"
    assert entries[-1]["status"] == "failed"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["plan", "--esm", "nope"], {}, "is not an event source mapping UUID or ARN"),
        (["plan", "--esm", "11111111-2222-3333-4444-555555555555"], {}, "no event source mapping"),
        (
            ["plan", "--esm", "11111111-2222-3333-4444-555555555555"],
            {"AWS_REGION": "", "AWS_DEFAULT_REGION": ""},
            "no AWS region",
        ),
        (
            ["plan", "--esm", "11111111-2222-3333-4444-555555555555"],
            {
                "AWS_ACCESS_KEY_ID": "",
                "AWS_SECRET_ACCESS_KEY": "",
                "AWS_SESSION_TOKEN": "",
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                "AWS_CONFIG_FILE": "/nonexistent",
            },
            "no AWS credentials",
        ),
        (
            ["plan", "--esm", "11111111-2222-3333-4444-555555555555", "--profile", "no-such-profile"],
            {"AWS_CONFIG_FILE": "/nonexistent"},
            "AWS profile 'no-such-profile' not found",
        ),
        (
            ["plan", "--esm", "11111111-2222-3333-4444-555555555555", "--region", "mars-north"],
            {},
            "'mars-north' is not an AWS region name",
        ),
        (["apply"], {}, "give exactly one of --esm ESM, a saved PLAN_FILE"),
        (["plan"], {}, "Missing option '--esm'"),
    ],
)
def test_bad_input_catalogue(
    sandbox: Sandbox, cli: CliRunner, args: list[str], env: dict[str, str], message: str
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.clear_calls()
    run = cli(*args, env=env)
    assert run.returncode == 1, run.stderr
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert writes(sandbox) == []
    assert sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"] == 500


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("max_workers = [", "is not valid TOML"),
        ("colour = true", "unknown key 'colour'"),
        ("retry_attempts = 0", "invalid setting 'retry_attempts'"),
    ],
)
def test_bad_config_file(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path, content: str, message: str
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    cfg = tmp_path / "bad.toml"
    cfg.write_text(content)
    sandbox.clear_calls()
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", "--config", str(cfg))
    assert run.returncode == 1
    assert message in one_line(run.stderr)
    assert sandbox.calls == []


@pytest.mark.parametrize("damage", ["truncate", "tamper", "future", "garbage"])
def test_bad_plan_file(sandbox: Sandbox, cli: CliRunner, tmp_path: Path, damage: str) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    path = tmp_path / "plan.json"
    assert cli("plan", "--esm", scn.esm_uuid, "--out", str(path)).returncode == 0
    text = path.read_text()
    if damage == "truncate":
        path.write_text(text[: len(text) // 2])
    elif damage == "tamper":
        path.write_text(text.replace('"BatchSize": 1', '"BatchSize": 10000'))
    elif damage == "future":
        path.write_text(text.replace("remediate/plan@1", "remediate/plan@9"))
    else:
        path.write_text("\x00\x01 not json")
    sandbox.clear_calls()
    run = cli("apply", str(path))
    assert run.returncode == 1
    assert "plan file" in one_line(run.stderr)
    assert sandbox.calls == []


def test_missing_plan_file(cli: CliRunner, tmp_path: Path) -> None:
    run = cli("apply", str(tmp_path / "nope.json"))
    assert run.returncode == 1
    assert "cannot read plan file" in one_line(run.stderr)


def test_debug_shows_the_traceback(cli: CliRunner) -> None:
    run = cli("plan", "--esm", "nope", "--debug")
    assert run.returncode == 1
    assert "Traceback" in run.stderr
