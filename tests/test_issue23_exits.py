"""issue 23 item 7: `scan --function` with a function that has no mapping is an error (operator hunt
N10), and with `--output json` a usage error still prints one JSON document (N7, old #5)."""

from __future__ import annotations

import json

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner
from tests.safety import error_lines


def test_n10_scan_function_with_a_typo_is_an_error(sandbox: Sandbox, cli: CliRunner) -> None:
    build_scenario(sandbox, "broker-timeout")
    run = cli("scan", "--function", "nosuch")
    assert run.returncode == 1
    (line,) = error_lines(run.stderr)
    assert line == "Error: no Kafka or MSK mapping for function nosuch in us-east-1"
    assert "0 mapping(s) scanned" not in run.stdout


def test_n10_scan_function_json_prints_the_error_document(sandbox: Sandbox, cli: CliRunner) -> None:
    run = cli("scan", "--function", "nosuch", "--output", "json")
    assert run.returncode == 1
    doc = json.loads(run.stdout)
    assert doc["schema"] == "remediate/error@1"
    assert "nosuch" in doc["error"]


def test_n7_a_usage_error_with_output_json_prints_one_document(cli: CliRunner) -> None:
    for args in (("diagnose", "--output", "json"), ("plan", "--output=json", "--bogus")):
        run = cli(*args)
        assert run.returncode == 1
        doc = json.loads(run.stdout)
        assert doc["schema"] == "remediate/error@1", args
        assert doc["exit_code"] == 1


def test_n7_a_usage_error_with_remediate_output_json_prints_one_document(cli: CliRunner) -> None:
    run = cli("apply", "--esm", "x", "--watch", "0", env={"REMEDIATE_OUTPUT": "json"})
    assert run.returncode == 1
    assert json.loads(run.stdout)["schema"] == "remediate/error@1"


def test_n7_a_failed_apply_reports_no_run_id_without_a_journal(cli: CliRunner) -> None:
    """operator-hunt N7: `apply --esm nope --output json` named a run whose journal never existed."""
    run = cli("apply", "--esm", "00000000-0000-0000-0000-000000000000", "--auto-approve", "--output", "json")
    assert run.returncode == 1
    doc = json.loads(run.stdout)
    assert doc["run_id"] is None, doc


def test_n7_a_usage_error_is_one_line_on_stderr(cli: CliRunner) -> None:
    """operator-hunt N7: click's four-line usage block became one `Error:` line (README: one line)."""
    for args in (("diagnose", "--output", "json"), ("plan", "--output=json", "--bogus"), ("diagnose",)):
        run = cli(*args)
        assert run.returncode == 1
        (line,) = run.stderr.strip().splitlines()
        assert line.startswith("Error: "), line
        assert line.endswith(f"; see 'remediate {args[0]} --help'"), line
