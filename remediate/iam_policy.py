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

from remediate import actions, aws, required_access, write_scope
from remediate.observe import listing, reads
from remediate.run import journal_store, lock, reliance, vpc_lock
from remediate.write_scope import WriteScope

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
        "lambda:ListFunctions",  # issue 22
        "route53:ListHostedZones",
        "route53:ListHostedZonesByVPC",
        "route53resolver:ListResolverRuleAssociations",  # issue 24 (N10)
        "route53resolver:ListResolverRules",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeTags",  # issue 23: the dependant tags and the VPC lock (no resource type either)
        "servicequotas:GetServiceQuota",
        "sts:GetCallerIdentity",
        # Actions, resources, and condition keys for Amazon CloudWatch: GetMetricData names no resource type.
        "cloudwatch:GetMetricData",
        "cloudwatch:DescribeAlarmsForMetric",  # issue 25: no resource type either
        "cloudwatch:ListMetrics",  # issue 25: nor this one
    }
)
_ROLE = "arn:{p}:iam::{a}:role/*"
_EC2 = "arn:{p}:ec2:*:{a}:*"
"""Every EC2 resource of the account: the writes touch security groups, VPCs, endpoints, subnets and
route tables, all of which are the account's own."""
_PROBE_NAME = required_access.PROBE_FUNCTION_PREFIX + "*"
_PROBE_FUNCTION = "arn:{p}:lambda:*:{a}:function:" + _PROBE_NAME
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
    "lambda:GetFunction": ("arn:{p}:lambda:*:{a}:function:*",),  # issue 26
    # Reserved concurrency is a setting of the function (live health: read, cleared, restored on rollback).
    "lambda:GetFunctionConcurrency": ("arn:{p}:lambda:*:{a}:function:*",),
    "lambda:DeleteFunctionConcurrency": ("arn:{p}:lambda:*:{a}:function:*",),
    "lambda:PutFunctionConcurrency": ("arn:{p}:lambda:*:{a}:function:*",),
    # issue 22: the probe's function (Lambda's and CloudWatch Logs' resource types, Service Authorization
    # Reference); TagResource and ListTags also name the ESM (its lock).
    "lambda:CreateFunction": (_PROBE_FUNCTION,),
    "lambda:DeleteFunction": (_PROBE_FUNCTION,),
    "lambda:InvokeFunction": (_PROBE_FUNCTION,),
    "lambda:TagResource": ("arn:{p}:lambda:*:{a}:event-source-mapping:*", _PROBE_FUNCTION),
    "lambda:ListTags": ("arn:{p}:lambda:*:{a}:event-source-mapping:*", _PROBE_FUNCTION),
    "logs:DeleteLogGroup": ("arn:{p}:logs:*:{a}:log-group:/aws/lambda/" + _PROBE_NAME,),
    # issue 25: the function's timeout (set_function_timeout).
    "lambda:UpdateFunctionConfiguration": ("arn:{p}:lambda:*:{a}:function:*",),
    "lambda": ("arn:{p}:lambda:*:{a}:event-source-mapping:*",),
    "route53:GetChange": ("arn:{p}:route53:::change/*",),
    "route53": ("arn:{p}:route53:::hostedzone/*",),
    "secretsmanager": ("arn:{p}:secretsmanager:*:{a}:secret:*",),
    # The on-failure destination's encryption settings: a queue, a topic, a bucket (bucket ARNs name no
    # account or Region).
    "sqs": ("arn:{p}:sqs:*:{a}:*",),
    "sns": ("arn:{p}:sns:*:{a}:*",),
    "s3": ("arn:{p}:s3:::*",),
    # issue 27, D8: a runbook's journal, in the bucket `journal_bucket` names, under the account's prefix.
    "s3:GetObject": ("arn:{p}:s3:::*/remediate/journals/{a}/*",),
    # issue 15: customer managed keys (DescribeKey, GetKeyPolicy, PutKeyPolicy name the key) and Glue
    # schema registries (GetRegistry names the registry).
    "kms": ("arn:{p}:kms:*:{a}:key/*",),
    "glue:GetRegistry": ("arn:{p}:glue:*:{a}:registry/*",),
    # issue 21: MSK's ListTopics authorizes with kafka-cluster:Connect and kafka-cluster:DescribeTopic on the
    # cluster ARN (MSK developer guide, "Topic Operations"); topic ARNs for DescribeTopic.
    "kafka-cluster": ("arn:{p}:kafka:*:{a}:cluster/*", "arn:{p}:kafka:*:{a}:topic/*"),
    # issue 21: the mapping's system logs, in its function's log group, and the MSK brokers' logs, in the
    # group the cluster's LoggingInfo names (FilterLogEvents names the log group).
    "logs:FilterLogEvents": ("arn:{p}:logs:*:{a}:log-group:*",),
    # issue 24 (N6): an mTLS cluster's private CAs, in this account or another ("The AWS Private CA can be
    # either in the same AWS account as your cluster, or in a different account", MSK developer guide).
    "acm-pca:GetCertificateAuthorityCertificate": ("arn:{p}:acm-pca:*:*:certificate-authority/*",),
    # issue 25 (item 8): the alarms remediate creates, reads back and deletes (resource type alarm).
    "cloudwatch": ("arn:{p}:cloudwatch:*:{a}:alarm:*",),
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
"""remediate/<prefix>/ACCOUNT/ in the deployment's bucket: large plans, apply journals, fleet reports;
each account's own (issue 27, D8: an Organization shares the bucket)."""


