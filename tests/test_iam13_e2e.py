"""End to end, issue 13 (IAM, policies, the mapping): each scenario through the real CLI against the
sandbox, which now refuses what AWS refuses. After apply, the sandbox's state is checked against the
documented rule itself (written out here from the AWS page), and a new plan has nothing left to do.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from remediate.sandbox import Sandbox
from remediate.sandbox.faults import FaultRule
from remediate.sandbox.scenarios import build_scenario
from tests.conftest import CliRunner, settle

LAMBDA = "lambda.amazonaws.com"


def plan_json(cli: CliRunner, uuid: str) -> dict[str, Any]:
    out = cli("plan", "--esm", uuid, "--output", "json")
    assert out.returncode == 0, out.stderr
    document: dict[str, Any] = json.loads(out.stdout)
    return document


def codes(plan: dict[str, Any]) -> list[str]:
    return sorted(f["code"] for f in plan["findings"])


def apply_and_replan(cli: CliRunner, uuid: str) -> None:
    applied = cli("apply", "--esm", uuid, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    again = plan_json(cli, uuid)
    assert again["changes"] == [], again["changes"]
    assert again["findings"] == [], again["findings"]


def endpoint_policy(sb: Sandbox, endpoint_id: str) -> dict[str, Any]:
    raw = sb.client("ec2").describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]
    document: dict[str, Any] = json.loads(raw["PolicyDocument"])
    return document


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allows_service_on_star(document: dict[str, Any], action: str) -> bool:
    """The Lambda guide's statement: Allow, Principal {"Service": "lambda.amazonaws.com"}, the action,
    "Resource": "*" (network configuration of the Kafka event sources)."""
    for s in _list(document.get("Statement", [])):
        principal = s.get("Principal")
        services = _list(principal.get("Service", [])) if isinstance(principal, dict) else []
        granted = s.get("Effect") == "Allow" and LAMBDA in services and action in _list(s.get("Action"))
        if granted and s.get("Resource") == "*" and "Condition" not in s:
            return True
    return False


def role_allows(sb: Sandbox, role_name: str, action: str, resource: str) -> bool:
    """Whether an inline policy of the role names `action` on `resource` literally (or on "*")."""
    iam = sb.client("iam")
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        for s in _list(document["Statement"]):
            if (
                s["Effect"] == "Allow"
                and action in _list(s["Action"])
                and {resource, "*"} & set(_list(s["Resource"]))
            ):
                return True
    return False


@pytest.mark.parametrize("name", ["endpoint-policies-scoped", "endpoint-policies-organization-only"])
def test_item_1_and_5_endpoint_policies_e2e(name: str, sandbox: Sandbox, cli: CliRunner) -> None:
    """Scoped to the function and role ARNs (item 1), or to the organization (item 5): after apply, both
    endpoint policies hold the guide's statement on "Resource": "*", and the user's statements are kept."""
    scn = build_scenario(sandbox, name)
    before = {s: endpoint_policy(sandbox, e) for s, e in scn.endpoint_ids.items()}
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == sorted(scn.expected_findings)
    assert not allows_service_on_star(before["lambda"], "lambda:InvokeFunction")
    apply_and_replan(cli, scn.esm_uuid)
    after = {s: endpoint_policy(sandbox, e) for s, e in scn.endpoint_ids.items()}
    assert allows_service_on_star(after["lambda"], "lambda:InvokeFunction")
    assert allows_service_on_star(after["sts"], "sts:AssumeRole")
    for service in ("lambda", "sts"):
        assert (
            after[service]["Statement"][: len(before[service]["Statement"])] == before[service]["Statement"]
        )


# scenario -> (action the role must then allow, its resource, from the Scenario)
ROLE_NEEDS: dict[str, list[tuple[str, str]]] = {
    "role-missing-logs": [
        ("logs:CreateLogGroup", "log_group"),
        ("logs:CreateLogStream", "log_group"),
        ("logs:PutLogEvents", "log_group"),
    ],
    "serverless-describe-cluster-v1": [("kafka:DescribeClusterV2", "cluster_arn")],
    "destination-s3-own-key": [
        ("s3:ListBucket", "destination_arn"),
        ("kms:GenerateDataKey", "destination_kms_key_arn"),
    ],
    "destination-sqs-own-key": [
        ("kms:GenerateDataKey", "destination_kms_key_arn"),
        ("kms:Decrypt", "destination_kms_key_arn"),
    ],
    "cross-account-no-describe-vpc-connection": [("kafka:DescribeVpcConnection", "vpc_connection_arn")],
}


@pytest.mark.parametrize("name", sorted(ROLE_NEEDS))
def test_item_1_role_needs_e2e(name: str, sandbox: Sandbox, cli: CliRunner) -> None:
    """The documented permissions (with-msk-permissions, kafka-on-failure, msk-cross-account): after apply
    the role names each one on its resource."""
    scn = build_scenario(sandbox, name)
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == sorted(scn.expected_findings)
    resources = {
        "log_group": f"arn:aws:logs:us-east-1:{sandbox.account_id}:log-group:/aws/lambda/"
        f"{scn.function_name}:*",
        "cluster_arn": scn.cluster_arn,
        "destination_arn": scn.destination_arn,
        "destination_kms_key_arn": scn.destination_kms_key_arn,
        "vpc_connection_arn": scn.vpc_connection_arn,
    }
    needs = [(action, str(resources[field])) for action, field in ROLE_NEEDS[name]]
    assert not any(role_allows(sandbox, scn.role_name, a, r) for a, r in needs)
    apply_and_replan(cli, scn.esm_uuid)
    for action, resource in needs:
        assert role_allows(sandbox, scn.role_name, action, resource), (action, resource)


def test_item_4_provisioned_mode_e2e(sandbox: Sandbox, cli: CliRunner) -> None:
    """Provisioned pollers need no PrivateLink endpoints: the endpoints' denying policies are no finding."""
    scn = build_scenario(sandbox, "provisioned-mode-endpoint-policies")
    plan = plan_json(cli, scn.esm_uuid)
    assert plan["findings"] == []
    assert plan["changes"] == []


