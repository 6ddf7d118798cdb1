"""The CloudFormation templates that deploy the runbook: one account, or an AWS Organization.

- `account_template()` (deploy/remediate-runbook.yaml): the runbook and its role in one account.
- `member_template()` (deploy/remediate-org-member.yaml): what a StackSet puts in every target
  account: the runbook in each target Region (per-account Apply runs it there) and, in one Region
  (IAM is global), `Remediate-AutomationExecutionRole`, the role Automation assumes in a
  target account (the user guide recommends a StackSet for it).
- `admin_template()` (deploy/remediate-org-admin.yaml): for the management (or delegated
  administrator) account: `Remediate-AutomationAdministrationRole`, allowed to assume the
  execution role in the target accounts, and the StackSet itself with service-managed permissions
  (AutoDeployment is required with SERVICE_MANAGED: CloudFormation API, CreateStackSet).

The document in each is `runbook()` with the deploy-time values (approvers, minimum approvals, the
notification topic, whether AutoApprove exists, the bucket) as template parameters. Its attachment is
named with `S3FileUrl` and `Name`: the file form (`SourceUrl` names a folder; CloudFormation
reference, AWS::SSM::Document AttachmentsSource). Intrinsics are written in their long form so the
files are plain YAML.
"""

from __future__ import annotations

from typing import Any

from remediate.iam_policy import DOCUMENT_NAME, automation_policy
from remediate.ssm.document import (
    ATTACHMENT,
    BUCKET_PATTERN,
    TOPIC_PATTERN,
    Attachment,
    Deploy,
    dump,
    runbook,
)
from remediate.write_scope import PATH_PATTERN, TAG_KEY, WriteScope

ADMIN_ROLE = "Remediate-AutomationAdministrationRole"
EXECUTION_ROLE = "Remediate-AutomationExecutionRole"
"""issue 27, D9: not the names the multi-account guide gives every organization
(AWS-SystemsManager-Automation{Administration,Execution}Role, StartAutomationExecution's default
ExecutionRoleName): those may exist already (the stack would fail) and other automations started with
them would run with remediate's policy. `ssm-start --execution-role-name` names this one."""
_ADMIN_ARN = f"arn:${{AWS::Partition}}:iam::${{AdminAccountId}}:role/{ADMIN_ROLE}"


def _sub(value: Any) -> Any:
    """Every string holding `${...}` inside a policy becomes Fn::Sub."""
    if isinstance(value, str) and "${" in value:
        return {"Fn::Sub": value}
    if isinstance(value, list):
        return [_sub(v) for v in value]
    if isinstance(value, dict):
        return {k: v if k in ("Sid", "Effect", "Action") else _sub(v) for k, v in value.items()}
    return value


_SCOPE_PLACEHOLDER = WriteScope(
    role_path="${FixableRolePath}", role_tag="${FixableRoleTag}", key_arns=("${FixableKeyArns}",)
)
"""Parameters in place of the deployer's scope; `_role_policy` turns their statements conditional."""
_SCOPE_CONDITIONS = {
    "HasFixableRolePath": {"Fn::Not": [{"Fn::Equals": [{"Ref": "FixableRolePath"}, ""]}]},
    "HasFixableRoleTag": {"Fn::Not": [{"Fn::Equals": [{"Ref": "FixableRoleTag"}, ""]}]},
    "HasFixableKeyArns": {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "FixableKeyArns"}]}, ""]}]},
    "HasReadableSecretArns": {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "ReadableSecretArns"}]}, ""]}]
    },
    # issue 27, item 7: the probe's rights exist only where the deployer opted in.
    "AllowProbe": {"Fn::Equals": [{"Ref": "AllowProbe"}, "true"]},
    "AllowProbeByPath": {"Fn::And": [{"Condition": "AllowProbe"}, {"Condition": "HasFixableRolePath"}]},
    "AllowProbeByTag": {"Fn::And": [{"Condition": "AllowProbe"}, {"Condition": "HasFixableRoleTag"}]},
}
_PROBE_CONDITIONS = {
    "RemediateProbeFunction": "AllowProbe",
    "RemediateProbeLogGroup": "AllowProbe",
    "RemediateProbeSweep": "AllowProbe",
    "RemediateProbePassRole": "AllowProbeByPath",
    "RemediateProbePassRoleByTag": "AllowProbeByTag",
    "RemediateProbeNeverPrivileged": "AllowProbe",
}
"""issue 27, item 7: each probe statement of `iam_policy.runbook_probe_statements` and its condition."""


