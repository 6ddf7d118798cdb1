"""SSM Automation: the runbook and its templates, its bundle, a local runner, and starting it in AWS."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from remediate.cli.context import Ctx, common, guard
from remediate.errors import ApprovalRefused, InputError

F = TypeVar("F", bound=Callable[..., Any])
BUNDLE = click.Path(path_type=Path, exists=True, dir_okay=False)


def _deploy_options(fn: F) -> F:
    """What is fixed when the runbook is deployed (the CloudFormation templates take them as parameters)."""
    options = [
        click.option(
            "--approver", "approvers", multiple=True, help="IAM user or role who may approve (1 to 10)."
        ),
        click.option(
            "--min-approvals", type=int, default=1, show_default=True, help="Approvals an Apply needs."
        ),
        click.option(
            "--notification-arn", help="SNS topic (its name starts with Automation) told of approvals."
        ),
        click.option(
            "--allow-auto-approve",
            is_flag=True,
            default=False,
            help="Give the runbook an AutoApprove parameter.",
        ),
        click.option(
            "--bucket", default="", help="S3 bucket for journals, plans over 100 KB and fleet reports."
        ),
        click.option("--bundle", type=BUNDLE, help="The bundle zip the files section names."),
        # issue 27: what the deployed role may rewrite; the rest becomes manual steps in the plan.
        click.option("--role-path", default="", help="Execution roles under this path may be fixed."),
        click.option(
            "--role-tag", default="", help="Execution roles tagged remediate:fixable=VALUE may be fixed."
        ),
        click.option("--key-arn", "key_arns", multiple=True, help="KMS keys whose key policy may be fixed."),
        # issue 27, item 7
        click.option(
            "--allow-probe",
            is_flag=True,
            default=False,
            help="Let Diagnose/Plan run the probe (Probe: true); its role then needs the probe's rights.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _deploy(
    approvers: Sequence[str],
    min_approvals: int,
    notification_arn: str | None,
    allow_auto_approve: bool,
    bucket: str,
    bundle: Path | None,
    role_path: str = "",
    role_tag: str = "",
    key_arns: Sequence[str] = (),
    default_approver: str | None = None,
    allow_probe: bool = False,
) -> Any:
    import hashlib

    from remediate.ssm import document as docs
    from remediate.write_scope import WriteScope

    WriteScope(role_path=role_path, role_tag=role_tag, key_arns=tuple(key_arns)).check()
    fixable = {"FixableRolePath": role_path, "FixableRoleTag": role_tag, "FixableKeyArns": list(key_arns)}

    attachment = None
    if bundle is not None:
        import zipfile

        if not zipfile.is_zipfile(bundle):  # issue 23 (N18): not any file is a bundle
            raise InputError(f"--bundle {bundle} is not a zip file (build one with `remediate ssm-bundle`)")
        data = bundle.read_bytes()
        attachment = docs.Attachment(docs.ATTACHMENT, hashlib.sha256(data).hexdigest(), len(data))
    names = list(approvers) or ([default_approver] if default_approver else [])
    deploy = docs.Deploy(
        approvers=names,
        min_approvals=min_approvals,
        notification_arn=notification_arn or None,
        auto_approve=allow_auto_approve,
        bucket=bucket,
        attachment=attachment,
        fixable={k: v for k, v in fixable.items() if v},
        allow_probe=allow_probe,
    )
    deploy.check()
    return deploy


@click.command("ssm-document")
@_deploy_options
@click.option(
    "--cloudformation",
    type=click.Choice(["account", "org-member", "org-admin"]),
    help="A deploy template instead: one account, a StackSet member, or the Organization's admin account.",
)
@click.option("--out", type=click.Path(path_type=Path), help="Write to FILE instead of standard output.")
@click.option(
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: YAML; json: the same document as JSON.",
)
@guard
def ssm_document(cloudformation: str | None, out: Path | None, output: str, **deploy: Any) -> None:
    """Print the SSM Automation runbook (schemaVersion 0.3) that runs the same engine.

    The approvers, the minimum approvals, the notification topic, whether AutoApprove exists and the
    bucket are fixed here, when the runbook is deployed, not chosen by whoever starts it. With
    --bundle the `files` section names that zip by sha256 and size (SSM needs it to attach the bundle).
    """
    from remediate.ssm import document as docs

    if cloudformation:
        from remediate.cli.ignored import warn_ignored
        from remediate.ssm.cloudformation import TEMPLATES, template_yaml

        # issue 23 (N18): a template takes these as its stack's parameters, not from the flags
        warn_ignored(deploy, "with --cloudformation (the template asks for it as a stack parameter)")

        text = template_yaml(cloudformation) if output == "text" else _json(TEMPLATES[cloudformation][1]())
    else:
        if not deploy["approvers"]:
            raise InputError("give --approver (1 to 10): the runbook's approval step names who may approve")
        if deploy["bundle"] is None:
            click.echo("Note: no --bundle: the runbook has no files section yet.", err=True)
        document = docs.runbook(_deploy(**deploy))
        text = docs.to_yaml(document)  # also refuses a document over SSM's size limit
        if output == "json":
            text = _json(document)
    if out:
        out.write_text(text)
        click.echo(f"Wrote {out}", err=True)
    else:
        click.echo(text, nl=False)


def _json(document: dict[str, Any]) -> str:
    """A runbook or template as JSON: SSM takes a document as JSON or YAML (CreateDocument,
    `DocumentFormat`, SSM API reference) and CloudFormation a template as either ("Template formats",
    CloudFormation user guide)."""
    return json.dumps(document, indent=2) + "\n"


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
    """Build the runbook's attachment zip (package, dependencies, playbooks)."""
    from remediate.ssm import bundle as bundles

    built = bundles.build(
        out_dir, source="download" if download else "installed", arch="arm64" if arch == "arm64" else "x86_64"
    )
    note = None if download else bundles.host_platform_note()
    if note:
        click.echo(f"Note: {note}.", err=True)
    click.echo(f"{built.path}  sha256 {built.sha256}  {built.size} bytes  {len(built.entries)} files")
    click.echo(
        f"Next: remediate ssm-document --bundle {built.path} --approver ARN ... (or deploy a template)"
    )


