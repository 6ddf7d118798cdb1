"""Issue 23, item 9: the operator hunt's (2026-12-06) low items that still reproduced, one test each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import CliRunner
from tests.safety import error_lines
from tests.test_completion import complete

UNKNOWN = "00000000-0000-0000-0000-000000000000"


def test_n14_an_unknown_mapping_is_worded_alike_by_every_command(cli: CliRunner) -> None:
    for command in (
        ("apply", "--esm", UNKNOWN, "--auto-approve"),
        ("unlock", "--esm", UNKNOWN, "--auto-approve"),
    ):
        run = cli(*command)
        assert run.returncode == 1
        assert error_lines(run.stderr) == [f"Error: no event source mapping {UNKNOWN} in us-east-1"], (
            run.stderr
        )


def test_n25_a_saved_plan_without_changes_is_not_offered_for_apply(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path
) -> None:
    scn = build_scenario(sandbox, "healthy-msk")
    out = tmp_path / "plan.json"
    run = cli("plan", "--esm", scn.esm_uuid, "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert f"Saved the plan to {out}; it has no changes, so there is nothing to apply" in run.stderr
    assert "remediate apply" not in run.stderr


def test_n26_validating_an_empty_directory_is_an_error(cli: CliRunner, tmp_path: Path) -> None:
    run = cli("playbooks", "validate", str(tmp_path))
    assert run.returncode == 1
    assert error_lines(run.stderr) == [f"Error: no playbook (*.yaml) in {tmp_path}"]


def test_n27_a_pasted_run_id_and_a_nested_setting_are_understood(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    applied = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    run_id = applied.stdout.rsplit("Run id: ", 1)[1].split()[0]
    undo = cli("rollback", f" {run_id} ", "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    assert f"Rollback of {run_id} complete" in undo.stdout
    bad = cli("plan", "--esm", scn.esm_uuid, env={"REMEDIATE_API_RATES": '{"lambda": -1}'})
    assert bad.returncode == 1
    (line,) = error_lines(bad.stderr)
    assert line.startswith("Error: invalid setting 'api_rates.lambda' (environment REMEDIATE_API_RATES):")


def test_n17_debug_gives_the_traceback_of_an_apply_error(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.faults.add(
        FaultRule(service="lambda", operation="UpdateEventSourceMapping", kind="status", status=400)
    )
    run = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", "--debug")
    assert run.returncode == 1
    assert "Traceback (most recent call last)" in run.stderr
    assert "Error: lambda:update_event_source_mapping failed: BadRequest" in run.stderr


def test_n16_rolling_back_a_run_whose_rollback_was_rolled_back_undoes_it_again(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    """R1 applied, R2 undid R1, R3 undid R2 (R1's change is in effect again): `rollback R1` undoes
    it once more instead of saying "already rolled back by R2"."""
    scn = build_scenario(sandbox, "broker-timeout")
    lam = sandbox.client("lambda")
    before = lam.get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"]
    applied = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    r1 = applied.stdout.rsplit("Run id: ", 1)[1].split()[0]
    after = lam.get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"]
    assert after != before
    undo = cli("rollback", r1, "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    r2 = undo.stdout.rsplit("Run id: ", 1)[1].split()[0]
    redo = cli("rollback", r2, "--auto-approve")
    assert redo.returncode == 0, redo.stderr
    assert lam.get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"] == after
    again = cli("rollback", r1, "--auto-approve")
    assert again.returncode == 0, again.stderr
    assert "already rolled back" not in again.stdout
    assert f"Rollback of {r1} complete" in again.stdout
    assert lam.get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"] == before
    twice = cli("rollback", r1, "--auto-approve")
    assert "already rolled back by run" in twice.stdout, twice.stdout + twice.stderr


def test_n18_flags_that_change_nothing_say_so(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    """operator-hunt N18: each ignored flag is one `Warning:` line; the command still does its work."""
    scn = build_scenario(sandbox, "broker-timeout")
    diag = cli("diagnose", "--esm", scn.esm_uuid, "--probe-timeout", "2")
    assert diag.returncode == 0, diag.stderr
    assert "Warning: --probe-timeout is ignored without --probe" in diag.stderr
    plan = cli("plan", "--esm", scn.esm_uuid, "--fix-with", "provisioned-mode")
    assert plan.returncode == 0, plan.stderr
    assert f"Warning: --fix-with provisioned-mode is ignored: no finding of ESM {scn.esm_uuid} offers it" in (
        plan.stderr
    )
    role = "arn:aws:iam::123456789012:role/RemediateAutomation"
    person = cli(
        "iam-policy", "--for", "starter", "--mode", "diagnose", "--role-arn", role, "--output", "json"
    )
    assert person.returncode == 0, person.stderr
    assert person.stderr.splitlines() == [
        "Warning: --mode is ignored with --for starter (it shapes the policy of --for tool)"
    ]
    assert json.loads(person.stdout)["mode"] is None
    template = cli("ssm-document", "--cloudformation", "account", "--approver", role)
    assert template.returncode == 0, template.stderr
    assert "Warning: --approver is ignored with --cloudformation" in template.stderr
    notzip = tmp_path / "notzip.zip"
    notzip.write_text("hello")
    bundle = cli("ssm-document", "--approver", role, "--bundle", str(notzip))
    assert bundle.returncode == 1
    assert error_lines(bundle.stderr) == [
        f"Error: --bundle {notzip} is not a zip file (build one with `remediate ssm-bundle`)"
    ]
    unaffected = cli("diagnose", "--esm", scn.esm_uuid, "--probe", "--probe-timeout", "0.5")
    assert "Warning" not in unaffected.stderr


def test_n7_a_persons_policy_without_its_role_prints_the_error_document(cli: CliRunner) -> None:
    run = cli("iam-policy", "--for", "starter", "--output", "json")
    assert run.returncode == 1
    assert json.loads(run.stdout)["schema"] == "remediate/error@1"


def test_n24_a_rollback_shows_deletes_with_minus_and_rule_ids_as_text(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    """operator-hunt N24: a rollback's delete block had `+ Attr = ...` lines, and revoking a rule
    printed a Python list (`['sgr-...']`)."""
    scn = build_scenario(sandbox, "msk-iam-no-self-ingress")
    applied = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    run_id = applied.stdout.rsplit("Run id: ", 1)[1].split()[0]
    undo = cli("rollback", run_id, "--auto-approve")
    assert undo.returncode == 0, undo.stderr
    blocks = undo.stdout.split("  - ")[1:]
    assert blocks, undo.stdout
    for block in blocks:
        body = block.split("\n    }", 1)[0]
        assert "      + " not in body, body
    assert "revoking ingress rule(s) sgr-" in undo.stderr, undo.stderr
    assert "['" not in undo.stderr


def test_n24_playbooks_list_columns_do_not_run_together(cli: CliRunner) -> None:
    run = cli("playbooks", "list")
    assert run.returncode == 0, run.stderr
    rows = run.stdout.splitlines()
    starts = set()
    for row in rows:
        name, findings, _actions = row.split("  ", 2)[0], *row.split("  ", 1)[1].lstrip().split("  ", 1)
        starts.add(row.index(findings, len(name)))
    assert len(starts) == 1, run.stdout


def test_n19_demo_without_a_terminal_and_with_an_unknown_scenario(cli: CliRunner) -> None:
    """operator-hunt N19: without a terminal the demo said two errors after seeding; an unknown
    scenario was one 1,734-character line; --no-color had no help; --scenario completed nothing."""
    run = cli("demo")
    assert run.returncode == 1
    assert error_lines(run.stderr) == [
        "Error: the demo asks for approval before it applies, and there is no terminal to ask on: "
        "run `remediate demo --auto-approve`"
    ]
    assert "Seeded scenario" not in run.stderr
    typo = cli("demo", "--scenario", "broker-timeot", "--auto-approve")
    assert typo.returncode == 1
    assert error_lines(typo.stderr) == [
        "Error: unknown scenario 'broker-timeot' (did you mean broker-timeout?); "
        "`python -m remediate.sandbox --list` names them all"
    ]
    helped = cli("demo", "--help")
    assert "--no-color" in helped.stdout
    assert "no colors" in helped.stdout.split("--no-color", 1)[1].split("\n  -", 1)[0]
    words = complete(  # a real shell's TAB: click's completion protocol, in a process of its own
        {
            "_REMEDIATE_COMPLETE": "bash_complete",
            "COMP_WORDS": "remediate demo --scenario broker-time",
            "COMP_CWORD": "3",
        }
    )
    assert "plain,broker-timeout" in words.stdout.split(), words.stdout + words.stderr


def test_n19_the_sandbox_lists_its_scenarios_with_what_each_shows(capsys: pytest.CaptureFixture[str]) -> None:
    from remediate.sandbox.__main__ import main

    assert main(["--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    row = next(line for line in listed if line.startswith("broker-timeout "))
    assert "Brokers reachable but timing out" in row
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = capsys.readouterr().out
    assert "healthy-msk" not in shown  # the names are behind --list, not a 99-name choice list


def test_n21_ssm_run_refuses_bad_input_before_any_step(sandbox: Sandbox, cli: CliRunner) -> None:
    role = "arn:aws:iam::123456789012:role/RemediateAutomation"
    bad = cli("ssm-run", "--local", "--role-arn", role, "--esm", "not-a-uuid")
    assert bad.returncode == 1
    assert error_lines(bad.stderr) == ["Error: 'not-a-uuid' is not an event source mapping UUID or ARN"]
    none = cli("ssm-run", "--local", "--role-arn", role)
    assert none.returncode == 1
    assert error_lines(none.stderr) == [
        "Error: --mode Apply changes one mapping: give --esm (every mapping: Diagnose or Plan)"
    ]
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.clear_calls()
    blind = cli("ssm-run", "--local", "--role-arn", role, "--esm", scn.esm_uuid)
    assert blind.returncode == 1
    assert error_lines(blind.stderr) == [
        "Error: --mode Apply has an approval step and there is no terminal to ask on: "
        "give --approve yes (or no); nothing was run"
    ]
    assert sandbox.calls == []


def test_n20_scan_of_two_regions_shows_the_region_column(sandbox: Sandbox, cli: CliRunner) -> None:
    """operator-hunt N20: with every mapping in us-east-1, nothing said eu-west-1 was scanned."""
    scn = build_scenario(sandbox, "healthy-msk")
    run = cli("scan", "--region", "us-east-1", "--region", "eu-west-1")
    assert run.returncode == 0, run.stderr
    header, *rows = run.stdout.splitlines()
    assert header.split()[:2] == ["REGION", "ESM"]
    row = next(r for r in rows if scn.esm_uuid in r)
    assert row.split()[:2] == ["us-east-1", scn.esm_uuid]
    assert "mapping(s) scanned in us-east-1, eu-west-1:" in run.stdout
    one = cli("scan", "--region", "us-east-1")
    assert one.stdout.split()[0] == "ESM"


def test_n25_plan_says_who_holds_the_mappings_lock(sandbox: Sandbox, cli: CliRunner) -> None:
    """operator-hunt N25: `plan` while another run holds the lock said nothing (Terraform's plan does);
    a role denied lambda:ListTags plans as before, silently."""
    import time

    scn = build_scenario(sandbox, "broker-timeout")
    lam = sandbox.client("lambda")
    arn = lam.get_event_source_mapping(UUID=scn.esm_uuid)["EventSourceMappingArn"]
    since = int(time.time()) - 60
    holder = f"held/r-20261207T000000Z-abcdef/other-host/4242/{since}/{since + 3600}"
    lam.tag_resource(Resource=arn, Tags={"remediate:lock:0123456789abcdef": holder})
    run = cli("plan", "--esm", scn.esm_uuid)
    assert run.returncode == 0, run.stderr
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since))
    assert (
        f"Note: ESM {scn.esm_uuid} is locked by run r-20261207T000000Z-abcdef (host other-host, pid 4242) "
        f"since {stamp}: an apply now is refused until it ends; if that run is no longer running: "
        f"remediate unlock --esm {scn.esm_uuid}"
    ) in run.stderr.splitlines()
    sandbox.faults.add(FaultRule(service="lambda", operation="ListTags", kind="status", status=403))
    denied = cli("plan", "--esm", scn.esm_uuid)
    assert denied.returncode == 0, denied.stderr
    assert "locked" not in denied.stderr
    assert "COULD_NOT_CHECK" not in denied.stdout


def test_n26_invalid_yaml_is_one_line_per_file(cli: CliRunner, tmp_path: Path) -> None:
    """operator-hunt N26: PyYAML's multi-line message (the text quoted under a caret) became one line."""
    (tmp_path / "broken.yaml").write_text("name: broken\nfindings: [A\nactions: []\n")
    (tmp_path / "tabs.yaml").write_text("name: tabs\n\tfindings: []\n")
    run = cli("playbooks", "validate", str(tmp_path))
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 2, run.stderr
    assert lines[0].startswith(f"Error: {tmp_path / 'broken.yaml'}: invalid YAML at line "), lines[0]
    tabs = f"Error: {tmp_path / 'tabs.yaml'}: invalid YAML at line 2, column 1: "
    assert lines[1].startswith(tabs), lines[1]