def required_actions(mode: Literal["diagnose", "apply"] | str) -> list[str]:
    needed = {*reads.PERMISSIONS, *listing.PERMISSIONS, *aws.PERMISSIONS}
    if mode in ("apply", "probe"):
        needed.update(lock.PERMISSIONS)
        needed.update(journal_store.PERMISSIONS)  # issue 27, D8
        needed.update(reliance.PERMISSIONS)  # issue 23: the dependant tags a verified run records
        needed.update(vpc_lock.PERMISSIONS)  # issue 23: the lock on a VPC's endpoint work
        for action in actions.registry().values():
            needed.update(action.permissions)
    if mode == "probe":
        # issue 22: `remediate probe` makes a function with the mapping's role (iam:PassRole + CreateFunction
        # + InvokeFunction, which parliament rightly calls a privilege-escalation path), so it is a policy of
        # its own that an operator opts into, not part of `apply` nor of the runbook's role.
        needed.update(required_access.PROBE_TOOL_ACTIONS)
    return sorted(needed)


READ_ACTIONS = frozenset({"kafka-cluster:Connect", "logs:FilterLogEvents"})
"""Reads whose names do not say so: connecting to an MSK cluster is what its topic APIs require of a reader
(issue 21; MSK developer guide, "Topic Operations"); FilterLogEvents reads a mapping's system logs and the
brokers' logs."""


def is_read(action: str) -> bool:
    return action in READ_ACTIONS or action.split(":")[1].startswith(("Get", "List", "Describe"))