def _region(given: str | None, profile: str | None) -> str:
    """The region the local execution runs in: --region (or the settings), else the standard chain
    (the profile's region); never a guess."""
    if given:
        return given
    import boto3

    region = boto3.session.Session(profile_name=profile).region_name
    if not region:
        raise InputError("ssm-run --local needs a region: --region, AWS_REGION or a profile's region")
    return str(region)


def _runner_env(ctx: Ctx) -> dict[str, str]:
    """What the runner and its steps see: this environment, the state directory of the settings, a
    --profile's credentials resolved here (the steps run with plain keys, as SSM's runtime does) and,
    with --debug, debug logs in every step."""
    env = dict(os.environ)
    env.setdefault("REMEDIATE_STATE_DIR", str(ctx.settings.state_dir))
    if ctx.settings.profile:
        found = ctx.aws().session.get_credentials()  # Aws.from_settings has checked there are some
        assert found is not None
        creds = found.get_frozen_credentials()
        env.pop("AWS_PROFILE", None)
        env.update(
            {"AWS_ACCESS_KEY_ID": str(creds.access_key), "AWS_SECRET_ACCESS_KEY": str(creds.secret_key)}
        )
        if creds.token:
            env["AWS_SESSION_TOKEN"] = str(creds.token)
    if ctx.debug:
        env["REMEDIATE_LOG_LEVEL"] = "debug"
    return env


@click.command("ssm-run")
@click.option("--local", is_flag=True, default=False, help="Run the runbook here, step by step (required).")
@click.option("--esm", default="", help="ESM UUID or ARN (empty: every Kafka mapping, Diagnose/Plan only).")
@click.option("--mode", type=click.Choice(["Diagnose", "Plan", "Apply"]), default="Apply", show_default=True)
@click.option("--role-arn", required=True, help="The AutomationAssumeRole the runner assumes for every step.")
@click.option("--approve", type=click.Choice(["yes", "no"]), help="Answer the approval step (default: ask).")
@click.option(
    "--document-version",
    default="1",
    show_default=True,
    help="The document version this run stands for (issue 27: Apply runs only from the default one).",
)
@click.option("--default-version", default="", help="The document's default version (default: this one).")
@click.option("--probe", is_flag=True, default=False, help="Diagnose/Plan: run the probe too (Probe: true).")
@_deploy_options
@common
@guard
def ssm_run(
    local: bool,
    esm: str,
    mode: str,
    role_arn: str,
    approve: str | None,
    document_version: str,
    default_version: str,
    probe: bool,
    bundle: Path | None,
    approvers: tuple[str, ...],
    min_approvals: int,
    notification_arn: str | None,
    allow_auto_approve: bool,
    bucket: str,
    role_path: str,
    role_tag: str,
    key_arns: tuple[str, ...],
    allow_probe: bool,
    **opts: Any,
) -> None:
    """Run the generated runbook locally against the AWS the standard chain points at.

    Automation executions cannot be emulated, so this interpreter is how the runbook is proven: the
    same steps, substitutions, branches, native API steps, approval and limits as SSM, each script
    step in a fresh interpreter that sees only the bundle (or the installed package, bundled). Exit 3
    when the approval is refused; nothing is changed then.
    """
    from remediate.cli.reporter import CliReporter
    from remediate.ssm import document as docs
    from remediate.ssm.runner import Decision, Runner, Versions

    if not local:
        raise InputError(
            "only --local is supported here; start the runbook in AWS with `remediate ssm-start`"
        )
    ctx = Ctx(**opts)
    where = _region(ctx.settings.region, ctx.settings.profile)
    plan = _deploy(
        approvers,
        min_approvals,
        notification_arn,
        allow_auto_approve,
        bucket,
        bundle,
        role_path,
        role_tag,
        key_arns,
        default_approver="local-operator",
        allow_probe=allow_probe,
    )
    env = _runner_env(ctx)
    # issue 23 (operator-hunt N21): bad input is found here, in one line, not inside a step
    if esm:
        from remediate.observe.first_read import parse_esm_id

        parse_esm_id(esm)
    if mode == "Apply" and not esm:
        raise InputError("--mode Apply changes one mapping: give --esm (every mapping: Diagnose or Plan)")
    if mode == "Apply" and approve is None and not sys.stdin.isatty():
        raise InputError(
            "--mode Apply has an approval step and there is no terminal to ask on: "
            "give --approve yes (or no); nothing was run"
        )
    reporter = CliReporter(ctx, False, False)  # progress only: a spinner on a terminal, lines elsewhere

    def approver(step: str, message: str, approvers: Sequence[str], minimum: int) -> list[Decision]:
        reporter.close()  # the question is asked on a quiet terminal
        click.echo(message, err=True)
        if approve is not None:
            click.echo(f"Step {step}: answered {approve!r} for {', '.join(approvers)} (--approve).", err=True)
            return [(p, approve == "yes") for p in approvers]
        if not sys.stdin.isatty():
            click.echo(f"Step {step}: no terminal to ask on and no --approve: rejected.", err=True)
            return [(approvers[0], False)]
        decisions = []
        for principal in approvers[: max(minimum, 1)]:
            answer = click.prompt(
                f"  Approve step {step} as {principal}? Only 'yes' approves",
                default="",
                show_default=False,
                err=True,
            )
            decisions.append((principal, str(answer).strip() == "yes"))
        return decisions

    runner = Runner(
        docs.runbook(plan),
        approver=approver,
        bundle=bundle,
        region=where,
        env=env,
        progress=reporter.progress,
        versions=Versions(running=document_version, default=default_version),
    )
    try:
        execution = runner.run({"EsmId": esm, "Mode": mode, "AutomationAssumeRole": role_arn, "Probe": probe})
    finally:
        reporter.close()
    if ctx.settings.output == "json":
        click.echo(json.dumps(execution.to_json(), indent=2, sort_keys=True))
    else:
        for step in execution.steps:
            click.echo(f"{step.name:14} {step.status:9} {step.seconds:6.1f}s  {step.failure}".rstrip())
        for name, value in execution.outputs.items():
            click.echo(f"{name}: {json.dumps(value)}")
        click.echo(f"Execution {execution.execution_id}: {execution.status}")
    rejected = any(s.action == "aws:approve" and s.status == "Failed" for s in execution.steps)
    if rejected:
        sys.exit(ApprovalRefused.exit_code)
    if execution.status != "Success":
        sys.exit(1)


