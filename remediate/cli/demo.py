"""`remediate demo`: the real flow against the embedded sandbox, on a seeded broken trigger.

The demo starts the sandbox, points the standard AWS environment variables at it, and then runs the
very commands a user would type (`diagnose`, `plan`, `apply`, `plan` again) through the same CLI
code. Nothing in the engine knows it is talking to a sandbox.
"""

from __future__ import annotations

import os
import sys
import tempfile

import click

from remediate.cli.context import guard
from remediate.errors import InputError, RemediateError


def _banner(text: str, color: bool) -> None:
    click.echo("\n" + (click.style(text, bold=True, fg="cyan") if color else text), err=True)


def complete_scenario(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[click.shell_completion.CompletionItem]:
    """Shell completion of `--scenario`: the sandbox's scenarios, each with its description
    (issue 23, operator-hunt N19); nothing without the sandbox extra."""
    from click.shell_completion import CompletionItem

    try:
        from remediate.sandbox.scenarios import scenario_names, scenario_options
    except ImportError:
        return []
    return [
        CompletionItem(name, help=scenario_options(name).description)
        for name in scenario_names()
        if name.startswith(incomplete)
    ]


@click.command()
@click.option(
    "--scenario",
    default="broker-timeout",
    show_default=True,
    shell_complete=complete_scenario,
    help="Sandbox scenario to seed (`python -m remediate.sandbox --list` names them, with what each shows).",
)
@click.option("--auto-approve", is_flag=True, default=False, help="Skip the interactive approval.")
@click.option("--no-color", is_flag=True, default=False, help="Plain text: no colors (as NO_COLOR=1 does).")
@guard
def demo(scenario: str, auto_approve: bool, no_color: bool) -> None:
    """The whole flow against the embedded AWS sandbox, on a seeded broken trigger (no AWS account)."""
    root = click.get_current_context().find_root().command
    assert isinstance(root, click.Group)
    run_demo(root, scenario, auto_approve=auto_approve, color=not no_color and "NO_COLOR" not in os.environ)


def run_demo(cli: click.Group, scenario: str, *, auto_approve: bool, color: bool) -> None:
    """Run the user's commands through `cli`, the command group this demo belongs to."""
    try:
        from remediate.sandbox import Sandbox, build_scenario, scenario_names
    except ImportError as exc:
        raise InputError("the demo needs the sandbox extra: pip install 'remediate[sandbox]'") from exc

    if scenario not in scenario_names():  # issue 23 (N19): one short line, not every name
        import difflib

        close = difflib.get_close_matches(scenario, scenario_names(), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise InputError(
            f"unknown scenario {scenario!r}{hint}; `python -m remediate.sandbox --list` names them all"
        )
    if not auto_approve and not sys.stdin.isatty():  # issue 23 (N19): said before the sandbox starts
        raise InputError(
            "the demo asks for approval before it applies, and there is no terminal to ask on: "
            "run `remediate demo --auto-approve`"
        )
    saved_env = dict(os.environ)
    with Sandbox() as sb, tempfile.TemporaryDirectory(prefix="remediate-demo-") as state_dir:
        _banner(f"Embedded AWS sandbox (moto server) listening on {sb.endpoint_url}", color)
        scn = build_scenario(sb, scenario)
        click.echo(f"Seeded scenario {scn.name!r}: {scn.description}", err=True)
        for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            os.environ.pop(key, None)
        os.environ.update(sb.env())
        os.environ["REMEDIATE_STATE_DIR"] = state_dir
        os.environ.setdefault("REMEDIATE_ESM_POLL_INTERVAL", "0.5")
        try:
            flags = [] if color else ["--no-color"]
            planned = _plan_document(cli, scn.esm_uuid, flags)
            changes, manual = bool(planned.get("changes")), bool(planned.get("manual_steps"))
            steps = [
                ("Diagnose (read-only)", ["diagnose", "--esm", scn.esm_uuid]),
                ("Plan (read-only, like terraform plan)", ["plan", "--esm", scn.esm_uuid]),
            ]
            if changes:
                steps += [
                    (
                        "Apply: approve, change, verify",
                        ["apply", "--esm", scn.esm_uuid, *(["--auto-approve"] if auto_approve else [])],
                    ),
                    (
                        "Plan again: nothing left to do",
                        ["plan", "--esm", scn.esm_uuid, "--detailed-exitcode"],
                    ),
                ]
            for title, args in steps:
                _banner(f"== {title}\n$ remediate {' '.join(args)}", color)
                code = _invoke(cli, [*args, *flags])
                if code not in (0, 2) or (args[0] == "plan" and "--detailed-exitcode" in args and code != 0):
                    raise RemediateError(f"demo stopped: `remediate {' '.join(args)}` exited {code}")
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
    _banner(f"Demo complete: {scenario} {outcome(changes, manual)}", color)


def outcome(changes: bool, manual: bool) -> str:
    """What the demo did, in words: "fixed" only when it applied a change, "manual steps" when that is
    all the plan holds."""
    if changes and manual:
        return "was diagnosed, fixed and verified; the manual steps shown in the plan are left to do."
    if changes:
        return "was diagnosed, fixed and verified; a new plan shows no changes."
    if manual:
        return "was diagnosed; its plan is manual steps only (shown above), so nothing was changed."
    return "was diagnosed: nothing to fix, so nothing was changed."


def _plan_document(cli: click.Group, esm: str, flags: list[str]) -> dict[str, object]:
    """The plan as JSON, computed quietly first, so the demo knows whether it has anything to apply."""
    import contextlib
    import io
    import json

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = _invoke(cli, ["plan", "--esm", esm, "--output", "json", *flags])
    if code != 0:
        raise RemediateError(f"demo stopped: `remediate plan --esm {esm} --output json` exited {code}")
    doc: dict[str, object] = json.loads(out.getvalue())
    return doc


def _invoke(cli: click.Group, args: list[str]) -> int:
    try:
        cli.main(args, prog_name="remediate", standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    except click.ClickException as exc:
        exc.show()
        return 1
    return 0
