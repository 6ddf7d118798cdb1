"""Terminal habits: colour off under every switch, progress while waiting, `--output` everywhere it makes
sense, the common options on `ssm-run`, `--debug` showing each AWS call, and words that say what
happened (rollback plans, the demo, `scan --fix`).

Colour is checked on a real pseudo-terminal (stdout and stderr both terminals, as for a person), with a
control run that does show colour, so the test can fail.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
from pathlib import Path

import pytest

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import REMEDIATE, CliRunner

SGR = re.compile(r"\x1b\[([0-9;]*)m")
CONNECTION = "PROBLEM: Connection error. Please check your event source connection configuration."


def colours(text: str) -> set[int]:
    """The colour codes (foreground and background, 8, 16, 256 and true colour) set in `text`."""
    found = set()
    for params in SGR.findall(text):
        for code in (int(p) for p in params.split(";") if p):
            if 30 <= code <= 38 or 40 <= code <= 48 or 90 <= code <= 97 or 100 <= code <= 107:
                found.add(code)
    return found


def on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """`remediate ARGS` with a pseudo-terminal for stdin, stdout and stderr; everything it wrote."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [REMEDIATE, *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env, "TERM": "xterm-256color", "COLUMNS": "160"},
        close_fds=True,
    )
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            proc.kill()
            raise AssertionError(f"`remediate {' '.join(args)}` wrote nothing for 120s")
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        out += data
    os.close(master)
    proc.wait(timeout=60)
    return out.decode(errors="replace")


@pytest.fixture
def colour_env(cli_env: dict[str, str]) -> dict[str, str]:
    """The suite's environment without its NO_COLOR."""
    return {k: v for k, v in cli_env.items() if k != "NO_COLOR"}


def colour_commands(sandbox: Sandbox) -> list[list[str]]:
    """Commands that colour a terminal: findings in red (diagnose), the scan's progress bar."""
    scn = build_scenario(sandbox, "broker-timeout")
    return [["diagnose", "--esm", scn.esm_uuid], ["scan"]]


def test_a_terminal_shows_colour_without_a_switch(sandbox: Sandbox, colour_env: dict[str, str]) -> None:
    """The control of the next test: without it, "no colour" would prove nothing."""
    for command in colour_commands(sandbox):
        assert colours(on_a_terminal(command, colour_env)), f"{command} shows no colour on a terminal"


@pytest.mark.parametrize("switch", ["--no-color", "color = false", "NO_COLOR"])
def test_every_switch_turns_every_colour_off(
    sandbox: Sandbox, colour_env: dict[str, str], tmp_path: Path, switch: str
) -> None:
    commands = colour_commands(sandbox)
    env, extra = dict(colour_env), []
    if switch == "--no-color":
        extra = ["--no-color"]
    elif switch == "NO_COLOR":
        env["NO_COLOR"] = "1"
    else:
        config = tmp_path / "remediate.toml"
        config.write_text("color = false\n")
        extra = ["--config", str(config)]
    for command in commands:
        out = on_a_terminal([*command, *extra], env)
        assert "Error" not in out, out
        assert not colours(out), f"{command} with {switch}: {out!r}"


