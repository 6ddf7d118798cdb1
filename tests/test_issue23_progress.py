"""issue 23 item 7 (operator hunt N8): retries and long waits print a line at least every
`progress_interval` seconds (10 by default; small here, so no test waits 10 s), and the connect and
read timeouts of each AWS request are settings (environment and config file)."""

from __future__ import annotations

import re
from pathlib import Path

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import CliRunner, settle
from tests.safety import error_lines

FAST = {"REMEDIATE_PROGRESS_INTERVAL": "0.2"}


def test_n8_a_retried_write_says_so_without_debug(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.faults.add(
        FaultRule(service="lambda", operation="UpdateEventSourceMapping", kind="status", status=503, times=2)
    )
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", env=FAST)
    assert run.returncode == 0, run.stderr
    assert re.search(
        r"^  - retrying lambda:UpdateEventSourceMapping \(\w+, attempt 2/6, in [0-9.]+s\)$",
        run.stderr,
        re.MULTILINE,
    ), run.stderr
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 1


def test_n8_a_slow_answer_prints_a_line_every_interval(sandbox: Sandbox, cli: CliRunner) -> None:
    """An answer that takes 1.2 s: with progress_interval 0.2 s, `diagnose` says it is still working
    several times meanwhile (on AWS: an endpoint that accepts and never answers, for minutes)."""
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.faults.add(
        FaultRule(service="lambda", operation="GetEventSourceMapping", kind="latency", latency=1.2, times=1)
    )
    run = cli("diagnose", "--esm", scn.esm_uuid, env=FAST)
    assert run.returncode == 0, run.stderr
    ticks = [line for line in run.stderr.splitlines() if line.startswith("  - still working (")]
    assert len(ticks) >= 3, run.stderr


def test_n8_no_line_by_default_within_the_interval(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    run = cli("diagnose", "--esm", scn.esm_uuid)
    assert run.returncode == 0, run.stderr
    assert "still working" not in run.stderr


def test_n8_the_read_timeout_is_a_setting(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.faults.add(
        FaultRule(service="lambda", operation="GetEventSourceMapping", kind="latency", latency=1.5, times=1)
    )
    run = cli(
        "diagnose",
        "--esm",
        scn.esm_uuid,
        env={"REMEDIATE_READ_TIMEOUT": "0.3", "REMEDIATE_RETRY_ATTEMPTS": "1"},
    )
    assert run.returncode == 1
    (line,) = error_lines(run.stderr)
    assert "Read timeout" in line, line


def test_n8_the_timeouts_are_read_from_the_config_file(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path
) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    config = tmp_path / "remediate.toml"
    config.write_text("[remediate]\nread_timeout = 0.3\nconnect_timeout = 2\nretry_attempts = 1\n")
    sandbox.faults.add(
        FaultRule(service="lambda", operation="GetEventSourceMapping", kind="latency", latency=1.5, times=1)
    )
    run = cli("diagnose", "--esm", scn.esm_uuid, "--config", str(config))
    assert run.returncode == 1
    (line,) = error_lines(run.stderr)
    assert "Read timeout" in line, line


def test_n8_a_bad_timeout_is_one_line(cli: CliRunner) -> None:
    run = cli("diagnose", "--esm", "x", env={"REMEDIATE_CONNECT_TIMEOUT": "0"})
    assert run.returncode == 1
    (line,) = error_lines(run.stderr)
    assert "invalid setting 'connect_timeout' (environment REMEDIATE_CONNECT_TIMEOUT)" in line
