"""associate_scram_secret: associate the ESM's SASL/SCRAM secret with its MSK cluster.

MSK accepts only secrets named `AmazonMSK_*` and encrypted with a customer managed KMS key, and a
secret cannot be renamed; so when either is wrong, or the secret is gone, no API call can fix it and
the plan carries the exact manual steps instead of an association that would fail.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from remediate import kafka, required_access
from remediate.actions.base import Action, ApplyContext, Draft, register
from remediate.errors import AwsError
from remediate.evidence import SaslScram
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import Change, ManualStep


def associated(ctx: ApplyContext, cluster_arn: str) -> set[str]:
    token: str | None = None
    arns: set[str] = set()
    while True:
        params: dict[str, Any] = {"ClusterArn": cluster_arn}
        if token:
            params["NextToken"] = token
        page = ctx.aws.call("kafka", "list_scram_secrets", **params)
        arns.update(page.get("SecretArnList", []))
        token = page.get("NextToken")
        if not token:
            return arns


def _scram_256(facts: Facts, uri: str) -> str:
    """issue 24 (N18): SASL_SCRAM_256_AUTH is for self-managed Apache Kafka only (Lambda API reference,
    SourceAccessConfiguration); an MSK mapping names its SCRAM secret as SASL_SCRAM_512_AUTH."""
    return (
        f"ESM {facts.esm.uuid} names secret {uri} as SASL_SCRAM_256_AUTH, which Lambda offers for "
        "self-managed Apache Kafka only; Amazon MSK SCRAM uses SHA-512. Name it as SASL_SCRAM_512_AUTH: "
        f"`aws lambda update-event-source-mapping --uuid {facts.esm.uuid} --source-access-configurations "
        f"Type=SASL_SCRAM_512_AUTH,URI={uri}` (keep the mapping's other source access configurations)."
    )


def _manual(facts: Facts, uri: str, problems: dict[str, str]) -> str:
    cluster = facts.esm.event_source_arn
    uuid = facts.esm.uuid
    associate = (
        f"aws kafka batch-associate-scram-secret --cluster-arn {cluster} --secret-arn-list NEW_SECRET_ARN"
    )
    if "missing" in problems:
        return (
            f"The SCRAM secret {uri} of ESM {uuid} does not exist. Create it with a name beginning with "
            "AmazonMSK_ and a customer managed KMS key (`aws secretsmanager create-secret --name "
            "AmazonMSK_NAME --kms-key-id KEY_ARN --secret-string file://credentials.json`, the file holding "
            f'{{"username": ..., "password": ...}}), then `{associate}` and point the ESM at it: '
            f"`aws lambda update-event-source-mapping --uuid {uuid} --source-access-configurations "
            "Type=SASL_SCRAM_512_AUTH,URI=NEW_SECRET_ARN`."
        )
    if "name" in problems:
        return (
            f"MSK accepts only SCRAM secrets named AmazonMSK_*, and secret {uri} cannot be renamed. Create "
            "a copy (`aws secretsmanager create-secret --name AmazonMSK_NAME --kms-key-id KEY_ARN "
            "--secret-string file://credentials.json`, with the same username and password), then "
            f"`{associate}` and `aws lambda update-event-source-mapping --uuid {uuid} "
            "--source-access-configurations Type=SASL_SCRAM_512_AUTH,URI=NEW_SECRET_ARN` "
            "(keep the SCRAM type "
            "the ESM uses)."
        )
    return (
        f"Secret {uri} is encrypted with the AWS managed key, which MSK rejects. "
        "Re-encrypt it with a customer "
        f"managed key: `aws secretsmanager update-secret --secret-id {uri} --kms-key-id KEY_ARN` (allow the "
        f"execution role kms:Decrypt on KEY_ARN), then `aws kafka batch-associate-scram-secret --cluster-arn "
        f"{cluster} --secret-arn-list {uri}`."
    )


@register
class AssociateScramSecret(Action):
    """Associate the ESM's SCRAM secret with the cluster when MSK would accept it; else manual steps."""

    name = "associate_scram_secret"
    accepts = (SaslScram,)
    order = 65
    permissions = (
        "kafka:ListScramSecrets",
        "kafka:BatchAssociateScramSecret",
        "kafka:BatchDisassociateScramSecret",
    )

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        cluster = facts.cluster
        if not isinstance(finding.evidence, SaslScram) or cluster is None:
            return []
        if cluster.state != kafka.CLUSTER_ACTIVE:
            # MSK takes no API operation on a cluster until it is ACTIVE ("Understand MSK Provisioned
            # cluster states"); the association waits with the rest of the plan.
            return [
                ManualStep(
                    because=(finding.code,),
                    text=f"MSK cluster {cluster.arn} is {cluster.state}: associate the SCRAM secret once it "
                    f"is ACTIVE (`remediate plan --esm {facts.esm.uuid}` again).",
                )
            ]
        out: list[Draft | ManualStep] = []
        for access in facts.esm.source_access:
            if access.type not in kafka.SCRAM_TYPES:
                continue
            problems = required_access.scram_secret_problems(facts, access.uri)
            if "scram-256" in problems:
                out.append(ManualStep(because=(finding.code,), text=_scram_256(facts, access.uri)))
            if problems.keys() & {"missing", "name", "kms"}:
                out.append(ManualStep(because=(finding.code,), text=_manual(facts, access.uri, problems)))
            elif "not-associated" in problems:
                secret = next(s for s in facts.secrets if s.arn == access.uri or s.name == access.uri)
                change = Change(
                    id="",
                    action=self.name,
                    resource=cluster.arn,
                    kind="create",
                    after={"SecretArnList": [secret.arn]},
                )
                out.append(Draft(change))
        return out

    def inverse(self, change: Change, outputs: dict[str, Any]) -> Change | None:
        """Undo an association this run made by disassociating exactly those secrets."""
        return change.model_copy(
            update={
                "id": f"undo-{change.id}",
                "kind": "delete",
                "before": change.after,
                "after": {"SecretArnList": outputs.get("associated", change.after["SecretArnList"])},
            }
        )

    def landed(self, change: Change) -> dict[str, Any]:
        return {"associated": change.after["SecretArnList"]}

    def is_done(self, change: Change, ctx: ApplyContext) -> bool:
        present = associated(ctx, change.resource)
        wanted = set(change.after["SecretArnList"])
        return not wanted & present if change.kind == "delete" else wanted <= present

    def apply(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        delete = change.kind == "delete"
        verb = "disassociating" if delete else "associating"
        ctx.progress(f"{verb} {', '.join(change.after['SecretArnList'])} with {change.resource}")
        result = ctx.aws.call(
            "kafka",
            "batch_disassociate_scram_secret" if delete else "batch_associate_scram_secret",
            ClusterArn=change.resource,
            SecretArnList=change.after["SecretArnList"],
        )
        failed = result.get("UnprocessedScramSecrets") or []
        if failed:
            first = failed[0]
            raise AwsError(
                f"MSK refused secret {first.get('SecretArn')}: {first.get('ErrorMessage')}",
                code=str(first.get("ErrorCode", "UnprocessedScramSecret")),
                operation="BatchAssociateScramSecret",
            )
        return {"associated": change.after["SecretArnList"]}

    def verify(self, change: Change, ctx: ApplyContext) -> str | None:
        present = associated(ctx, change.resource)
        wanted = set(change.after["SecretArnList"])
        if change.kind == "delete":
            still = wanted & present
            return f"still associated with {change.resource}: {', '.join(sorted(still))}" if still else None
        missing = wanted - present
        return f"not associated with {change.resource}: {', '.join(sorted(missing))}" if missing else None