def test_progress_on_a_terminal_has_no_timestamps_or_links(
    sandbox: Sandbox, colour_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    out = on_a_terminal(["apply", "--esm", scn.esm_uuid, "--auto-approve", "--no-color"], colour_env)
    # The spinner redraws its line (erase, `\r`); each finished step is printed above it.
    progress = [seg for seg in re.split(r"\r|\n|\x1b\[2K", out) if seg.startswith("  - ")]
    assert progress, out
    for line in progress:
        assert not re.search(r"\[\d\d:\d\d:\d\d\]|\d\d:\d\d:\d\d", line), line
        assert ".py:" not in line, line
        assert "\x1b]8;" not in line, line  # no terminal hyperlink to the source


def test_apply_watch_shows_progress_while_it_waits(sandbox: Sandbox, cli: CliRunner) -> None:
    """An error text that stays: every read of the wait says so on stderr, then the watch times out."""
    scn = build_scenario(sandbox, "msk-iam-no-self-ingress", last_processing_result=CONNECTION)
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", "--watch", "1s")
    assert run.returncode == 1
    waits = [line for line in run.stderr.splitlines() if f"watching ESM {scn.esm_uuid}" in line]
    assert len(waits) >= 2, run.stderr
    assert all("still reports: PROBLEM: Connection error" in line for line in waits)
    assert waits[0].startswith("  - ")


def test_info_commands_take_output_json(cli: CliRunner) -> None:
    books = cli("playbooks", "list", "--output", "json")
    assert books.returncode == 0, books.stderr
    doc = json.loads(books.stdout)
    assert doc["schema"] == "remediate/playbooks@1"
    names = {p["name"] for p in doc["playbooks"]}
    text = cli("playbooks", "list").stdout
    assert names == {line.split()[0] for line in text.splitlines()}
    policy = cli("iam-policy", "--mode", "diagnose", "--output", "json")
    assert policy.returncode == 0, policy.stderr
    wrapped = json.loads(policy.stdout)
    assert (wrapped["schema"], wrapped["for"], wrapped["mode"]) == (
        "remediate/iam-policy@1",
        "tool",
        "diagnose",
    )
    assert wrapped["policy"] == json.loads(cli("iam-policy", "--mode", "diagnose").stdout)
    runbook = cli("ssm-document", "--approver", "arn:aws:iam::123456789012:role/Approver", "--output", "json")
    assert runbook.returncode == 0, runbook.stderr
    document = json.loads(runbook.stdout)
    assert document["schemaVersion"] == "0.3"
    assert document["mainSteps"]
    template = json.loads(cli("ssm-document", "--cloudformation", "account", "--output", "json").stdout)
    assert "AWSTemplateFormatVersion" in template


def test_ssm_run_takes_the_common_options(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    role = "arn:aws:iam::123456789012:role/RemediateAutomation"
    missing = cli(
        "ssm-run", "--local", "--role-arn", role, "--profile", "no-such-profile", "--region", "us-east-1"
    )
    assert missing.returncode == 1
    assert (
        missing.stderr.strip().splitlines()[-1].startswith("Error: AWS profile 'no-such-profile' not found")
    )
    config = tmp_path / "remediate.toml"
    config.write_text('region = "us-east-1"\n')
    scn = build_scenario(sandbox, "healthy-msk")
    result = cli(
        "ssm-run", "--local", "--esm", scn.esm_uuid, "--mode", "Diagnose", "--role-arn", role,
        "--config", str(config), "--output", "json",
        env={"AWS_REGION": "", "AWS_DEFAULT_REGION": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["AutomationExecutionStatus"] == "Success"


def test_debug_shows_each_call_and_each_retry_with_its_code(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "healthy-msk")
    sandbox.faults.add(FaultRule(service="kafka", operation="DescribeClusterV2", kind="throttle", times=1))
    run = cli("diagnose", "--esm", scn.esm_uuid, "--debug", "--log-format", "json")
    assert run.returncode == 0, run.stderr
    events = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    calls = [e for e in events if e["event"] == "aws.call"]
    assert {
        "service": "lambda",
        "operation": "GetEventSourceMapping",
        "status": 200,
        "error": "",
    }.items() <= calls[0].items()
    throttled = [c for c in calls if c["operation"] == "DescribeClusterV2"]
    # The sandbox throttles MSK's API as AWS does: 429 TooManyRequestsException.
    assert [(c["status"], c["error"]) for c in throttled] == [(429, "TooManyRequestsException"), (200, "")]
    retries = [e for e in events if e["event"] == "aws.retry"]
    assert [(r["operation"], r["error"]) for r in retries] == [
        ("describe_cluster_v2", "TooManyRequestsException")
    ]
    quiet = cli("diagnose", "--esm", scn.esm_uuid, "--log-format", "json")
    assert "aws.call" not in quiet.stderr


def test_rollback_plan_has_no_empty_because(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    runs = sorted(
        (Path(cli_env["REMEDIATE_STATE_DIR"]) / "runs").glob("*.jsonl"), key=lambda p: p.stat().st_mtime
    )
    undo = cli("rollback", runs[-1].stem, "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    assert "# undo-c1: update_esm" in undo.stdout
    assert "(because BROKER_TIMEOUT)" in undo.stdout


def test_a_change_or_step_without_a_reason_renders_without_an_empty_because() -> None:
    from remediate.plan import Change, ManualStep, Plan, Target
    from remediate.run.render import render_plan

    plan = Plan(
        plan_id="p-1",
        created_at="2026-01-01T00:00:00Z",
        target=Target(esm_uuid="u", esm_arn="a", function_arn="f", source_kind="msk", region="us-east-1"),
        changes=(
            Change(
                id="undo-c1",
                action="update_esm",
                resource="u",
                before={"BatchSize": 1},
                after={"BatchSize": 500},
            ),
        ),
        manual_steps=(ManualStep(because=(), text="undo c2 by hand"),),
        fingerprint="x",
    )
    text = render_plan(plan)
    assert "  # undo-c1: update_esm on u\n" in text
    assert "  1. undo c2 by hand" in text
    assert "because" not in text
    assert "[]" not in text


def test_scan_fix_lists_the_mappings_with_manual_steps_only(sandbox: Sandbox, cli: CliRunner) -> None:
    fixable = build_scenario(sandbox, "broker-timeout")
    manual = build_scenario(sandbox, "cluster-failed")
    run = cli("scan", "--fix", "--auto-approve")
    assert run.returncode == 2, run.stderr  # findings remain that no change answered
    assert f"# ESM {manual.esm_uuid} " in run.stdout
    assert "manual steps only, nothing to apply" in run.stdout
    assert "is FAILED, not ACTIVE" in run.stdout
    assert f"{fixable.esm_uuid}: done" in run.stdout


@pytest.mark.parametrize(
    ("scenario", "said", "not_said"),
    [
        ("cluster-failed", "its plan is manual steps only", "fixed"),  # issue 24 N7: MAINTENANCE serves
        ("scram-nat", "nothing to fix", "fixed"),
    ],
)
def test_demo_says_fixed_only_when_it_fixed_something(
    cli: CliRunner, scenario: str, said: str, not_said: str
) -> None:
    run = cli("demo", "--scenario", scenario, "--auto-approve", "--no-color")
    assert run.returncode == 0, run.stderr
    last = [line for line in run.stderr.splitlines() if line.startswith("Demo complete")]
    assert len(last) == 1, run.stderr
    assert said in last[0]
    assert not_said not in last[0]
    assert "remediate apply" not in run.stderr  # nothing to apply, so no apply step