def test_item_9_policy_near_the_limit_is_sent_compact_e2e(sandbox: Sandbox, cli: CliRunner) -> None:
    """A policy that fits the 20,480 characters only without whitespace is accepted by the sandbox (which
    counts whitespace, as AWS does), and one past it even compact is a manual step, never a refused call."""
    filler = [
        {
            "Sid": f"Keep{i:03d}",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "lambda:GetFunction",
            "Resource": f"arn:aws:lambda:us-east-1:123456789012:function:f{i:03d}",
        }
        for i in range(138)
    ]
    near = {"Version": "2012-10-17", "Statement": filler}
    scn = build_scenario(sandbox, "lambda-endpoint-denies-invoke", endpoint_policies={"lambda": near})
    (change,) = [
        c for c in plan_json(cli, scn.esm_uuid)["changes"] if c["action"] == "put_vpc_endpoint_policy"
    ]
    assert len(json.dumps(change["after"]["PolicyDocument"])) > 20_480  # as `json.dumps` would send it
    apply_and_replan(cli, scn.esm_uuid)
    assert allows_service_on_star(
        endpoint_policy(sandbox, scn.endpoint_ids["lambda"]), "lambda:InvokeFunction"
    )

    more = [{**s, "Sid": s["Sid"].replace("Keep", "More")} for s in filler[:2]]
    over = {"Version": "2012-10-17", "Statement": [*filler, *more]}
    far = build_scenario(
        sandbox,
        "lambda-endpoint-denies-invoke",
        name="endpoint-near-limit-2",
        endpoint_policies={"lambda": over},
    )
    plan = plan_json(cli, far.esm_uuid)
    assert [c for c in plan["changes"] if c["action"] == "put_vpc_endpoint_policy"] == []
    assert any("over the limit of 20480" in m["text"] for m in plan["manual_steps"])


def test_item_12_cluster_failed_e2e(sandbox: Sandbox, cli: CliRunner) -> None:
    """FAILED keeps clients out (issue 24 N7 moved this from MAINTENANCE, which still serves them)."""
    scn = build_scenario(sandbox, "cluster-failed")
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == ["CLUSTER_NOT_ACTIVE"]
    assert plan["changes"] == []
    assert any("FAILED" in m["text"] for m in plan["manual_steps"])
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    esm = settle(sandbox, scn.esm_uuid)
    assert (esm["State"], esm["BatchSize"]) == ("Enabled", 500)  # nothing changed on the trigger


def test_item_13_denied_network_read_plans_no_batch_size_e2e(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    sandbox.faults.add(FaultRule(service="ec2", operation="DescribeRouteTables", kind="status", status=403))
    plan = plan_json(cli, scn.esm_uuid)
    assert "BROKER_TIMEOUT" not in codes(plan)
    assert any("no batch-size change is planned" in f["summary"] for f in plan["findings"])
    assert [c["action"] for c in plan["changes"]] == []


def test_item_14_user_disabled_mapping_stays_disabled_e2e(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "disabled")
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == ["ESM_DISABLED"]
    assert plan["findings"][0]["evidence"]["disabled_by"] == "user"
    assert plan["changes"] == []
    assert any("a person disabled it" in m["text"] for m in plan["manual_steps"])
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    assert settle(sandbox, scn.esm_uuid)["State"] == "Disabled"


def test_item_15_cross_account_e2e(sandbox: Sandbox, cli: CliRunner) -> None:
    """A mapping on a managed VPC connection is observed through DescribeVpcConnection, never
    DescribeClusterV2 (which refuses another account's cluster), and a healthy one has no finding."""
    scn = build_scenario(sandbox, "cross-account-msk")
    sandbox.clear_calls()
    plan = plan_json(cli, scn.esm_uuid)
    assert plan["findings"] == []
    operations = {op for service, op in sandbox.calls if service == "kafka"}
    assert "DescribeVpcConnection" in operations
    assert "DescribeClusterV2" not in operations


def test_item_15_cross_account_owner_denies_e2e(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "cross-account-owner-denies")
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == ["CLUSTER_AUTHZ_FAILED"]
    assert plan["changes"] == []
    (step,) = plan["manual_steps"]
    assert f"aws kafka get-cluster-policy --cluster-arn {scn.cluster_arn}" in step["text"]
    assert "In account 444455556666" in step["text"]


def test_item_17_boundary_is_a_manual_step_e2e(sandbox: Sandbox, cli: CliRunner) -> None:
    """The policies allow everything, the boundary does not: no policy change claims a fix, the boundary
    is left as it is, and no restart is planned before a person changes it."""
    scn = build_scenario(sandbox, "role-boundary-denies")
    iam = sandbox.client("iam")
    boundary = iam.get_role(RoleName=scn.role_name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"]
    assert boundary == scn.permissions_boundary_arn
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == sorted(scn.expected_findings)
    assert plan["changes"] == []
    assert any(boundary in m["text"] and "never edits" in m["text"] for m in plan["manual_steps"])
    assert cli("apply", "--esm", scn.esm_uuid, "--auto-approve").returncode == 0
    assert iam.get_policy(PolicyArn=boundary)["Policy"]["DefaultVersionId"] == "v1"
    assert (
        iam.get_role(RoleName=scn.role_name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"]
        == boundary
    )
