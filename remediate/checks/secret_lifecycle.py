"""A secret the mapping uses is scheduled for deletion (issue 25): Secrets Manager "considers a secret
scheduled for deletion deprecated and you can no longer directly access it" (Secrets Manager user guide,
"Restore an AWS Secrets Manager secret"), so Lambda cannot read the credentials or certificates it holds,
and after the recovery window the secret is gone for good. DescribeSecret's DeletedDate says when.
"""

from __future__ import annotations

from remediate.checks.base import check
from remediate.evidence import SecretScheduledForDeletion
from remediate.facts import Facts
from remediate.findings import Finding


@check("secrets_not_deleted", "SECRET_SCHEDULED_FOR_DELETION")
def secrets_not_deleted(facts: Facts) -> list[Finding]:
    return [
        Finding(
            code="SECRET_SCHEDULED_FOR_DELETION",
            summary=f"secret {s.name or s.arn} ({s.access_type}) is scheduled for deletion on "
            f"{s.deleted_date}: Lambda can no longer read it",
            evidence=SecretScheduledForDeletion(
                secret=s.arn, name=s.name, access_type=s.access_type, deleted_date=s.deleted_date
            ),
        )
        for s in facts.secrets
        if s.exists and s.deleted_date
    ]