def _role_policy(role_name: str) -> dict[str, Any]:
    """The role's policy; the scope's statements exist only when their parameter is set (issue 27)."""
    policy: dict[str, Any] = _sub(
        automation_policy(
            partition="${AWS::Partition}",
            account="${AWS::AccountId}",
            role_name=role_name,
            bucket="${Bucket}",
            scope=_SCOPE_PLACEHOLDER,
            document_name="${DocumentName}",
            probe=True,
        )
    )
    msk_secrets = {"Fn::Sub": WriteScope().secret_arns("${AWS::Partition}", "${AWS::AccountId}")[0]}
    conditional = {
        "RemediateRoleWriteByPath": "HasFixableRolePath",
        "RemediateRoleWriteByTag": "HasFixableRoleTag",
        "RemediateKeyPolicyWrite": "HasFixableKeyArns",
        **_PROBE_CONDITIONS,
    }
    out = []
    for stmt in policy["Statement"]:
        sid = stmt["Sid"]
        if sid == "RemediateKeyPolicyWrite":
            stmt = {**stmt, "Resource": {"Ref": "FixableKeyArns"}}
        if sid == "RemediateReadSecretValues":
            named = {
                "Fn::Split": [
                    ",",
                    {"Fn::Join": [",", [msk_secrets, {"Fn::Join": [",", {"Ref": "ReadableSecretArns"}]}]]},
                ]
            }
            stmt = {**stmt, "Resource": {"Fn::If": ["HasReadableSecretArns", named, [msk_secrets]]}}
        out.append(
            {"Fn::If": [conditional[sid], stmt, {"Ref": "AWS::NoValue"}]} if sid in conditional else stmt
        )
    return {**policy, "Statement": out}


def _scope_parameters() -> dict[str, Any]:
    """issue 27: what the role may rewrite; each empty by default, and then nothing of its kind."""
    return {
        "FixableRolePath": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": f"^$|^{PATH_PATTERN[1:]}",
            "Description": "Execution roles under this path (e.g. /service-role/) may be fixed by the "
            "runbook. Empty: none by path.",
        },
        "FixableRoleTag": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^[A-Za-z0-9 _.:/=+@-]{0,256}$",
            "Description": f"Execution roles tagged {TAG_KEY} with this value may be fixed. Empty: none by "
            "tag. Privileged roles (OrganizationAccountAccessRole, AWSReservedSSO_*, cdk-*, ...) never are.",
        },
        "FixableKeyArns": {
            "Type": "CommaDelimitedList",
            "Default": "",
            "Description": "KMS key ARNs whose key policy the runbook may edit. Empty: none.",
        },
        "ReadableSecretArns": {
            "Type": "CommaDelimitedList",
            "Default": "",
            "Description": "Secret ARNs (wildcards allowed) whose values diagnosis may read besides "
            "AmazonMSK_*. Empty: only AmazonMSK_* secrets.",
        },
        # issue 27, item 7
        "AllowProbe": {
            "Type": "String",
            "Default": "false",
            "AllowedValues": ["false", "true"],
            "Description": "true: Diagnose/Plan may run the probe (Probe: true): the role may create, invoke "
            "and delete remediate-probe-* functions and pass execution roles under FixableRolePath or "
            "tagged FixableRoleTag to Lambda. false: none of that.",
        },
    }


def _fixable() -> dict[str, Any]:
    """The scope as the plan step receives it: deploy-time values, not the starter's."""
    return {
        "FixableRolePath": {"Ref": "FixableRolePath"},
        "FixableRoleTag": {"Ref": "FixableRoleTag"},
        "FixableKeyArns": {"Ref": "FixableKeyArns"},
    }


