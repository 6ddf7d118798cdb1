"""SSM Automation: the runbook, its bundle, a local runner, and starting it in AWS."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from remediate.cli.context import Ctx, common, guard
from remediate.errors import ApprovalRefused, InputError


@click.command("ssm-document")
@click.option(
    "--bundle", type=click.Path(path_type=Path, exists=True, dir_okay=False), help="The bundle zip."
)
@click.option("--cloudformation", is_flag=True, default=False, help="The deploy template instead.")
@click.option("--out", type=click.Path(path_type=Path), help="Write to FILE instead of standard output.")
@guard
def ssm_document(bundle: Path | None, cloudformation: bool, out: Path | None) -> None:
    """Print the SSM Automation runbook (schemaVersion 0.3) that runs the same engine.

    With --bundle its `files` section names that zip by sha256 and size (SSM needs it to attach the
    bundle); --cloudformation prints the stack that deploys the runbook and its AutomationAssumeRole.
    """
    import hashlib

    from remediate.ssm import document as docs

    if cloudformation:
        text = docs.template_yaml()
    else:
        attachment = None
        if bundle is not None:
            data = bundle.read_bytes()
            attachment = docs.Attachment(docs.ATTACHMENT, hashlib.sha256(data).hexdigest(), len(data))
        else:
            click.echo("Note: no --bundle: the runbook has no files section yet.", err=True)
        text = docs.to_yaml(docs.runbook(attachment))
    if out:
        out.write_text(text)
        click.echo(f"Wrote {out}", err=True)
    else:
        click.echo(text, nl=False)


@click.command("ssm-bundle")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--download",
    is_flag=True,
    default=False,
    help="Take manylinux wheels for --arch from PyPI (default: repack what is installed here).",
)
@click.option("--arch", type=click.Choice(["x86_64", "arm64"]), default="x86_64", show_default=True)
@guard
def ssm_bundle(out_dir: Path, download: bool, arch: str) -> None:
    """Build the runbook's attachment zip (package, dependencies, playbooks) and the matching runbook."""
    from remediate.ssm import bundle as bundles
    from remediate.ssm import document as docs

    built = bundles.build(
        out_dir, source="download" if download else "installed", arch="arm64" if arch == "arm64" else "x86_64"
    )
    runbook_path = out_dir / "remediate-runbook.yaml"
    runbook_path.write_text(docs.to_yaml(docs.runbook(built.attachment)))
    note = None if download else bundles.host_platform_note()
    if note:
        click.echo(f"Note: {note}.", err=True)
    click.echo(f"{built.path}  sha256 {built.sha256}  {built.size} bytes  {len(built.entries)} files")
    click.echo(f"{runbook_path}  (its files section names the bundle)")


