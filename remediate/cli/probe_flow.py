"""The probe run shared by `remediate probe` and `remediate diagnose --probe-from-vpc` (issue 22).

Plan the probe (the function to create, where, as whom, with which package; the one invocation; the
deletion), ask for approval, then under the mapping's lock and in a journal: remove what a killed probe
left, create the function, invoke it, delete it and its log group; then diagnose again with what it
measured. SIGTERM is turned into the same exception as Ctrl-C, so the deletion runs on both.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click

from remediate.cli.context import Ctx
from remediate.cli.interrupts import SignalAbort, signal_name
from remediate.cli.reporter import ask_yes
from remediate.errors import ApprovalRefused, InputError


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    def handler(signum: int, _frame: FrameType | None) -> None:
        raise SignalAbort(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _interrupted_says_so(name: str, esm_uuid: str) -> Iterator[None]:
    """A signal after approval: the `finally` blocks have deleted the function and released the lock;
    say so (not "nothing was changed"), and exit 128 + the signal as the shell expects."""
    try:
        yield
    except KeyboardInterrupt as exc:
        signum = int(getattr(exc, "signum", signal.SIGINT))
        click.echo(
            f"\n{signal_name(signum)} received: the probe function {name} and its log group were deleted; "
            f"if its creation was still in flight, the next `remediate probe --esm {esm_uuid}` removes it.",
            err=True,
        )
        sys.exit(128 + signum)


PROVISIONED_NOTE = (  # issue 22: probe_request's provisioned-mode rule
    "provisioned mode: its pollers reach the brokers from this same place, but call Secrets Manager, "
    "STS and Lambda outside the VPC; the probe reads the secrets from here, so a failed read is the "
    "probe's path, not the pollers'"
)


def render_plan(spec: dict[str, Any], event: dict[str, Any], sha256: str, size: int, note: str = "") -> str:
    vpc = spec.get("VpcConfig")
    where = (
        f"subnets {', '.join(vpc['SubnetIds'])}; security groups {', '.join(vpc['SecurityGroupIds'])}"
        if vpc
        else "no VPC (the mapping's pollers reach the brokers over the internet)"
    )
    auth = event["auth"]
    secrets = [a for a in (auth.get("secret_arn"), auth.get("ca_secret_arn")) if a]
    lines = [
        "remediate will perform the following actions:",
        "",
        f"  + lambda function {spec['FunctionName']}",
        f"      runtime      {spec['Runtime']} ({spec['Handler']}), {spec['MemorySize']} MB, "
        f"timeout {spec['Timeout']} s",
        f"      role         {spec['Role']} (the mapping's execution role)",
        f"      placement    {where}",
        *([f"      mode         {note}"] if note else []),
        f"      package      {size} bytes, sha256 {sha256}",
        f"      tags         {', '.join(f'{k}={v}' for k, v in spec['Tags'].items())}",
        f"  ~ invoke it once: {event['security_protocol']} to {', '.join(event['bootstrap'])}",
        f"      auth         {auth.get('kind')}"
        + (f" ({auth['mechanism']})" if auth.get("mechanism") else "")
        + (f"; secrets read inside the function: {', '.join(secrets)}" if secrets else ""),
        f"      topics       {', '.join(event['topics']) or '-'}; consumer group {event['group']}",
        f"  - delete the function and its log group /aws/lambda/{spec['FunctionName']}",
        "",
        "Plan: 1 to add, 1 to invoke, 1 to destroy.",
        "",
    ]
    return "\n".join(lines)


def measure_from_vpc(ctx: Ctx, run: Any, auto_approve: bool) -> dict[str, Any]:
    """Plan, approve and run the probe for the observed mapping (`run`), then diagnose again with what it
    measured: `run.facts.measured` is filled and `run.findings` recomputed (the "measured" findings,
    `checks.measured`). Shared by `remediate probe` and `remediate diagnose --probe-from-vpc`; returns
    the probe's record (run id, function, what was swept, its result)."""
    from remediate import probe_session
    from remediate.probe_request import NotProbeable

    facts = run.facts
    assert facts is not None
    try:
        prepared = probe_session.prepare(facts)
    except NotProbeable as exc:
        raise InputError(f"cannot probe ESM {facts.esm.uuid}: {exc}") from None
    request, package, name, spec = prepared.request, prepared.package, prepared.name, prepared.spec
    uuid = facts.esm.uuid
    note = PROVISIONED_NOTE if not request.secrets_read_like_pollers else ""
    click.echo(render_plan(spec, request.event, package.sha256, len(package.data), note), err=True)
    if not ask_yes(
        auto_approve,
        "Do you want to run the probe?\n  remediate will create, invoke and delete the function above.",
        "no terminal to ask for approval: nothing was created (use --auto-approve)",
    ):
        raise ApprovalRefused("the probe was not approved; nothing was created")

    def swept_note(names: list[str]) -> None:
        click.echo(f"Removed {len(names)} probe function(s) a killed run left: {', '.join(names)}", err=True)

    with _terminate_as_interrupt(), _interrupted_says_so(name, uuid):
        swept, result = probe_session.execute(
            ctx.aws(),
            facts,
            prepared,
            state_dir=ctx.settings.state_dir,
            lock_ttl=ctx.settings.lock_ttl,
            on_swept=swept_note,
        )
    # issue 22: the measurements are facts like any other; the checks turn failed steps into findings.
    run.facts, run.findings = probe_session.measure(facts, run.playbooks, result, prepared.run_id)
    return {
        "run_id": prepared.run_id,
        "function": name,
        "swept": swept,
        "placement": probe_session.placement(request),
        "result": result,
    }