def _org_approval_parameters() -> dict[str, Any]:
    """issue 27, D3: a member account's approvers and topic, named, made into ARNs in each account."""
    return {
        "ApproverRoleNames": {
            "Type": "CommaDelimitedList",
            "Description": "Names (not ARNs) of IAM roles, 1 to 10, that may approve an Apply; each "
            "account's document names that account's roles of these names.",
        },
        "NotificationTopicName": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^$|^Automation[A-Za-z0-9_-]*$",
            "Description": "Optional SNS topic name (starting with Automation) in each account and Region "
            "told of approval requests.",
        },
    }


def _runbook_parameters(org: bool = False) -> dict[str, Any]:
    if org:
        base = _runbook_parameters()
        del base["Approvers"], base["NotificationArn"]
        return {**base, **_org_approval_parameters()}
    return {
        "DocumentName": {"Type": "String", "Default": DOCUMENT_NAME},
        "BundleBucket": {"Type": "String", "Description": "S3 bucket holding the bundle."},
        "BundleKey": {
            "Type": "String",
            "Default": ATTACHMENT,
            "Description": "Key of the bundle (from `remediate ssm-bundle`); the document names it "
            f"{ATTACHMENT} whatever the key.",
        },
        "BundleSha256": {
            "Type": "String",
            "AllowedPattern": "^[0-9a-f]{64}$",
            "Description": "sha256 of the bundle, as printed by `remediate ssm-bundle`.",
        },
        "Bucket": {
            "Type": "String",
            "AllowedPattern": BUCKET_PATTERN,
            "Description": "S3 bucket for apply journals, plans over 100 KB and fleet reports (remediate/*).",
        },
        "Approvers": {
            "Type": "CommaDelimitedList",
            "Description": "IAM users or roles (1 to 10) who may approve an Apply; fixed at deployment.",
        },
        "MinRequiredApprovals": {
            "Type": "Number",
            "Default": 1,
            "MinValue": 1,
            "MaxValue": 10,
            "Description": "Approvals an Apply needs; at most the number of approvers.",
        },
        "NotificationArn": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": f"^$|{TOPIC_PATTERN}",
            "Description": "Optional SNS topic (name starting with Automation) told of approval requests.",
        },
        "AllowAutoApprove": {
            "Type": "String",
            "Default": "false",
            "AllowedValues": ["false", "true"],
            "Description": "true: the document has an AutoApprove parameter that skips the approval.",
        },
        **_scope_parameters(),
    }


_RUNBOOK_CONDITIONS = {
    "HasNotificationArn": {"Fn::Not": [{"Fn::Equals": [{"Ref": "NotificationArn"}, ""]}]},
    "AllowAutoApprove": {"Fn::Equals": [{"Ref": "AllowAutoApprove"}, "true"]},
    **_SCOPE_CONDITIONS,
}


MEMBER_ROLE_ARN = "arn:{{ global:AWS_PARTITION }}:iam::{{ global:ACCOUNT_ID }}:role/"
"""issue 27, D3: an approver role in the account the execution runs in. SendAutomationSignal acts on
an execution in the caller's account, so a member account's approvers are its own principals; the
automation system variables global:AWS_PARTITION and global:ACCOUNT_ID are "substituted into the
runbook when any part of the runbook is evaluated" (Systems Manager user guide, "Automation system
variables", automation-variables.html), so one document names each account's own roles."""
MEMBER_TOPIC_ARN = "arn:{{ global:AWS_PARTITION }}:sns:{{ global:REGION }}:{{ global:ACCOUNT_ID }}:"
"""The approval topic, by name, in the account and Region the execution runs in (one per account)."""


def _member_approvers() -> dict[str, Any]:
    """["arn:...:role/NAME1", ...] from the ApproverRoleNames list, with literal delimiters only
    (CloudFormation's Fn::Join delimiter takes no functions; the prefix holds none)."""
    names = {"Fn::Join": ["," + MEMBER_ROLE_ARN, {"Ref": "ApproverRoleNames"}]}
    return {"Fn::Split": [",", {"Fn::Join": ["", [MEMBER_ROLE_ARN, names]]}]}


