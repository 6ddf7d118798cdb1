"""What every command shares: the common options, settings and logging (`Ctx`), one-line errors.

Heavy imports (boto3, rich, the engine) happen inside commands, so `remediate --help` starts fast.
Standard output carries only what was asked for (a rendered plan, or one JSON document); logs,
progress and the approval prompt go to standard error.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from remediate.errors import RemediateError

if TYPE_CHECKING:
    from remediate.config import Settings

F = TypeVar("F", bound=Callable[..., Any])


def common(fn: F) -> F:
    """Options every AWS-facing command takes (flags win over environment and config file)."""
    options = [
        click.option("--profile", help="AWS profile (default: the standard chain)."),
        click.option("--region", help="AWS region (default: the standard chain)."),
        click.option("--config", "config_file", type=click.Path(path_type=Path), help="TOML settings file."),
        click.option(
            "--output", type=click.Choice(["text", "json"]), help="text (default) or one JSON document."
        ),
        click.option(
            "--log-format", type=click.Choice(["auto", "console", "json"]), help="log renderer on stderr."
        ),
        click.option("--no-color", is_flag=True, default=False, help="no ANSI colors (also: NO_COLOR)."),
        click.option("--debug", is_flag=True, default=False, help="debug logs and tracebacks."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


class Ctx:
    """Per-invocation settings, logging and AWS session, built once from the common options."""

    def __init__(self, **opts: Any) -> None:
        from remediate import log
        from remediate.config import load_settings

        self.debug = bool(opts.get("debug"))
        flags = {k: opts.get(k) for k in ("profile", "region", "output", "log_format")}
        if opts.get("no_color") or "NO_COLOR" in os.environ:
            flags["color"] = False
        if self.debug:
            flags["log_level"] = "debug"
        self.settings: Settings = load_settings(opts.get("config_file"), **flags)
        self.color = self.settings.color and sys.stdout.isatty()
        log.configure(self.settings.log_format, self.settings.log_level, color=self.settings.color)

    def aws(self) -> Any:
        from remediate.aws import Aws

        return Aws.from_settings(self.settings)

    def playbooks(self) -> Any:
        from remediate.run import playbook

        return playbook.load(self.settings.playbooks_dir)

    def emit(self, text: str) -> None:
        from remediate.log import redact

        click.echo(redact(text), nl=False)

    def emit_json(self, doc: dict[str, Any]) -> None:
        self.emit(json.dumps(doc, indent=2, sort_keys=True) + "\n")


def parse_duration(text: str) -> float:
    """Seconds from `90`, `90s`, `5m` or `1h`; click.BadParameter (exit 1) for anything else."""
    units = {"s": 1, "m": 60, "h": 3600}
    value = text.strip().lower()
    scale = units.get(value[-1:], 1) if value else 1
    number = value[:-1] if value[-1:] in units else value
    try:
        seconds = float(number) * scale
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a duration like 90s, 5m or 1h") from None
    if not 0 < seconds <= 86400:
        raise click.BadParameter(f"{text!r} must be between 1s and 24h")
    return seconds


def guard(fn: F) -> F:
    """Turn every RemediateError into one line on stderr and its exit code."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RemediateError as exc:
            if kwargs.get("debug"):
                raise
            from remediate.log import redact

            click.echo(f"Error: {redact(str(exc))}", err=True)
            sys.exit(exc.exit_code)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper  # type: ignore[return-value]
