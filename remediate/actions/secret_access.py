"""The manual steps for a secret whose resource policy or key keeps the execution role out (issue 24, N8).

Another account's secret is its owner's to change (never written from here); a Deny in a secret of this
account is a statement someone wrote, shown by Sid for them to narrow. The statement to add names the exact
principal, action and resource ("Attach a permissions policy to an AWS Secrets Manager secret", Secrets
Manager user guide; cross-account access needs a customer managed key: "Access AWS Secrets Manager secrets
from a different account").
"""

from __future__ import annotations

import json

from pydantic import BaseModel

from remediate.actions.base import Draft, ManualAction, register
from remediate.evidence import SecretAccessBlocked
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import ManualStep


def allow_statement(ev: SecretAccessBlocked) -> str:
    """The one statement the secret's resource policy needs for the role (compact JSON)."""
    return json.dumps(
        {
            "Sid": "RemediateLambdaReadsSecret",
            "Effect": "Allow",
            "Principal": {"AWS": ev.role},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        },
        separators=(",", ":"),
    )


@register
class SecretAccessSteps(ManualAction):
    """What the secret's owner must change so that the execution role may read it."""

    name = "secret_access_steps"
    accepts = (SecretAccessBlocked,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        assert isinstance(ev, SecretAccessBlocked)
        who = f"In account {ev.owner} (the secret's owner)" if ev.cross_account else "In this account"
        if ev.cause == "resource-policy-denies":
            text = (
                f"{who}, narrow statement {', '.join(ev.statements)} of the resource policy of {ev.secret} "
                f"so that it no longer denies {ev.role} secretsmanager:GetSecretValue (`aws secretsmanager "
                f"get-resource-policy --secret-id {ev.secret}`, then `put-resource-policy`)."
            )
        elif ev.cause == "aws-managed-key":
            text = (
                f"{who}, encrypt {ev.secret} with a customer managed KMS key whose key policy lets "
                f"{ev.role} kms:Decrypt (`aws secretsmanager update-secret --secret-id {ev.secret} "
                "--kms-key-id KEY_ARN`, then store the value again so that its current version is encrypted "
                "with it); the AWS managed key aws/secretsmanager cannot be used from another account. Allow "
                "the role kms:Decrypt on that key in its own policies too."
            )
        else:
            text = (
                f"{who}, add to the resource policy of {ev.secret} the statement {allow_statement(ev)} (`aws "
                f"secretsmanager put-resource-policy --secret-id {ev.secret} --resource-policy file://policy.json`"
                ", keeping the statements it has)."
            )
        return [ManualStep(because=(finding.code,), text=text)]
