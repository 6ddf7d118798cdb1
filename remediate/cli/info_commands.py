"""The commands that describe the tool itself: its playbooks and the IAM policy it needs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.group()
def playbooks() -> None:
    """The playbooks and their schema check."""


OUTPUT = click.option(
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text, or one JSON document.",
)


@playbooks.command("list")
@OUTPUT
def playbooks_list(output: str) -> None:
    """List the shipped playbooks: the findings each answers and the actions it takes."""
    from remediate.run import playbook

    books, errors = playbook.load_dir(playbook.SHIPPED_DIR)
    if output == "json" and not errors:  # a command that fails prints no JSON document
        listed = [
            {"name": pb.name, "findings": list(pb.findings), "actions": [a.action for a in pb.actions]}
            for pb in books
        ]
        doc = {"schema": "remediate/playbooks@1", "playbooks": listed}
        click.echo(json.dumps(doc, indent=2, sort_keys=True))
    rows = []
    for pb in books if output == "text" else ():
        acts = ", ".join(a.action for a in pb.actions) or "(report only)"
        for name, refs in pb.alternatives.items():
            acts += f" (or --fix-with {name}: {', '.join(a.action for a in refs)})"
        rows.append((pb.name, ", ".join(pb.findings), acts))
    # issue 23 (N24): columns as wide as their longest cell, so none runs into the next
    widths = [max((len(r[i]) for r in rows), default=0) for i in (0, 1)]
    for name, findings, acts in rows:
        click.echo(f"{name:{widths[0]}}  {findings:{widths[1]}}  {acts}")
    for err in errors:
        click.echo(f"invalid: {err}", err=True)
    if errors:
        sys.exit(1)


@playbooks.command("validate")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def playbooks_validate(directory: Path | None) -> None:
    """Validate the playbooks in DIRECTORY (default: the shipped ones) against the schema and registries."""
    from remediate.run import playbook

    target = directory or playbook.SHIPPED_DIR
    books, errors = playbook.load_dir(target)
    for err in errors:
        click.echo(f"Error: {err}", err=True)
    if not books and not errors:  # issue 23 (operator-hunt N26): an empty directory validates nothing
        click.echo(f"Error: no playbook (*.yaml) in {target}", err=True)
        sys.exit(1)
    if errors:
        sys.exit(1)
    click.echo(f"{len(books)} playbook(s) valid in {target}")


_UNSCOPED_PROBE_WARNING = (  # issue 22
    "Warning: without --probe-role this policy lets its holder pass ANY role ({roles}) to Lambda: "
    "with lambda:CreateFunction and InvokeFunction that runs code as any of those roles. IAM Access "
    "Analyzer flags it (PASS_ROLE_WITH_STAR_IN_RESOURCE). Give --probe-role ARN (the mapping's execution "
    "role) for each mapping you probe."
)


@click.command("iam-policy")
@click.option(
    "--mode",
    type=click.Choice(["diagnose", "apply", "probe"]),
    default="apply",
    show_default=True,
    help="probe: apply's actions plus what `remediate probe` needs for its short-lived function.",
)
@click.option(
    "--for",
    "who",
    type=click.Choice(["tool", "starter", "approver"]),
    default="tool",
    show_default=True,
    help="tool: what remediate itself needs; starter / approver: a person running / approving the runbook.",
)
@click.option(
    "--role-arn",
    help="With --for starter|approver: the runbook's AutomationAssumeRole. With --for tool: the role this "
    "policy goes on, which it may then not rewrite.",
)
@click.option(  # issue 22
    "--probe-role",
    "probe_roles",
    multiple=True,
    help="With --mode probe: iam:PassRole only on this role (the mapping's execution role), to Lambda only.",
)
@click.option("--document-name", default="Remediate-KafkaEventSourceMapping", show_default=True)
@click.option(
    "--account", default="", help="Scope every action that takes a resource to this account's ARNs."
)
@click.option("--partition", default="aws", show_default=True)
@click.option(
    "--role-path", default="", help="Role writes only on roles under this path (e.g. /service-role/)."
)
@click.option("--role-tag", default="", help="Role writes only on roles tagged remediate:fixable=VALUE.")
@click.option("--key-arn", "key_arns", multiple=True, help="Key-policy writes only on these KMS keys.")
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    help="Secret ARN or name whose value may be read, besides AmazonMSK_* (SCRAM) secrets.",
)
@OUTPUT
def iam_policy(
    mode: str,
    who: str,
    role_arn: str | None,
    probe_roles: tuple[str, ...],
    document_name: str,
    account: str,
    partition: str,
    role_path: str,
    role_tag: str,
    key_arns: tuple[str, ...],
    secrets: tuple[str, ...],
    output: str,
) -> None:
    """Print the least-privilege IAM policy the tool needs, derived from the code's declarations;
    or, with --for, what a person needs to start the SSM runbook or to approve its plans.

    Secret values are read only from AmazonMSK_* secrets and those given with --secret; privileged
    roles (OrganizationAccountAccessRole, AWSReservedSSO_*, cdk-*, ...) are never rewritten. --role-path,
    --role-tag and --key-arn narrow the role and key-policy writes; --account scopes the rest.

    text: the policy document itself (what `aws iam create-policy --policy-document` takes);
    json: one document naming what the policy is for, with the policy inside."""
    from remediate.errors import InputError
    from remediate.iam_policy import human_policy, policy_document, role_arn_parts
    from remediate.write_scope import WriteScope

    def emit(policy: dict[str, object]) -> None:
        if output == "json":
            shown = mode if who == "tool" else None  # issue 23 (N18): a person's policy has no mode
            doc = {"schema": "remediate/iam-policy@1", "for": who, "mode": shown, "policy": policy}
            click.echo(json.dumps(doc, indent=2, sort_keys=True))
        else:
            click.echo(json.dumps(policy, indent=2))

    from remediate.cli.context import fail
    from remediate.cli.ignored import warn_ignored

    if who == "tool":
        warn_ignored(["document_name"], "with --for tool (it names the runbook of --for starter|approver)")
        try:
            scope = WriteScope(
                role_path=role_path, role_tag=role_tag, key_arns=key_arns, secrets=secrets
            ).check()
            for arn in probe_roles:  # issue 22
                role_arn_parts(arn)
            if account and not (account.isdigit() and len(account) == 12):
                raise InputError(f"--account {account!r} is not a 12-digit account id")
        except InputError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        if mode == "probe" and not probe_roles:  # issue 22
            roles = f"arn:{partition}:iam::{account or '*'}:role/*"
            click.echo(_UNSCOPED_PROBE_WARNING.format(roles=roles), err=True)
        emit(
            policy_document(
                mode,
                scope=scope,
                partition=partition,
                account=account,
                own_role_arn=role_arn or "",
                probe_roles=probe_roles,
            )
        )
        return
    # issue 23 (N18): a person's policy is fixed by the runbook, not by the tool's scope flags
    scoped = ("mode", "probe_roles", "account", "partition", "role_path", "role_tag", "key_arns", "secrets")
    warn_ignored(scoped, f"with --for {who} (it shapes the policy of --for tool)")
    if not role_arn:  # issue 23 (N7): with --output json, the error document too
        fail(f"--for {who} needs --role-arn (the runbook's AutomationAssumeRole)", 1, {"output": output})
        return
    try:
        policy = human_policy(
            "starter" if who == "starter" else "approver", role_arn=role_arn, document_name=document_name
        )
    except InputError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    emit(policy)