def policy_document(
    mode: Literal["diagnose", "apply"] | str,
    *,
    scope: WriteScope | None = None,
    partition: str = "aws",
    account: str = "",
    own_role_arn: str = "",
    probe_roles: tuple[str, ...] = (),
) -> dict[str, Any]:
    """What an operator running the CLI needs (`remediate iam-policy`).

    `--mode probe` (issue 22): iam:PassRole is a statement of its own, to Lambda only
    (`iam:PassedToService`, IAM user guide "Grant a user permissions to pass a role to an AWS service"),
    on `probe_roles` (the mappings' execution roles) when they are known, else on the account's roles.

    Without `account`, "*" (the account is not known); with it, every action that takes a resource is
    scoped to the account's ARNs as the runbook's role is. Either way secret values are read only from
    the secrets `write_scope` allows, roles are never rewritten where `PRIVILEGED_ROLES` or
    `own_role_arn` (the role this policy goes on: it may not rewrite itself) match, and with a scope the
    role and key-policy writes are limited to it."""
    scope = scope or WriteScope()
    plain = [a for a in required_actions(mode) if a not in write_scope.SCOPED]
    if mode == "probe":
        plain.remove(PASS_ROLE)  # issue 22: its own statement below
    reads = [a for a in plain if is_read(a)]
    writes = [a for a in plain if a not in reads]
    statements: list[dict[str, Any]] = []
    if account:
        statements += _scoped_statements(reads, partition, account, "Observe")
        statements += _scoped_statements(writes, partition, account, "Apply")
    else:
        # Describe* calls of EC2 and the MSK/Lambda reads do not support resource-level scoping.
        statements.append({"Sid": "RemediateObserve", "Effect": "Allow", "Action": reads, "Resource": "*"})
        if writes:
            statements.append({"Sid": "RemediateApply", "Effect": "Allow", "Action": writes, "Resource": "*"})
    statements += _scope_statements(
        scope, mode, partition, account or "*", own=[own_role_arn] if own_role_arn else [], strict=False
    )
    if mode == "probe":
        statements += _probe_pass_role(scope, partition, account, probe_roles)
    return {"Version": "2012-10-17", "Statement": statements}