@click.command("ssm-run")
@click.option("--local", is_flag=True, default=False, help="Run the runbook here, step by step (required).")
@click.option("--esm", required=True, help="ESM UUID or ARN.")
@click.option("--mode", type=click.Choice(["Diagnose", "Plan", "Apply"]), default="Apply", show_default=True)
@click.option("--approve", type=click.Choice(["yes", "no"]), help="Answer the approval step (default: ask).")
@click.option(
    "--bundle", type=click.Path(path_type=Path, exists=True, dir_okay=False), help="Run from this zip."
)
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@guard
def ssm_run(local: bool, esm: str, mode: str, approve: str | None, bundle: Path | None, output: str) -> None:
    """Run the generated runbook locally against the AWS the standard chain points at.

    Automation executions cannot be emulated, so this interpreter is how the runbook is proven: the
    same steps, substitutions, branch, approval and limits as SSM, with the handlers from the bundle
    (or the installed package). Exit 3 when the approval is refused; nothing is changed then.
    """
    import hashlib

    from remediate.ssm import document as docs
    from remediate.ssm.runner import Runner

    if not local:
        raise InputError(
            "only --local is supported here; start the runbook in AWS with `remediate ssm-start`"
        )
    attachment = None
    if bundle is not None:
        data = bundle.read_bytes()
        attachment = docs.Attachment(docs.ATTACHMENT, hashlib.sha256(data).hexdigest(), len(data))

    def approver(step: str, message: str) -> bool:
        click.echo(message, err=True)
        if approve is not None:
            click.echo(f"Step {step}: answered {approve!r} (--approve).", err=True)
            return approve == "yes"
        if not sys.stdin.isatty():
            click.echo(f"Step {step}: no terminal to ask on and no --approve: rejected.", err=True)
            return False
        answer = click.prompt(
            f"  Approve step {step}? Only 'yes' approves", default="", show_default=False, err=True
        )
        return str(answer).strip() == "yes"

    runner = Runner(docs.runbook(attachment), approver=approver, bundle=bundle)
    execution = runner.run(
        {
            "EsmId": esm,
            "Mode": mode,
            "Approvers": ["local-operator"],
            "AutomationAssumeRole": "arn:aws:iam::000000000000:role/local-runner",
        }
    )
    if output == "json":
        click.echo(json.dumps(execution.to_json(), indent=2, sort_keys=True))
    else:
        for step in execution.steps:
            click.echo(f"{step.name:14} {step.status:8} {step.seconds:6.1f}s  {step.failure}".rstrip())
        for name, value in execution.outputs.items():
            click.echo(f"{name}: {json.dumps(value)}")
        click.echo(f"Execution {execution.execution_id}: {execution.status}")
    rejected = any(s.action == "aws:approve" and s.status == "Failed" for s in execution.steps)
    if rejected:
        sys.exit(ApprovalRefused.exit_code)
    if execution.status != "Success":
        sys.exit(1)


@click.command("ssm-start")
@click.option("--esm", required=True, help="ESM UUID or ARN (the same id in every target account).")
@click.option("--document-name", default="Remediate-KafkaEventSourceMapping", show_default=True)
@click.option("--role-arn", required=True, help="The AutomationAssumeRole (deploy/remediate-runbook.yaml).")
@click.option("--mode", type=click.Choice(["Diagnose", "Plan", "Apply"]), default="Plan", show_default=True)
@click.option("--approver", "approvers", multiple=True, help="IAM user/role allowed to approve (repeatable).")
@click.option("--auto-approve", is_flag=True, default=False, help="Apply without the approval step.")
@click.option("--accounts", help="Comma-separated account ids or OU ids: run across the Organization.")
@click.option("--regions", help="Comma-separated regions (with --accounts).")
@click.option(
    "--execution-role-name", default="AWS-SystemsManager-AutomationExecutionRole", show_default=True
)
@click.option("--max-concurrency", default="10%", show_default=True)
@click.option("--max-errors", default="1", show_default=True)
@common
@guard
def ssm_start(
    esm: str,
    document_name: str,
    role_arn: str,
    mode: str,
    approvers: tuple[str, ...],
    auto_approve: bool,
    accounts: str | None,
    regions: str | None,
    execution_role_name: str,
    max_concurrency: str,
    max_errors: str,
    **opts: Any,
) -> None:
    """Start the runbook in AWS for one ESM, or across accounts and regions of an Organization."""
    from remediate.ssm.start import StartRequest, start

    def split(value: str | None) -> tuple[str, ...]:
        return tuple(v.strip() for v in (value or "").split(",") if v.strip())

    request = StartRequest(
        document_name=document_name,
        esm_id=esm,
        assume_role_arn=role_arn,
        mode=mode,
        approvers=approvers,
        auto_approve=auto_approve,
        accounts=split(accounts),
        regions=split(regions),
        execution_role_name=execution_role_name,
        max_concurrency=max_concurrency,
        max_errors=max_errors,
    )
    ctx = Ctx(**opts)
    execution_id = start(ctx.aws(), request)
    click.echo(execution_id)