def deployed_runbook(org: bool = False) -> dict[str, Any]:
    """The runbook with the template's parameters in place of the deploy-time values; `org`: a
    StackSet member's, whose approvers and topic are named per account (issue 27, D3)."""
    if org:
        approvers: Any = _member_approvers()
        topic: Any = {
            "Fn::If": [
                "HasNotificationTopicName",
                {"Fn::Join": ["", [MEMBER_TOPIC_ARN, {"Ref": "NotificationTopicName"}]]},
                {"Ref": "AWS::NoValue"},
            ]
        }
    else:
        approvers = {"Ref": "Approvers"}
        topic = {"Fn::If": ["HasNotificationArn", {"Ref": "NotificationArn"}, {"Ref": "AWS::NoValue"}]}
    return runbook(
        Deploy(
            approvers=approvers,
            min_approvals={"Ref": "MinRequiredApprovals"},
            notification_arn=topic,
            auto_approve="AllowAutoApprove",
            bucket={"Ref": "Bucket"},
            attachment=Attachment(ATTACHMENT, {"Ref": "BundleSha256"}),
            fixable=_fixable(),
            allow_probe={"Ref": "AllowProbe"},
        )
    )


def _document(org: bool = False) -> dict[str, Any]:
    return {
        "Type": "AWS::SSM::Document",
        "Properties": {
            "Name": {"Ref": "DocumentName"},
            "DocumentType": "Automation",
            "DocumentFormat": "YAML",
            "UpdateMethod": "NewVersion",
            "Attachments": [
                {
                    "Key": "S3FileUrl",
                    "Name": ATTACHMENT,
                    "Values": [{"Fn::Sub": "s3://${BundleBucket}/${BundleKey}"}],
                }
            ],
            "Content": deployed_runbook(org),
        },
    }


def _trust(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _ssm_trust() -> dict[str, Any]:
    return {
        "Sid": "RemediateTrustSsmAutomation",
        "Effect": "Allow",
        "Principal": {"Service": "ssm.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
    }


def _pass_itself(role_name: str) -> dict[str, Any]:
    """Automation passes the role it runs as to itself (the starter needs iam:PassRole on it too)."""
    return {
        "PolicyName": "RemediatePassItself",
        "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "RemediatePassItselfToSsm",
                    "Effect": "Allow",
                    "Action": "iam:PassRole",
                    "Resource": {
                        "Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{role_name}"
                    },
                    "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
                }
            ],
        },
    }