@click.command("ssm-start")
@click.option("--esm", default="", help="ESM UUID or ARN: one mapping in this account and region.")
@click.option("--document-name", default="Remediate-KafkaEventSourceMapping", show_default=True)
@click.option(
    "--role-arn",
    required=True,
    help="The AutomationAssumeRole (across accounts: Remediate-AutomationAdministrationRole).",
)
@click.option("--mode", type=click.Choice(["Diagnose", "Plan", "Apply"]), default="Plan", show_default=True)
@click.option(
    "--auto-approve", is_flag=True, default=False, help="Apply without the approval step (if deployed so)."
)
@click.option(
    "--accounts", help="Comma-separated account or OU ids: Diagnose or Plan across the Organization."
)
@click.option("--regions", help="Comma-separated regions (with --accounts).")
@click.option(
    "--probe", is_flag=True, default=False, help="Diagnose/Plan one ESM: run the probe too (if deployed so)."
)
@click.option("--execution-role-name", default="Remediate-AutomationExecutionRole", show_default=True)
@click.option("--max-concurrency", default="10%", show_default=True)
@click.option("--max-errors", default="1", show_default=True)
@common
@guard
def ssm_start(
    esm: str,
    document_name: str,
    role_arn: str,
    mode: str,
    auto_approve: bool,
    accounts: str | None,
    regions: str | None,
    probe: bool,
    execution_role_name: str,
    max_concurrency: str,
    max_errors: str,
    **opts: Any,
) -> None:
    """Start the runbook in AWS for one ESM, or Diagnose/Plan across an Organization's accounts."""
    from remediate.ssm.start import StartRequest, start

    def split(value: str | None) -> tuple[str, ...]:
        return tuple(v.strip() for v in (value or "").split(",") if v.strip())

    request = StartRequest(
        document_name=document_name,
        esm_id=esm,
        assume_role_arn=role_arn,
        mode=mode,
        auto_approve=auto_approve,
        accounts=split(accounts),
        regions=split(regions),
        execution_role_name=execution_role_name,
        max_concurrency=max_concurrency,
        max_errors=max_errors,
        probe=probe,
    )
    params = request.params()  # bad input is refused before credentials or the network are touched
    ctx = Ctx(**opts)
    execution_id = start(ctx.aws(), request)
    if ctx.settings.output == "json":  # issue 23 (N23): one document, not the bare id
        ctx.emit_json(
            {
                "schema": "remediate/ssm-start@1",
                "execution_id": execution_id,
                "document": params["DocumentName"],
                "parameters": params["Parameters"],
                **({"target_locations": params["TargetLocations"]} if "TargetLocations" in params else {}),
            }
        )
    else:
        click.echo(execution_id)
