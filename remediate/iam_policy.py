"""The least-privilege IAM policies of the tool, derived from what the code declares.

Observation declares its reads (`observe.reads.PERMISSIONS`, and `observe.listing.PERMISSIONS`),
the session its account check (`aws.PERMISSIONS`), the ESM lock its tagging calls, and each
registered action declares the calls its apply and verify make, so these policies follow the code
instead of a hand-kept list:

- `policy_document(mode)`: what an operator running the CLI needs (`remediate iam-policy`);
- `automation_policy(...)`: the runbook's role, the same actions scoped to resource ARNs where the
  action supports them, with an explicit Deny on the role itself (it may edit roles' policies: never
  its own), `sns:Publish` on `Automation*` topics only and S3 on the deployment's bucket prefixes;
- `human_policy(who, ...)`: what a person needs to start the runbook (`--for starter`) or to answer
  its approval step (`--for approver`).

Resource ARN formats and which actions take them are from the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/, the pages of Lambda, IAM, EC2,
MSK, Route 53, Secrets Manager, S3, SNS and Systems Manager); parliament, which ships that reference,
checks every generated policy in the test suite (a mis-scoped action is its RESOURCE_MISMATCH).
"""

from __future__ import annotations

from typing import Any, Literal

from remediate import actions, aws
from remediate.observe import listing, reads
from remediate.run import lock

Who = Literal["starter", "approver"]

# Actions that have no resource type in the Service Authorization Reference: only "*" can name them.
STAR_ONLY = frozenset(
    {
        "ec2:DescribeNatGateways",
        "ec2:DescribeNetworkAcls",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeRouteTables",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcEndpointServices",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeVpcs",
        "kafka:GetBootstrapBrokers",
        "lambda:ListEventSourceMappings",
        "route53:ListHostedZones",
        "route53:ListHostedZonesByVPC",
        "servicequotas:GetServiceQuota",
        "sts:GetCallerIdentity",
        # Actions, resources, and condition keys for Amazon CloudWatch: GetMetricData names no resource type.
        "cloudwatch:GetMetricData",
    }
)
_ROLE = "arn:{p}:iam::{a}:role/*"
_EC2 = "arn:{p}:ec2:*:{a}:*"
"""Every EC2 resource of the account: the writes touch security groups, VPCs, endpoints, subnets and
route tables, all of which are the account's own."""
# Per service (or per action), the resources an action may name; {p} partition, {a} account.
RESOURCES: dict[str, tuple[str, ...]] = {
    "ec2": (_EC2,),
    # A role's attached policies are the account's own or AWS managed ones (arn:aws:iam::aws:policy/...);
    # "*" in the account field covers both (parliament rejects the literal account "aws").
    "iam:GetPolicy": ("arn:{p}:iam::*:policy/*",),
    "iam:GetPolicyVersion": ("arn:{p}:iam::*:policy/*",),
    "iam": (_ROLE,),
    # A managed VPC connection lives in the consumer's account: vpc-connection/OWNER/CLUSTER/UUID.
    "kafka:DescribeVpcConnection": ("arn:{p}:kafka:*:{a}:vpc-connection/*/*/*",),
    "kafka": ("arn:{p}:kafka:*:{a}:cluster/*",),
    "lambda:GetFunctionConfiguration": ("arn:{p}:lambda:*:{a}:function:*",),
    # Reserved concurrency is a setting of the function (live health: read, cleared, restored on rollback).
    "lambda:GetFunctionConcurrency": ("arn:{p}:lambda:*:{a}:function:*",),
    "lambda:DeleteFunctionConcurrency": ("arn:{p}:lambda:*:{a}:function:*",),
    "lambda:PutFunctionConcurrency": ("arn:{p}:lambda:*:{a}:function:*",),
    "lambda": ("arn:{p}:lambda:*:{a}:event-source-mapping:*",),
    "route53:GetChange": ("arn:{p}:route53:::change/*",),
    "route53": ("arn:{p}:route53:::hostedzone/*",),
    "secretsmanager": ("arn:{p}:secretsmanager:*:{a}:secret:*",),
    # The on-failure destination's encryption settings: a queue, a topic, a bucket (bucket ARNs name no
    # account or Region).
    "sqs": ("arn:{p}:sqs:*:{a}:*",),
    "sns": ("arn:{p}:sns:*:{a}:*",),
    "s3": ("arn:{p}:s3:::*",),
    # issue 15: customer managed keys (DescribeKey, GetKeyPolicy, PutKeyPolicy name the key) and Glue
    # schema registries (GetRegistry names the registry).
    "kms": ("arn:{p}:kms:*:{a}:key/*",),
    "glue:GetRegistry": ("arn:{p}:glue:*:{a}:registry/*",),
    # issue 21: MSK's ListTopics authorizes with kafka-cluster:Connect and kafka-cluster:DescribeTopic on the
    # cluster ARN (MSK developer guide, "Topic Operations"); topic ARNs for DescribeTopic.
    "kafka-cluster": ("arn:{p}:kafka:*:{a}:cluster/*", "arn:{p}:kafka:*:{a}:topic/*"),
}
SELF_MODIFY = (
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
)
"""What would let the automation role widen its own rights; denied on its own ARN."""
BUCKET_PREFIXES = {"plans": "rw", "journals": "rw", "reports": "w"}
"""remediate/<prefix>/ in the deployment's bucket: large plans, apply journals, fleet reports."""