def account_template() -> dict[str, Any]:
    """One account: the runbook and the role its steps run as."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "remediate: the SSM Automation runbook and its least-privilege AutomationAssumeRole.",
        "Parameters": {
            **_runbook_parameters(),
            "RoleName": {
                "Type": "String",
                "Default": "RemediateAutomation",
                "AllowedPattern": "^[A-Za-z0-9+=,.@_-]{1,64}$",
                "Description": "Name of the role the steps run as (denied any change to itself).",
            },
        },
        "Conditions": _RUNBOOK_CONDITIONS,
        "Resources": {
            "AutomationAssumeRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": {"Ref": "RoleName"},
                    "Description": "Runs the remediate runbook's steps.",
                    "AssumeRolePolicyDocument": _trust(_ssm_trust()),
                    "Policies": [
                        {"PolicyName": "RemediateEngine", "PolicyDocument": _role_policy("${RoleName}")},
                        _pass_itself("${RoleName}"),
                    ],
                },
            },
            "Runbook": _document(),
        },
        "Outputs": {
            "DocumentName": {"Value": {"Ref": "Runbook"}},
            "AutomationAssumeRoleArn": {"Value": {"Fn::GetAtt": ["AutomationAssumeRole", "Arn"]}},
        },
    }


def member_template() -> dict[str, Any]:
    """A StackSet's template for each target account and Region."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "remediate (StackSet member): the runbook, and the Automation execution role.",
        "Parameters": {
            **_runbook_parameters(org=True),
            "AdminAccountId": {
                "Type": "String",
                "AllowedPattern": r"^\d{12}$",
                "Description": f"The account whose {ADMIN_ROLE} starts multi-account runs.",
            },
            "RoleRegion": {
                "Type": "String",
                "Description": "The one Region where the execution role is created (IAM is global).",
            },
        },
        "Conditions": {
            **{k: v for k, v in _RUNBOOK_CONDITIONS.items() if k != "HasNotificationArn"},
            "HasNotificationTopicName": {"Fn::Not": [{"Fn::Equals": [{"Ref": "NotificationTopicName"}, ""]}]},
            "IsRoleRegion": {"Fn::Equals": [{"Ref": "AWS::Region"}, {"Ref": "RoleRegion"}]},
        },
        "Resources": {
            "ExecutionRole": {
                "Type": "AWS::IAM::Role",
                "Condition": "IsRoleRegion",
                "Properties": {
                    "RoleName": EXECUTION_ROLE,
                    "Description": "Runs the remediate runbook here for multi-account automations.",
                    "AssumeRolePolicyDocument": _trust(
                        {
                            "Sid": "RemediateTrustAutomationAdmin",
                            "Effect": "Allow",
                            "Principal": {"AWS": {"Fn::Sub": _ADMIN_ARN}},
                            "Action": "sts:AssumeRole",
                        },
                        _ssm_trust(),
                    ),
                    "Policies": [
                        {"PolicyName": "RemediateEngine", "PolicyDocument": _role_policy(EXECUTION_ROLE)},
                        _pass_itself(EXECUTION_ROLE),
                    ],
                },
            },
            "Runbook": _document(org=True),
        },
        "Outputs": {"DocumentName": {"Value": {"Ref": "Runbook"}}},
    }


