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

from remediate.errors import InputError, RemediateError

if TYPE_CHECKING:
    from remediate.aws import Aws
    from remediate.config import Settings
    from remediate.run.journal import RunRecord

ERROR_SCHEMA = "remediate/error@1"
_current: list[Ctx] = []  # the invocation's Ctx, once built: how `guard` knows the output format

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
    """Per-invocation settings, logging and AWS session, built once from the common options.

    The target's own region and account win over the standard chain's: an ESM ARN, a plan file
    and a journal name where their mapping lives (`target`). Only an explicit `--region` that says
    otherwise is an error; the account is checked against the credentials' (sts:GetCallerIdentity)
    when the session is opened.
    """

    def __init__(self, **opts: Any) -> None:
        from remediate import log
        from remediate.config import load_settings

        self.debug = bool(opts.get("debug"))
        flags = {k: opts.get(k) for k in ("profile", "region", "output", "log_format")}
        if opts.get("no_color") or "NO_COLOR" in os.environ:
            flags["color"] = False
        if self.debug:
            flags["log_level"] = "debug"
        self._region_flag: str | None = opts.get("region")
        self._account: str | None = None
        self._what = ""
        self.settings: Settings = load_settings(opts.get("config_file"), **flags)
        self.color = self.settings.color and sys.stdout.isatty()
        log.configure(self.settings.log_format, self.settings.log_level, color=self.settings.color)
        _current[:] = [self]
        from remediate.cli import ticker

        ticker.start(self.settings.progress_interval)  # issue 23 (N8): never silent for long

    def target(self, region: str | None, account: str | None, what: str) -> None:
        """Act in the region and account `what` (an ESM ARN, a plan, a journal) says it lives in."""
        if region and region != self.settings.region:
            if self._region_flag and self._region_flag != region:
                raise InputError(f"--region {self._region_flag} does not match {what}, which is in {region}")
            self.settings = self.settings.model_copy(update={"region": region})
        if account:
            self._account, self._what = account, what

    def target_esm(self, esm: str) -> None:
        """`--esm`: an ARN names its region and account; a bare UUID leaves the standard chain's."""
        from remediate.aws import arn_region_account

        parts = arn_region_account(esm.strip())
        if parts is not None:
            self.target(parts[0], parts[1], f"ESM {esm.strip()}")

    def aws(self) -> Aws:
        from remediate.aws import Aws

        aws = Aws.from_settings(self.settings)
        if self._account:
            aws.check_account(self._account, self._what)
        return aws

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


def wants_json(opts: dict[str, Any]) -> bool:
    """Whether standard output is to carry JSON: the built settings say, else the flag or env."""
    if _current:
        return _current[0].settings.output == "json"
    return (opts.get("output") or os.environ.get("REMEDIATE_OUTPUT", "")).strip().lower() == "json"


def argv_wants_json(argv: list[str]) -> bool:
    """issue 23: whether an exit before (or outside) a command's own handling owes standard output
    a JSON document: `--output json` among the arguments, or REMEDIATE_OUTPUT, or the built settings."""
    if _current:
        return _current[0].settings.output == "json"
    for i, arg in enumerate(argv):
        if (arg == "--output" and argv[i + 1 : i + 2] == ["json"]) or arg == "--output=json":
            return True
    return os.environ.get("REMEDIATE_OUTPUT", "").strip().lower() == "json"


def error_document(message: str, code: int) -> None:
    """The `remediate/error@1` document on standard output (for `--output json`)."""
    from remediate.log import redact

    body = {"schema": ERROR_SCHEMA, "error": message, "exit_code": code}
    click.echo(redact(json.dumps(body, indent=2, sort_keys=True)))


def fail(message: str, code: int, opts: dict[str, Any], doc: dict[str, Any] | None = None) -> None:
    """Exit with one `Error:` line on stderr and, with `--output json`, one document on stdout (the
    command's own, if it has one for this outcome, else `remediate/error@1`)."""
    from remediate.log import redact

    click.echo(f"Error: {redact(message)}", err=True)
    if wants_json(opts):
        if doc is None:
            error_document(message, code)
        else:
            click.echo(redact(json.dumps(doc, indent=2, sort_keys=True)))
    sys.exit(code)


def guard(fn: F) -> F:
    """Turn every RemediateError into one line on stderr and its exit code (and, with
    `--output json`, an error document on stdout, so stdout always carries exactly one)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from remediate.cli import ticker

        _current.clear()
        try:
            return fn(*args, **kwargs)
        except RemediateError as exc:
            if kwargs.get("debug"):
                raise
            ticker.stop()
            fail(str(exc), exc.exit_code, kwargs)
        finally:
            ticker.stop()

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper  # type: ignore[return-value]


# create-topic and system-logs: issue 21; delete-strays and monitoring: issue 25
FIX_WITH = (
    "free-space",
    "provisioned-mode",
    "batch-size-1",
    "create-topic",
    "system-logs",
    "delete-strays",
    "monitoring",
)
"""The alternative fixes the shipped playbooks offer (`alternatives:`), chosen by name."""


def fix_with_option(fn: F) -> F:
    """`plan/apply --fix-with NAME`: a playbook's alternative fix instead of its own, never silently."""
    return click.option(
        "--fix-with",
        "fix_with",
        multiple=True,
        type=click.Choice(FIX_WITH),
        help="Plan a playbook's alternative fix instead of its own (provisioned-mode: switch the mapping to "
        "provisioned mode instead of creating VPC endpoints, which costs event poller units; free-space: "
        "free broker storage by hand instead of growing it; batch-size-1: the article's batch size 1 and a "
        "restart of the pollers for a connection error nothing explains; create-topic: create a missing "
        "topic with MSK's CreateTopic, sized like the cluster's other topics; system-logs: turn on a "
        "provisioned mapping's system logs at WARN, which costs log ingestion; delete-strays: delete a stray "
        "mapping instead of listing the commands; monitoring: alarms on the function's OffsetLag and Errors "
        "and the mapping's metrics).",
    )(fn)


def read_record(ctx: Ctx, run_id: str) -> RunRecord:
    """A run's journal, read before any AWS call; its region and account become the target."""
    from remediate.aws import arn_region_account
    from remediate.run.journal import RunRecord
    from remediate.run.journal_store import local_or_stored

    s = ctx.settings  # a journal only in the SSM bucket is fetched first (the session's own account)
    record = RunRecord(local_or_stored(s.state_dir, run_id, ctx.aws, s.journal_bucket))
    target = record.plan.target
    ctx.target(target.region, (arn_region_account(target.esm_arn) or ("", ""))[1], f"run {run_id}")
    return record