def _probe_pass_role(
    scope: WriteScope, partition: str, account: str, probe_roles: tuple[str, ...]
) -> list[dict[str, Any]]:
    """issue 27, item 7: the probe passes a mapping's execution role to a function it creates, so
    iam:PassRole is the probe's escalation path (a function runs with the role passed). It is allowed only
    to Lambda (`iam:PassedToService`, IAM user guide "Grant a user permissions to pass a role to an AWS
    service") and only on the roles named: `probe_roles`, else the deployer's scope (roles under
    `role_path`, or tagged `remediate:fixable=role_tag`, the same roles the runbook may fix: execution
    roles), else, with neither, the account's roles; privileged roles never (the Deny of
    `_scope_statements` covers iam:PassRole in this mode)."""
    for arn in probe_roles:
        role_arn_parts(arn)
    to_lambda = {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
    acct = account or "*"
    statement = {"Sid": "RemediateProbePassRole", "Effect": "Allow", "Action": [PASS_ROLE]}
    if probe_roles:
        return [{**statement, "Resource": list(probe_roles), "Condition": to_lambda}]
    out: list[dict[str, Any]] = []
    if scope.role_path:
        out.append({**statement, "Resource": scope.role_arns(partition, acct), "Condition": to_lambda})
    if scope.role_tag:
        tagged = {f"aws:ResourceTag/{write_scope.TAG_KEY}": scope.role_tag}
        out.append(
            {
                **statement,
                "Sid": "RemediateProbePassRoleByTag",
                "Resource": f"arn:{partition}:iam::{acct}:role/*",
                "Condition": {"StringEquals": {**to_lambda["StringEquals"], **tagged}},
            }
        )
    if not out:
        roles = f"arn:{partition}:iam::{account}:role/*" if account else "*"
        out.append({**statement, "Resource": roles, "Condition": to_lambda})
    return out


PROBE_FUNCTION_ACTIONS = (
    "lambda:CreateFunction",
    "lambda:DeleteFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:InvokeFunction",
    "lambda:ListTags",
    "lambda:TagResource",
)
"""issue 27, item 7: what the probe does to its own function (`probe_run`), on `remediate-probe-*` only."""


def runbook_probe_statements(
    scope: WriteScope, partition: str, account: str, role_name: str
) -> list[dict[str, Any]]:
    """issue 27, item 7: the runbook role's rights to run the probe, and nothing more.

    Create, invoke and delete only functions named `remediate-probe-*` and delete only their log groups
    (Lambda and CloudWatch Logs resource types, Service Authorization Reference); ListFunctions (the sweep)
    takes no resource. iam:PassRole only to Lambda and only on the roles the deployer named (under the
    fixable path, or tagged): without either the probe cannot run from SSM (`ssm.probe_step` says so),
    never a privileged role nor the runbook's own (the Deny)."""
    fn = _PROBE_FUNCTION.format(p=partition, a=account)
    out: list[dict[str, Any]] = [
        {
            "Sid": "RemediateProbeFunction",
            "Effect": "Allow",
            "Action": list(PROBE_FUNCTION_ACTIONS),
            "Resource": fn,
        },
        {
            "Sid": "RemediateProbeLogGroup",
            "Effect": "Allow",
            "Action": "logs:DeleteLogGroup",
            "Resource": RESOURCES["logs:DeleteLogGroup"][0].format(p=partition, a=account),
        },
        {"Sid": "RemediateProbeSweep", "Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"},
    ]
    if scope.role_path or scope.role_tag:
        out += _probe_pass_role(scope, partition, account, ())
    names = [*write_scope.PRIVILEGED_ROLES, *scope.own_roles]
    out.append(
        {
            "Sid": "RemediateProbeNeverPrivileged",
            "Effect": "Deny",
            "Action": PASS_ROLE,
            "Resource": [
                *(
                    f"arn:{partition}:iam::{account}:role{path}{name}"
                    for name in names
                    for path in ("/", "/*/")
                ),
                f"arn:{partition}:iam::{account}:role/{role_name}",
            ],
        }
    )
    return out


PASS_ROLE = "iam:PassRole"  # noqa: S105 - an IAM action, not a password


def role_arn_parts(role_arn: str) -> tuple[str, str]:
    """(partition, account) of an IAM role ARN; InputError when it is not one."""
    parts = role_arn.split(":")
    if len(parts) < 6 or parts[2] != "iam" or not parts[4].isdigit() or not parts[5].startswith("role/"):
        from remediate.errors import InputError

        raise InputError(f"{role_arn!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    return parts[1], parts[4]


def _scoped_statements(acts: list[str], partition: str, account: str, kind: str) -> list[dict[str, Any]]:
    """One statement per set of resource ARNs, named Remediate<Kind><Service>[n]."""
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for resources, group in _grouped(acts, partition, account):
        sid = (
            _sid(group, resources).replace("Remediate", f"Remediate{kind}", 1)
            if kind
            else _sid(group, resources)
        )
        seen[sid] = seen.get(sid, 0) + 1
        if seen[sid] > 1:
            sid += str(seen[sid])
        resource: Any = list(resources) if len(resources) > 1 else resources[0]
        out.append({"Sid": sid, "Effect": "Allow", "Action": group, "Resource": resource})
    return out


def _scope_statements(
    scope: WriteScope, mode: str, partition: str, account: str, *, own: list[str], strict: bool
) -> list[dict[str, Any]]:
    """The statements of `write_scope`: secret values, role and key-policy writes, and the Deny that
    keeps privileged roles (and `own`) out of reach whatever the Allows say.

    `strict` (the deployed roles): no scope, no write. Not strict (the operator's CLI policy): without a
    scope the writes are allowed on the account's roles and keys, as the operator applies by hand."""
    needed = set(required_actions(mode))
    out: list[dict[str, Any]] = [
        {
            "Sid": "RemediateReadSecretValues",
            "Effect": "Allow",
            "Action": list(write_scope.SECRET_READS),
            "Resource": scope.secret_arns(partition, account),
        }
    ]
    roles = [a for a in write_scope.ROLE_WRITES if a in needed]
    if roles:
        arns = scope.role_arns(partition, account)
        if arns:
            out.append(
                {"Sid": "RemediateRoleWriteByPath", "Effect": "Allow", "Action": roles, "Resource": arns}
            )
        if scope.role_tag:
            out.append(
                {
                    "Sid": "RemediateRoleWriteByTag",
                    "Effect": "Allow",
                    "Action": roles,
                    "Resource": f"arn:{partition}:iam::{account}:role/*",
                    "Condition": {"StringEquals": {f"aws:ResourceTag/{write_scope.TAG_KEY}": scope.role_tag}},
                }
            )
        if not strict and not arns and not scope.role_tag:
            resource = f"arn:{partition}:iam::{account}:role/*" if account != "*" else "*"
            out.append(
                {"Sid": "RemediateRoleWrite", "Effect": "Allow", "Action": roles, "Resource": resource}
            )
    keys = [a for a in write_scope.KEY_WRITES if a in needed]
    if keys and (scope.key_arns or not strict):
        keyed: Any = list(scope.key_arns) or (
            f"arn:{partition}:kms:*:{account}:key/*" if account != "*" else "*"
        )
        out.append({"Sid": "RemediateKeyPolicyWrite", "Effect": "Allow", "Action": keys, "Resource": keyed})
    if mode in ("apply", "probe"):  # issue 27: the probe policy holds apply's role writes, and PassRole
        names = [*write_scope.PRIVILEGED_ROLES, *scope.own_roles]
        out.append(
            {
                "Sid": "RemediateNeverPrivileged",
                "Effect": "Deny",
                "Action": [*SELF_MODIFY, *([PASS_ROLE] if mode == "probe" else [])],
                "Resource": [
                    *(
                        f"arn:{partition}:iam::{account}:role{path}{name}"
                        for name in names
                        for path in ("/", "/*/")
                    ),
                    *own,
                ],
            }
        )
    return out


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


DOCUMENT_NAME = "Remediate-KafkaEventSourceMapping"
"""The runbook's default name (the templates' DocumentName parameter)."""


def automation_policy(
    *,
    partition: str,
    account: str,
    role_name: str,
    bucket: str = "",
    scope: WriteScope | None = None,
    document_name: str = DOCUMENT_NAME,
    probe: bool = False,
) -> dict[str, Any]:
    """The runbook role's policy (`apply` actions), scoped; strings may hold CloudFormation `${...}`.

    Role and key-policy writes only within `scope` (none without one), secret values only of the
    secrets it allows, and never on a privileged role or on itself (`write_scope`). With `probe` (the
    deployment's AllowProbe, issue 27 item 7), also `runbook_probe_statements`."""
    scope = scope or WriteScope()
    # The deployment's bucket is named: its statements below replace the CLI's any-bucket journal read.
    plain = [
        a
        for a in required_actions("apply")
        if a not in write_scope.SCOPED and a not in journal_store.PERMISSIONS
    ]
    statements = _scoped_statements(plain, partition, account, "")
    statements += _scope_statements(scope, "apply", partition, account, own=[], strict=True)
    statements.append(
        {
            # aws:approve "sends a message to this topic"; its name must start with Automation.
            "Sid": "RemediateApprovalNotice",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": f"arn:{partition}:sns:*:{account}:Automation*",
        }
    )
    statements.append(
        {
            # issue 27, D5: the runbook's first steps read which version of itself runs and which is the
            # default (GetAutomationExecution names the execution, DescribeDocument the document: Service
            # Authorization Reference, Systems Manager). Any account: an Organization run's document is
            # the management account's, shared.
            "Sid": "RemediateOwnVersion",
            "Effect": "Allow",
            "Action": ["ssm:DescribeDocument", "ssm:GetAutomationExecution"],
            "Resource": [
                f"arn:{partition}:ssm:*:{account}:automation-execution/*",
                f"arn:{partition}:ssm:*:*:document/{document_name}",
            ],
        }
    )
    if bucket:
        objects = f"arn:{partition}:s3:::{bucket}/remediate"
        statements.append(
            {
                "Sid": "RemediateStateWrite",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": [f"{objects}/{prefix}/{account}/*" for prefix in BUCKET_PREFIXES],
            }
        )
        statements.append(
            {
                "Sid": "RemediateStateRead",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [f"{objects}/{p}/{account}/*" for p, rw in BUCKET_PREFIXES.items() if "r" in rw],
            }
        )
    if probe:
        statements += runbook_probe_statements(scope, partition, account, role_name)
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
    partition, account = role_arn_parts(role_arn)
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
                # issue 27, D14: a starter can cancel their run (the design relies on cancel).
                "Sid": "RemediateStopExecutions",
                "Effect": "Allow",
                "Action": "ssm:StopAutomationExecution",
                "Resource": executions,
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