def admin_policy() -> dict[str, Any]:
    """The administration role may assume the execution role in target accounts, and list OUs' accounts."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RemediateAssumeExecutionRole",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:${{AWS::Partition}}:iam::*:role/{EXECUTION_ROLE}",
            },
            {
                # Targeting OUs makes Automation list their accounts; the call has no resource type.
                "Sid": "RemediateListOrganizationAccounts",
                "Effect": "Allow",
                "Action": "organizations:ListAccountsForParent",
                "Resource": "*",
            },
        ],
    }


def state_bucket_policy() -> dict[str, Any]:
    """The shared state bucket's policy: each account of the Organization reads and writes only
    `remediate/{journals,plans,reports}/ITS_ACCOUNT/*`.

    `${aws:PrincipalAccount}` in the Resource is a policy variable (IAM user guide, "IAM policy elements:
    Variables and tags": global condition context keys may be variables, in resource-based policies too),
    so one statement gives every member its own prefix and none another's: a cross-account request
    needs the bucket policy's Allow (IAM, "Cross-account policy evaluation logic"), so a member cannot
    write another member's journal whatever its own policies say. `${!...}` keeps Fn::Sub from
    substituting it."""
    objects = "arn:${AWS::Partition}:s3:::${Bucket}/remediate"
    own = "${!aws:PrincipalAccount}"
    in_org = {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "StateBucketOrganizationId"}}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RemediateOwnAccountState",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": [{"Fn::Sub": f"{objects}/{prefix}/{own}/*"} for prefix in ("journals", "plans")],
                "Condition": in_org,
            },
            {
                "Sid": "RemediateOwnAccountReports",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "s3:PutObject",
                "Resource": {"Fn::Sub": f"{objects}/reports/{own}/*"},
                "Condition": in_org,
            },
        ],
    }


def _stackset_rules() -> dict[str, Any]:
    """issue 27, D16: the execution role is created only in RoleRegion, so it must be a target Region
    (CloudFormation template Rules, Fn::Contains: "true if a specified string matches at least one value
    in a list of strings")."""
    return {
        "RoleRegionIsATargetRegion": {
            "Assertions": [
                {
                    "Assert": {"Fn::Contains": [{"Ref": "TargetRegions"}, {"Ref": "RoleRegion"}]},
                    "AssertDescription": "RoleRegion must be one of TargetRegions, or no member account "
                    "gets the execution role",
                }
            ]
        }
    }


def _operation_preferences() -> dict[str, Any]:
    """issue 27, D16: roll out to many accounts at once and go on past a few failures. By default
    (STRICT_FAILURE_TOLERANCE, tolerance 0) a StackSet deploys one account at a time and stops at the
    first failure; SOFT_FAILURE_TOLERANCE "decouples FailureToleranceCount from the actual concurrency"
    (CloudFormation API reference, StackSetOperationPreferences). Regions in parallel."""
    return {
        "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE",
        "MaxConcurrentPercentage": {"Ref": "MaxConcurrentPercentage"},
        "FailureTolerancePercentage": {"Ref": "FailureTolerancePercentage"},
        "RegionConcurrencyType": "PARALLEL",
    }


def admin_template() -> dict[str, Any]:
    """The management (or delegated administrator) account: the administration role and the StackSet."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "remediate (Organization): the Automation administration role and the StackSet.",
        "Parameters": {
            "MemberTemplateUrl": {
                "Type": "String",
                "Description": "S3 URL of deploy/remediate-org-member.yaml.",
            },
            "CallAs": {
                "Type": "String",
                "Default": "SELF",
                "AllowedValues": ["SELF", "DELEGATED_ADMIN"],
                "Description": "DELEGATED_ADMIN when this stack is deployed in a delegated administrator "
                "account (CloudFormation CreateStackSet, CallAs).",
            },
            "TargetOrganizationalUnits": {
                "Type": "CommaDelimitedList",
                "Description": "OU ids to deploy to.",
            },
            "TargetRegions": {"Type": "CommaDelimitedList", "Description": "Regions the runbook runs in."},
            "RoleRegion": {"Type": "String", "Description": "The Region where member execution roles live."},
            "BundleBucket": {"Type": "String"},
            "BundleKey": {"Type": "String", "Default": ATTACHMENT},
            "BundleSha256": {"Type": "String", "AllowedPattern": "^[0-9a-f]{64}$"},
            "Bucket": {"Type": "String", "AllowedPattern": BUCKET_PATTERN},
            **_org_approval_parameters(),
            "MinRequiredApprovals": {"Type": "Number", "Default": 1, "MinValue": 1, "MaxValue": 10},
            "AllowAutoApprove": {"Type": "String", "Default": "false", "AllowedValues": ["false", "true"]},
            **_scope_parameters(),
            # issue 27, D8 and D16
            "StateBucketOrganizationId": {
                "Type": "String",
                "Default": "",
                "AllowedPattern": "^$|^o-[a-z0-9]{10,32}$",
                "Description": "The Organization's id: set it when this account owns Bucket, and this stack "
                "writes the bucket's policy (each account only its own remediate/*/ACCOUNT/ prefix). Empty: "
                "the policy is yours to write (docs/ssm.md).",
            },
            "MaxConcurrentPercentage": {
                "Type": "Number",
                "Default": 25,
                "MinValue": 1,
                "MaxValue": 100,
                "Description": "Share of the accounts the StackSet deploys to at once, per Region.",
            },
            "FailureTolerancePercentage": {
                "Type": "Number",
                "Default": 10,
                "MinValue": 0,
                "MaxValue": 100,
                "Description": "Share of the accounts that may fail, per Region, before the StackSet stops.",
            },
        },
        "Rules": _stackset_rules(),
        "Conditions": {
            "HasStateBucketPolicy": {"Fn::Not": [{"Fn::Equals": [{"Ref": "StateBucketOrganizationId"}, ""]}]}
        },
        "Resources": {
            "StateBucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Condition": "HasStateBucketPolicy",
                "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": state_bucket_policy()},
            },
            "AdministrationRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": ADMIN_ROLE,
                    "Description": "Starts remediate's multi-account runs (TargetLocations).",
                    "AssumeRolePolicyDocument": _trust(_ssm_trust()),
                    "Policies": [
                        {
                            "PolicyName": "RemediateAutomationAdministration",
                            "PolicyDocument": _sub(admin_policy()),
                        }
                    ],
                },
            },
            "MemberStackSet": {
                "Type": "AWS::CloudFormation::StackSet",
                "Properties": {
                    "StackSetName": "remediate-members",
                    "Description": "remediate's runbook and execution role in every target account.",
                    "PermissionModel": "SERVICE_MANAGED",
                    "CallAs": {"Ref": "CallAs"},  # issue 27, D6
                    "OperationPreferences": _operation_preferences(),
                    "AutoDeployment": {"Enabled": True, "RetainStacksOnAccountRemoval": False},
                    "Capabilities": ["CAPABILITY_NAMED_IAM"],
                    "TemplateURL": {"Ref": "MemberTemplateUrl"},
                    "Parameters": [
                        {"ParameterKey": "AdminAccountId", "ParameterValue": {"Ref": "AWS::AccountId"}},
                        *[
                            {"ParameterKey": key, "ParameterValue": {"Ref": key}}
                            for key in (
                                "RoleRegion",
                                "BundleBucket",
                                "BundleKey",
                                "BundleSha256",
                                "Bucket",
                                "NotificationTopicName",
                                "AllowAutoApprove",
                                "FixableRolePath",
                                "FixableRoleTag",
                                "AllowProbe",  # issue 27, item 7
                            )
                        ],
                        *[
                            {"ParameterKey": key, "ParameterValue": {"Fn::Join": [",", {"Ref": key}]}}
                            for key in ("FixableKeyArns", "ReadableSecretArns")
                        ],
                        {
                            "ParameterKey": "MinRequiredApprovals",
                            "ParameterValue": {"Ref": "MinRequiredApprovals"},
                        },
                        {
                            "ParameterKey": "ApproverRoleNames",
                            "ParameterValue": {"Fn::Join": [",", {"Ref": "ApproverRoleNames"}]},
                        },
                    ],
                    "StackInstancesGroup": [
                        {
                            "DeploymentTargets": {
                                "OrganizationalUnitIds": {"Ref": "TargetOrganizationalUnits"}
                            },
                            "Regions": {"Ref": "TargetRegions"},
                        }
                    ],
                },
            },
        },
        "Outputs": {"AdministrationRoleArn": {"Value": {"Fn::GetAtt": ["AdministrationRole", "Arn"]}}},
    }


TEMPLATES = {
    "account": ("remediate-runbook.yaml", account_template),
    "org-member": ("remediate-org-member.yaml", member_template),
    "org-admin": ("remediate-org-admin.yaml", admin_template),
}
_DEPLOY = {
    "account": (
        "#   aws cloudformation deploy --template-file deploy/remediate-runbook.yaml \\\n"
        "#   --stack-name remediate \\\n"
        "#   --capabilities CAPABILITY_NAMED_IAM --parameter-overrides BundleBucket=B BundleSha256=... \\\n"
        "#   Bucket=STATE_BUCKET Approvers=arn:aws:iam::111122223333:role/OnCall\n"
    ),
    "org-member": "#   (by the StackSet of deploy/remediate-org-admin.yaml: upload this file to S3)\n",
    "org-admin": (
        "#   aws cloudformation deploy --template-file deploy/remediate-org-admin.yaml \\\n"
        "#   --stack-name remediate-org \\\n"
        "#   --capabilities CAPABILITY_NAMED_IAM --parameter-overrides MemberTemplateUrl=https://... ...\n"
    ),
}


def template_yaml(kind: str = "account") -> str:
    name, build = TEMPLATES[kind]
    header = (
        f"# Generated by `remediate ssm-document --cloudformation {kind}`; do not edit by hand.\n"
        "# Bundle: remediate ssm-bundle --out dist && aws s3 cp dist/remediate-ssm.zip s3://BUCKET/\n"
        f"# Deploy ({name}):\n{_DEPLOY[kind]}"
    )
    return header + dump(build())