def required_actions(mode: Literal["diagnose", "apply"] | str) -> list[str]:
    needed = {*reads.PERMISSIONS, *listing.PERMISSIONS, *aws.PERMISSIONS}
    if mode == "apply":
        needed.update(lock.PERMISSIONS)
        for action in actions.registry().values():
            needed.update(action.permissions)
    return sorted(needed)


READ_ACTIONS = frozenset({"kafka-cluster:Connect"})
"""Reads whose names do not say so: connecting to an MSK cluster is what its topic APIs require of a reader
(issue 21; MSK developer guide, "Topic Operations")."""


def is_read(action: str) -> bool:
    return action in READ_ACTIONS or action.split(":")[1].startswith(("Get", "List", "Describe"))


def policy_document(mode: Literal["diagnose", "apply"] | str) -> dict[str, Any]:
    reads = [a for a in required_actions(mode) if is_read(a)]
    writes = [a for a in required_actions(mode) if a not in reads]
    statements: list[dict[str, Any]] = [
        # Describe* calls of EC2 and the MSK/Lambda reads do not support resource-level scoping.
        {"Sid": "RemediateObserve", "Effect": "Allow", "Action": reads, "Resource": "*"},
    ]
    if writes:
        statements.append({"Sid": "RemediateApply", "Effect": "Allow", "Action": writes, "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}


def resources_of(action: str) -> tuple[str, ...]:
    """The ARN patterns `action` is allowed on ("*" only for STAR_ONLY); KeyError if unclassified."""
    if action in STAR_ONLY:
        return ("*",)
    return RESOURCES.get(action) or RESOURCES[action.split(":")[0]]


def _grouped(acts: list[str], partition: str, account: str) -> list[tuple[tuple[str, ...], list[str]]]:
    groups: dict[tuple[str, ...], list[str]] = {}
    for act in acts:
        arns = tuple(r.format(p=partition, a=account) for r in resources_of(act))
        groups.setdefault(arns, []).append(act)
    return sorted(groups.items(), key=lambda item: item[1][0])


def _sid(actions_: list[str], resources: tuple[str, ...]) -> str:
    service = actions_[0].split(":")[0].replace("-", " ").title().replace(" ", "")
    kind = "Any" if resources == ("*",) else "Scoped"
    return f"Remediate{service}{kind}"


def automation_policy(*, partition: str, account: str, role_name: str, bucket: str = "") -> dict[str, Any]:
    """The runbook role's policy (`apply` actions), scoped; strings may hold CloudFormation `${...}`."""
    statements: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for resources, acts in _grouped(required_actions("apply"), partition, account):
        sid = _sid(acts, resources)
        seen[sid] = seen.get(sid, 0) + 1
        if seen[sid] > 1:
            sid += str(seen[sid])
        statements.append(
            {
                "Sid": sid,
                "Effect": "Allow",
                "Action": acts,
                "Resource": list(resources) if len(resources) > 1 else resources[0],
            }
        )
    statements.append(
        {
            # aws:approve "sends a message to this topic"; its name must start with Automation.
            "Sid": "RemediateApprovalNotice",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": f"arn:{partition}:sns:*:{account}:Automation*",
        }
    )
    if bucket:
        objects = f"arn:{partition}:s3:::{bucket}/remediate"
        statements.append(
            {
                "Sid": "RemediateStateWrite",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": [f"{objects}/{prefix}/*" for prefix in BUCKET_PREFIXES],
            }
        )
        statements.append(
            {
                "Sid": "RemediateStateRead",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [f"{objects}/{p}/*" for p, rw in BUCKET_PREFIXES.items() if "r" in rw],
            }
        )
    statements.append(
        {
            "Sid": "RemediateNeverItself",
            "Effect": "Deny",
            "Action": list(SELF_MODIFY),
            "Resource": f"arn:{partition}:iam::{account}:role/{role_name}",
        }
    )
    return {"Version": "2012-10-17", "Statement": statements}


def human_policy(who: Who, *, role_arn: str, document_name: str) -> dict[str, Any]:
    """What a person needs to start the runbook, or to approve or reject its approval step.

    Starting needs ssm:StartAutomationExecution on the runbook and iam:PassRole on its role, passed to
    Systems Manager only (the user guide: "must have the iam:PassRole permission" for the role an
    automation runs as). Approving is ssm:SendAutomationSignal on the executions.
    """
    parts = role_arn.split(":")
    if len(parts) < 6 or parts[2] != "iam" or not parts[4].isdigit() or not parts[5].startswith("role/"):
        from remediate.errors import InputError

        raise InputError(f"{role_arn!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    partition, account = parts[1], parts[4]
    executions = f"arn:{partition}:ssm:*:{account}:automation-execution/*"
    read = {
        "Sid": "RemediateWatchExecutions",
        "Effect": "Allow",
        "Action": ["ssm:DescribeAutomationStepExecutions", "ssm:GetAutomationExecution"],
        "Resource": executions,
    }
    if who == "approver":
        statements = [
            {
                "Sid": "RemediateAnswerApproval",
                "Effect": "Allow",
                "Action": "ssm:SendAutomationSignal",
                "Resource": executions,
            },
            read,
        ]
    else:
        statements = [
            {
                "Sid": "RemediateStartRunbook",
                "Effect": "Allow",
                "Action": "ssm:StartAutomationExecution",
                "Resource": f"arn:{partition}:ssm:*:{account}:automation-definition/{document_name}:*",
            },
            {
                "Sid": "RemediatePassRunbookRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": role_arn,
                "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
            },
            read,
        ]
    return {"Version": "2012-10-17", "Statement": statements}
