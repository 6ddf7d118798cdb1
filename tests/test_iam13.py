"""Issue 13, IAM, policies, secrets and the mapping: one failing-then-passing test per item, on `Facts`
fixtures (no AWS), plus AWS's documented response shapes run through `observe/builders.py`.

Expected values come from the AWS pages cited beside each test (docs/aws-rules.md lists them), never from
the code under test: e.g. the Lambda guide's endpoint statement is written out here literally.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from remediate.actions import ApplyContext, get
from remediate.checks import run_check
from remediate.config import Settings
from remediate.facts import (
    Cluster,
    ClusterAuth,
    Destination,
    Facts,
    NamedPolicy,
    Role,
    Secret,
    SourceAccess,
    Unchecked,
    VpcConnection,
    VpcEndpoint,
)
from remediate.observe.builders import (
    cluster_from_api,
    esm_from_api,
    permissions_boundary_arn,
    policy_document,
    vpc_connection_from_api,
)
from remediate.plan import Change
from remediate.policy import statements
from remediate.run import playbook
from remediate.run.engine import build_plan, diagnose
from remediate.run.playbook import Playbook
from tests import factories

ROLE = factories.ROLE_ARN
CLUSTER = factories.CLUSTER_ARN
FUNCTION = factories.FUNCTION_ARN
CONNECTION_ERROR = "PROBLEM: Connection error. Please check your event source connection configuration."

# The statements the Lambda developer guide gives for the endpoints of a Kafka mapping's VPC ("Example VPC
# Endpoint policy - AWS STS endpoint" / "- Lambda endpoint"), written out as the guide has them.
GUIDE_LAMBDA_STATEMENT = {
    "Action": "lambda:InvokeFunction",
    "Effect": "Allow",
    "Principal": {"Service": ["lambda.amazonaws.com"]},
    "Resource": "*",
}
GUIDE_STS_STATEMENT = {
    "Action": "sts:AssumeRole",
    "Effect": "Allow",
    "Principal": {"Service": ["lambda.amazonaws.com"]},
    "Resource": "*",
}


@pytest.fixture(scope="module")
def books() -> list[Playbook]:
    return playbook.load()


def policy(*stmts: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(stmts)}


def codes(found: list[Any]) -> list[str]:
    return sorted(f.code for f in found)


def endpoint(service: str, document: dict[str, Any] | None) -> VpcEndpoint:
    return VpcEndpoint(
        id=f"vpce-{service}",
        service_name=f"com.amazonaws.us-east-1.{service}",
        type="Interface",
        state="available",
        private_dns=True,
        policy=document,
    )


def with_endpoints(f: Facts, *endpoints: VpcEndpoint) -> Facts:
    assert f.network is not None
    return f.model_copy(update={"network": f.network.model_copy(update={"endpoints": endpoints})})


def grants(document: dict[str, Any], principal: str, action: str) -> list[dict[str, Any]]:
    """Allow statements of `document` naming `principal` and `action` literally, on "Resource": "*"."""
    out = []
    for s in statements(document):
        services = s.get("Principal", {}).get("Service", []) if isinstance(s.get("Principal"), dict) else []
        services = [services] if isinstance(services, str) else services
        actions = [s["Action"]] if isinstance(s.get("Action"), str) else s.get("Action", [])
        if (
            s.get("Effect") == "Allow"
            and principal in services
            and action in actions
            and s.get("Resource") == "*"
        ):
            out.append(s)
    return out


def role_with(*extra: dict[str, Any], boundary: dict[str, Any] | None = None) -> Role:
    base = factories.facts().role
    assert base is not None
    return base.model_copy(
        update={
            "inline_policies": (
                *base.inline_policies,
                *(NamedPolicy(name=f"extra{i}", document=d) for i, d in enumerate(extra)),
            ),
            "permissions_boundary_arn": "arn:aws:iam::123456789012:policy/boundary" if boundary else None,
            "permissions_boundary": NamedPolicy(name="boundary", document=boundary) if boundary else None,
        }
    )


# --- 1. endpoint policies on "Resource": "*"; logs, DescribeClusterV2, destinations -----------------------


def test_item_1_lambda_endpoint_policy_uses_resource_star(books: list[Playbook]) -> None:
    """A Lambda (STS) endpoint statement scoped to the function (role) ARN is not what the guide requires;
    the fix is the guide's statement, on "Resource": "*"."""
    scoped_invoke = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": FUNCTION,
        }
    )
    scoped_assume = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Resource": ROLE,
        }
    )
    f = with_endpoints(factories.facts(), endpoint("lambda", scoped_invoke), endpoint("sts", scoped_assume))
    findings = diagnose(f, books)
    assert codes(findings) == ["ENDPOINT_POLICY_DENIES_INVOKE", "EXECUTION_ROLE_NOT_ASSUMABLE"]
    changes = {
        c.resource: c for c in build_plan(f, findings, books).changes if c.action == "put_vpc_endpoint_policy"
    }
    assert grants(
        changes["vpce-lambda"].after["PolicyDocument"], "lambda.amazonaws.com", "lambda:InvokeFunction"
    )
    assert grants(changes["vpce-sts"].after["PolicyDocument"], "lambda.amazonaws.com", "sts:AssumeRole")
    # The guide's own statements are enough: nothing to find, nothing to change.
    ok = with_endpoints(
        factories.facts(),
        endpoint("lambda", policy(GUIDE_LAMBDA_STATEMENT)),
        endpoint("sts", policy(GUIDE_STS_STATEMENT)),
    )
    assert diagnose(ok, books) == []


def test_item_1_role_needs_the_cloudwatch_logs_actions() -> None:
    """ "CloudWatch Logs permissions": logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents."""
    base = factories.facts()
    assert base.role is not None
    without_logs = policy(
        *(s for s in statements(base.role.inline_policies[0].document) if not str(s["Action"]).count("logs:"))
    )
    f = factories.facts(
        role=base.role.model_copy(update={"inline_policies": (NamedPolicy(name="p", document=without_logs),)})
    )
    (finding,) = run_check("role_permissions", f)
    assert {m["action"] for m in finding.evidence.missing} == {
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    managed = policy(
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    )
    granted = f.model_copy(
        update={
            "role": f.role.model_copy(
                update={"attached_policies": (NamedPolicy(name="m", document=managed),)}
            )
        }
    )  # type: ignore[union-attr]
    assert run_check("role_permissions", granted) == []


def test_item_1_serverless_needs_describe_cluster_v2() -> None:
    """ "For Amazon MSK serverless clusters, you must use kafka:DescribeClusterV2"; either for provisioned."""
    base = factories.facts()
    assert base.role is not None
    assert base.cluster is not None
    v1 = policy(
        *(
            {**s, "Action": ["kafka:DescribeCluster", "kafka:GetBootstrapBrokers"]}
            if "kafka:DescribeClusterV2" in s["Action"]
            else s
            for s in statements(base.role.inline_policies[0].document)
        )
    )
    role = base.role.model_copy(update={"inline_policies": (NamedPolicy(name="p", document=v1),)})
    provisioned = factories.facts(role=role)
    assert run_check("role_permissions", provisioned) == []
    serverless = factories.facts(role=role, cluster=base.cluster.model_copy(update={"kind": "SERVERLESS"}))
    (finding,) = run_check("role_permissions", serverless)
    assert [(m["action"], m["resource"]) for m in finding.evidence.missing] == [
        ("kafka:DescribeClusterV2", CLUSTER)
    ]


@pytest.mark.parametrize(
    ("arn", "key", "expected"),
    [
        (
            "arn:aws:s3:::failures",
            None,
            {("s3:PutObject", "arn:aws:s3:::failures/*"), ("s3:ListBucket", "arn:aws:s3:::failures")},
        ),
        (
            "arn:aws:s3:::failures",
            "arn:aws:kms:us-east-1:123456789012:key/1111",
            {
                ("s3:PutObject", "arn:aws:s3:::failures/*"),
                ("s3:ListBucket", "arn:aws:s3:::failures"),
                ("kms:GenerateDataKey", "arn:aws:kms:us-east-1:123456789012:key/1111"),
            },
        ),
        (
            "arn:aws:sqs:us-east-1:123456789012:dlq",
            "arn:aws:kms:us-east-1:123456789012:key/2222",
            {
                ("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:dlq"),
                ("kms:GenerateDataKey", "arn:aws:kms:us-east-1:123456789012:key/2222"),  # issue 24 N5
                ("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/2222"),
            },
        ),
        (
            "arn:aws:sqs:us-east-1:123456789012:dlq",
            "alias/aws/sqs",
            {("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:dlq")},
        ),
    ],
)
def test_item_1_destination_needs(arn: str, key: str | None, expected: set[tuple[str, str]]) -> None:
    """ "For an S3 destination: s3:PutObject and s3:ListBucket"; your own KMS key: kms:GenerateDataKey (S3),
    kms:GenerateDataKey and kms:Decrypt (SQS, issue 24 N5); an AWS managed key (alias/aws/...) is not your
    own."""
    service = arn.split(":")[2]
    f = factories.facts(
        esm=factories.esm(on_failure_destination=arn),
        destination=Destination(arn=arn, service=service, kms_key_id=key),
    )
    (finding,) = run_check("role_permissions", f)
    assert {(m["action"], m["resource"]) for m in finding.evidence.missing} == expected


# --- 3. the documented auth order decides which secret is checked ------------------------------------------


def test_item_3_scram_is_checked_only_when_lambda_uses_it() -> None:
    """No SCRAM secret in the mapping: Lambda uses IAM, so an unassociated SCRAM setup is not a finding;
    an mTLS secret beside a SCRAM one: Lambda uses mTLS ("How Lambda chooses a bootstrap broker")."""
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:AmazonMSK_orders-AbCdEf"
    both = Cluster(
        arn=CLUSTER,
        name="orders",
        kind="PROVISIONED",
        state="ACTIVE",
        auth=ClusterAuth(iam=True, scram=True),
        scram_secret_arns=(),
    )
    no_secret = factories.facts(cluster=both)
    assert run_check("sasl_auth", no_secret) == []
    mtls_first = factories.facts(
        cluster=both.model_copy(update={"auth": ClusterAuth(scram=True, tls=True)}),
        esm=factories.esm(
            source_access=(
                SourceAccess(type="CLIENT_CERTIFICATE_TLS_AUTH", uri=secret + "-cert"),
                SourceAccess(type="SASL_SCRAM_512_AUTH", uri=secret),
            )
        ),
        secrets=(Secret(arn=secret, access_type="SASL_SCRAM_512_AUTH", name="orders"),),
    )
    assert [f for f in run_check("sasl_auth", mtls_first) if f.evidence.auth == "scram"] == []
    hinted = mtls_first.model_copy(
        update={
            "esm": mtls_first.esm.model_copy(
                update={"last_processing_result": "PROBLEM: Cluster failed to authorize Lambda."}
            )
        }
    )
    (acl,) = run_check("cluster_authz", hinted)
    assert (acl.evidence.auth, acl.evidence.secret) == ("mtls", secret + "-cert")  # the mTLS principal's ACLs


# --- 4. provisioned mode --------------------------------------------------------------------------------


def test_item_4_provisioned_mode_has_no_endpoint_policy_findings(books: list[Playbook]) -> None:
    """ "If your event source mapping uses provisioned mode, you don't need to configure AWS PrivateLink VPC
    endpoints": their policies are not on the provisioned pollers' path."""
    deny_all = policy({"Effect": "Allow", "Principal": "*", "Action": "ec2:DescribeVpcs", "Resource": "*"})
    broken = with_endpoints(factories.facts(), endpoint("lambda", deny_all), endpoint("sts", deny_all))
    assert codes(diagnose(broken, books)) == ["ENDPOINT_POLICY_DENIES_INVOKE", "EXECUTION_ROLE_NOT_ASSUMABLE"]
    provisioned = broken.model_copy(
        update={"esm": broken.esm.model_copy(update={"provisioned_pollers": True})}
    )
    assert diagnose(provisioned, books) == []


# --- 5. organization perimeters ---------------------------------------------------------------------------

ORG_ONLY = policy(
    {
        "Sid": "OrgOnly",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorgid"}},
    }
)
ORG_DENY = policy(
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
    {
        "Sid": "DenyOutsiders",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-exampleorgid"}},
    },
)


def test_item_5_organization_perimeter_is_a_finding_with_a_fix(books: list[Playbook]) -> None:
    """aws:PrincipalOrgID is "included in the request context only if the principal is a member of an
    organization" (IAM global condition keys); Lambda's service principal is not, so an organization-only
    endpoint policy blocks it: a finding (not COULD_NOT_CHECK), fixed by the guide's statement."""
    f = with_endpoints(factories.facts(), endpoint("lambda", ORG_ONLY), endpoint("sts", ORG_ONLY))
    findings = diagnose(f, books)
    assert codes(findings) == ["ENDPOINT_POLICY_DENIES_INVOKE", "EXECUTION_ROLE_NOT_ASSUMABLE"]
    assert all("limited to the organization" in x.summary for x in findings)
    changes = {
        c.resource: c.after["PolicyDocument"]
        for c in build_plan(f, findings, books).changes
        if c.action == "put_vpc_endpoint_policy"
    }
    assert statements(changes["vpce-lambda"])[0] == ORG_ONLY["Statement"][0]  # the perimeter stays
    assert grants(changes["vpce-lambda"], "lambda.amazonaws.com", "lambda:InvokeFunction")
    assert grants(changes["vpce-sts"], "lambda.amazonaws.com", "sts:AssumeRole")
    # The Deny form of the perimeter is narrowed for the service principal only.
    d = with_endpoints(factories.facts(), endpoint("lambda", ORG_DENY))
    (denied,) = diagnose(d, books)
    assert denied.evidence.blocked[0]["decision"] == "deny"
    (change,) = [c for c in build_plan(d, [denied], books).changes if c.action == "put_vpc_endpoint_policy"]
    narrowed = statements(change.after["PolicyDocument"])[1]["Condition"]["StringNotEquals"]
    assert narrowed == {
        "aws:PrincipalOrgID": "o-exampleorgid",
        "aws:PrincipalServiceName": ["lambda.amazonaws.com"],
    }


def test_item_5_a_role_under_an_organization_condition_is_still_undecided() -> None:
    """A role may be in the organization: nothing known decides it, so it is not guessed."""
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:AmazonMSK_orders-AbCdEf"
    f = with_endpoints(
        factories.facts(
            esm=factories.esm(source_access=(SourceAccess(type="SASL_SCRAM_512_AUTH", uri=secret),)),
            secrets=(
                Secret(
                    arn=secret, access_type="SASL_SCRAM_512_AUTH", name="AmazonMSK_orders", kms_key_id="k"
                ),
            ),
        ),
        endpoint("secretsmanager", ORG_ONLY),
    )
    assert codes(run_check("endpoint_policies", f)) == ["COULD_NOT_CHECK"]


# --- 9. the size of what is sent -------------------------------------------------------------------------


class _Recorder:
    """Stands in for `Aws` in an action's apply: answers reads from a fixed endpoint, records writes."""

    def __init__(self, current: dict[str, Any]) -> None:
        self.current = current
        self.sent: list[dict[str, Any]] = []

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        if operation == "describe_vpc_endpoints":
            return {
                "VpcEndpoints": [{"VpcEndpointId": "vpce-lambda", "PolicyDocument": json.dumps(self.current)}]
            }
        self.sent.append(params)
        return {}


def test_item_9_endpoint_policy_size_counts_what_is_sent(books: list[Playbook]) -> None:
    """AWS counts 20,480 characters including whitespace: a policy that fits only without whitespace must be
    sent without it (PrivateLink quotas)."""
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
    current = policy(*filler)
    f = with_endpoints(factories.facts(), endpoint("lambda", current))
    findings = diagnose(f, books)
    (change,) = [c for c in build_plan(f, findings, books).changes if c.action == "put_vpc_endpoint_policy"]
    wanted = change.after["PolicyDocument"]
    assert len(json.dumps(wanted)) > 20_480 >= len(json.dumps(wanted, separators=(",", ":")))
    recorder = _Recorder(current)
    ctx = ApplyContext(aws=recorder, settings=Settings(), plan_id="p", run_id="r")  # type: ignore[arg-type]
    get("put_vpc_endpoint_policy").apply(change.model_copy(update={"id": "c1"}), ctx)
    (sent,) = recorder.sent
    assert len(sent["PolicyDocument"]) <= 20_480
    assert json.loads(sent["PolicyDocument"]) == wanted
    # Past the limit even without whitespace: a manual step, never a change AWS would refuse.
    more = policy(*filler, *filler[:5])
    g = with_endpoints(factories.facts(), endpoint("lambda", more))
    plan = build_plan(g, diagnose(g, books), books)
    assert [c for c in plan.changes if c.action == "put_vpc_endpoint_policy"] == []
    assert any("over the limit of 20480" in m.text for m in plan.manual_steps)


# --- 12. cluster state ---------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["CREATING", "DELETING", "FAILED"])
def test_item_12_cluster_not_active_changes_nothing(books: list[Playbook], state: str) -> None:
    """In the states where clients cannot produce or consume ("Understand MSK Provisioned cluster states";
    issue 24 N7 keeps HEALING, MAINTENANCE, REBOOTING_BROKER and UPDATING out of it: they serve clients) the
    finding is the state, and no batch size or restart is planned."""
    base = factories.facts()
    assert base.cluster is not None
    f = factories.facts(
        esm=factories.esm(last_processing_result=CONNECTION_ERROR, batch_size=500),
        cluster=base.cluster.model_copy(update={"state": state}),
    )
    findings = diagnose(f, books)
    assert codes(findings) == ["CLUSTER_NOT_ACTIVE"]
    assert findings[0].evidence.state == state
    plan = build_plan(f, findings, books)
    assert plan.changes == ()
    assert any("changes nothing" in m.text for m in plan.manual_steps)


# --- 13. no conclusion by elimination past a denied read --------------------------------------------------


def test_item_13_no_broker_timeout_past_a_denied_read(books: list[Playbook]) -> None:
    f = factories.facts(
        esm=factories.esm(last_processing_result=CONNECTION_ERROR, batch_size=500),
        network=None,
        unchecked=(
            Unchecked(what="network of cluster", reason="UnauthorizedOperation on DescribeRouteTables"),
        ),
    )
    findings = diagnose(f, books)
    assert "BROKER_TIMEOUT" not in codes(findings)
    assert any("no batch-size change is planned" in x.summary for x in findings)
    assert [c.action for c in build_plan(f, findings, books).changes] == []
    # With every read made, the error is narrowed down: not explained, as no broker trouble was measured
    # (issue 21); with measured trouble, the brokers are blamed.
    ok = factories.facts(esm=factories.esm(last_processing_result=CONNECTION_ERROR, batch_size=500))
    assert codes(diagnose(ok, books)) == ["CONNECTION_UNEXPLAINED"]
    troubled = ok.model_copy(update={"broker_health": factories.troubled_brokers()})
    assert codes(diagnose(troubled, books)) == ["BROKER_TIMEOUT"]


# --- 14. who disabled the mapping ------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["USER_INITIATED", "User action", "User initiated"])
def test_item_14_user_disabled_mapping_is_not_reenabled(books: list[Playbook], reason: str) -> None:
    f = factories.facts(esm=factories.esm(state="Disabled", state_transition_reason=reason))
    (finding,) = diagnose(f, books)
    assert (finding.code, finding.evidence.disabled_by) == ("ESM_DISABLED", "user")
    assert "a person disabled it" in finding.summary
    plan = build_plan(f, [finding], books)
    assert plan.changes == ()
    (step,) = plan.manual_steps
    assert "a person disabled it" in step.text
    asked = build_plan(f, [finding], books, enable_user_disabled=True)
    assert [c.action for c in asked.changes] == ["reenable_esm"]


def test_item_14_lambda_disabled_mapping_is_reenabled(books: list[Playbook]) -> None:
    f = factories.facts(esm=factories.esm(state="Disabled", state_transition_reason="Lambda initiated"))
    (finding,) = diagnose(f, books)
    assert finding.evidence.disabled_by == "lambda"
    assert [c.action for c in build_plan(f, [finding], books).changes] == ["reenable_esm"]


# --- 15. cross-account clusters --------------------------------------------------------------------------

OWNER = "444455556666"
OWNER_CLUSTER = (
    f"arn:aws:kafka:us-east-1:{OWNER}:cluster/my-cluster-name/51jn98b4-0a61-46cc-b0a6-61g9a3d797d5-7"
)
CLUSTER_PART = "my-cluster-name/51jn98b4-0a61-46cc-b0a6-61g9a3d797d5-7"
CONNECTION = f"arn:aws:kafka:us-east-1:123456789012:vpc-connection/{OWNER}/{CLUSTER_PART}"


def cross_account(**over: Any) -> Facts:
    connection = VpcConnection(
        arn=CONNECTION,
        target_cluster_arn=OWNER_CLUSTER,
        state="AVAILABLE",
        authentication="SASL_IAM",
        vpc_id="vpc-1",
        subnet_ids=("subnet-a",),
        security_group_ids=("sg-cluster",),
    )
    base: dict[str, Any] = {
        "esm": factories.esm(event_source_arn=CONNECTION),
        "cluster": None,
        "vpc_connection": connection,
    }
    base.update(over)
    return factories.facts(**base)


def test_item_15_topic_and_group_arns_are_the_owners() -> None:
    """IAM access control resources live in the cluster's account: built from the connection's
    TargetClusterArn, and the role reads the connection with kafka:DescribeVpcConnection."""
    (finding,) = run_check("role_permissions", cross_account())
    wanted = {(m["action"], m["resource"]) for m in finding.evidence.missing}
    assert ("kafka:DescribeVpcConnection", CONNECTION) in wanted
    topic = (
        f"arn:aws:kafka:us-east-1:{OWNER}:topic/my-cluster-name/51jn98b4-0a61-46cc-b0a6-61g9a3d797d5-7/orders"
    )
    assert ("kafka-cluster:ReadData", topic) in wanted
    assert not any(a in ("kafka:DescribeClusterV2", "kafka:DescribeCluster") for a, _ in wanted)
    assert not any(":vpc-connection/" in r and a.startswith("kafka-cluster:") for a, r in wanted)


def test_item_15_vpc_connection_not_available_is_cluster_not_active(books: list[Playbook]) -> None:
    f = cross_account()
    assert f.vpc_connection is not None
    g = f.model_copy(update={"vpc_connection": f.vpc_connection.model_copy(update={"state": "REJECTED"})})
    assert "CLUSTER_NOT_ACTIVE" in codes(diagnose(g, books))


def test_item_15_cross_account_observation_reads_the_vpc_connection() -> None:
    """DescribeVpcConnection's response (MSK API reference: VpcConnectionArn, TargetClusterArn, State,
    Authentication, VpcId, Subnets, SecurityGroups, CreationTime, Tags), values from the Lambda guide's
    cross-account example."""
    documented = {
        "VpcConnectionArn": CONNECTION,
        "TargetClusterArn": OWNER_CLUSTER,
        "State": "AVAILABLE",
        "Authentication": "SASL_IAM",
        "VpcId": "vpc-0123456789abcdef0",
        "Subnets": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        "SecurityGroups": ["sg-0123456789abcdef0"],
        "CreationTime": "2023-06-01T12:00:00.000Z",
        "Tags": {},
    }
    connection = vpc_connection_from_api(documented)
    assert (connection.target_cluster_arn, connection.state, connection.authentication) == (
        OWNER_CLUSTER,
        "AVAILABLE",
        "SASL_IAM",
    )
    assert connection.subnet_ids == ("subnet-0123456789abcdef0", "subnet-0123456789abcdef1")


def test_item_15_owner_side_is_manual_steps(books: list[Playbook]) -> None:
    docs = factories.facts().role
    assert docs is not None
    everything = policy(
        {"Effect": "Allow", "Action": ["kafka:DescribeVpcConnection"], "Resource": CONNECTION},
        {"Effect": "Allow", "Action": "kafka-cluster:*", "Resource": f"arn:aws:kafka:us-east-1:{OWNER}:*"},
    )
    f = cross_account(
        esm=factories.esm(
            event_source_arn=CONNECTION, last_processing_result="PROBLEM: Cluster failed to authorize Lambda."
        ),
        role=role_with(everything),
    )
    findings = diagnose(f, books)
    assert codes(findings) == ["CLUSTER_AUTHZ_FAILED"]
    assert findings[0].evidence.auth == "cross-account"
    plan = build_plan(f, findings, books)
    assert plan.changes == ()
    (step,) = plan.manual_steps
    assert f"aws kafka get-cluster-policy --cluster-arn {OWNER_CLUSTER}" in step.text
    assert f"In account {OWNER}" in step.text


# --- 17. permissions boundaries --------------------------------------------------------------------------

BOUNDARY_WITHOUT_KAFKA_CLUSTER = policy({"Effect": "Allow", "NotAction": "kafka-cluster:*", "Resource": "*"})


def test_item_17_permissions_boundary_is_evaluated(books: list[Playbook]) -> None:
    """An allow needs the identity policies AND the boundary ("Permissions boundaries for IAM entities"):
    the policies allowing everything is not enough, the boundary is never edited, and no restart is planned
    before a person changes it."""
    f = factories.facts(role=role_with(boundary=BOUNDARY_WITHOUT_KAFKA_CLUSTER))
    findings = diagnose(f, books)
    missing = next(x for x in findings if x.code == "EXECUTION_ROLE_MISSING_PERMISSIONS")
    assert missing.evidence.boundary == "arn:aws:iam::123456789012:policy/boundary"
    assert {m["action"] for m in missing.evidence.blocked_by_boundary} >= {
        "kafka-cluster:Connect",
        "kafka-cluster:ReadData",
    }
    plan = build_plan(f, findings, books)
    assert plan.changes == ()
    assert any("permissions boundary" in m.text and "never edits" in m.text for m in plan.manual_steps)
    # A missing grant the boundary also keeps out: granted in the policy, and the boundary step besides.
    base = factories.facts()
    assert base.role is not None
    bare = base.role.model_copy(
        update={
            "inline_policies": (),
            "permissions_boundary_arn": "arn:aws:iam::123456789012:policy/boundary",
            "permissions_boundary": NamedPolicy(name="boundary", document=BOUNDARY_WITHOUT_KAFKA_CLUSTER),
        }
    )
    g = factories.facts(role=bare)
    plan = build_plan(g, diagnose(g, books), books)
    assert "put_role_policy" in [c.action for c in plan.changes]
    assert any("permissions boundary" in m.text for m in plan.manual_steps)


def test_item_17_boundary_that_could_not_be_read_is_said() -> None:
    role = role_with().model_copy(update={"permissions_boundary_arn": "arn:aws:iam::123456789012:policy/b"})
    found = run_check("role_permissions", factories.facts(role=role))
    assert codes(found) == ["COULD_NOT_CHECK"]
    assert "permissions boundary" in found[0].summary


def test_item_17_scp_could_not_be_checked() -> None:
    """Service control policies are not readable from a member account: a refused call with every readable
    policy allowing it is said to be possibly theirs, never silently passed."""
    f = factories.facts(esm=factories.esm(last_processing_result="EVENT_SOURCE_AUTHZ_ERROR"))
    (finding,) = run_check("role_permissions", f)
    assert finding.code == "COULD_NOT_CHECK"
    assert "service control policies" in finding.summary
    assert run_check("role_permissions", factories.facts()) == []


# --- AWS's documented response shapes through the builders -------------------------------------------------
#
# Shapes from the API references' response syntax (GetEventSourceMapping, DescribeClusterV2, GetRole/Role),
# in boto3's names; the values are the Lambda and MSK guides' examples where they give one
# ("arn:aws:kafka:us-east-1:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2",
# "StateTransitionReason": "User action", "LastProcessingResult": "No records processed", ...).

MSK_ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2"
GET_ESM_MSK: dict[str, Any] = {
    "UUID": "91eaeb7e-c976-1234-9451-8709db01f137",
    "BatchSize": 100,
    "MaximumBatchingWindowInSeconds": 0,
    "EventSourceArn": MSK_ARN,
    "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:my-kafka-function",
    "LastModified": 1541348195.412,
    "LastProcessingResult": "No records processed",
    "State": "Creating",
    "StateTransitionReason": "User action",
    "Topics": ["AWSKafkaTopic"],
    "AmazonManagedKafkaEventSourceConfig": {"ConsumerGroupId": "my-consumer-group"},
    "SourceAccessConfigurations": [
        {
            "Type": "SASL_SCRAM_512_AUTH",
            "URI": "arn:aws:secretsmanager:us-east-1:123456789012:secret:AmazonMSK_my-secret",
        }
    ],
    "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:dlq"}},
    "EventSourceMappingArn": "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:"
    "91eaeb7e-c976-1234-9451-8709db01f137",
}
GET_ESM_SELF_MANAGED: dict[str, Any] = {
    "UUID": "1f9a8c2e-0c5f-4d73-9b4e-0a1b2c3d4e5f",
    "BatchSize": 100,
    "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:my-kafka-function",
    "LastModified": 1541348195.412,
    "LastProcessingResult": "No records processed",
    "State": "Enabled",
    "StateTransitionReason": "USER_INITIATED",
    "Topics": ["AWSKafkaTopic"],
    "SelfManagedEventSource": {
        "Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["abc3.xyz.com:9092", "abc2.xyz.com:9092"]}
    },
    "SelfManagedKafkaEventSourceConfig": {"ConsumerGroupId": "my-group"},
    "SourceAccessConfigurations": [
        {"Type": "VPC_SUBNET", "URI": "subnet:subnet-0011001100"},
        {"Type": "VPC_SECURITY_GROUP", "URI": "security_group:sg-0123456789"},
        {
            "Type": "BASIC_AUTH",
            "URI": "arn:aws:secretsmanager:us-east-1:123456789012:secret:MyBrokerSecretName",
        },
    ],
}


def test_documented_get_event_source_mapping_shapes() -> None:
    msk = esm_from_api(GET_ESM_MSK)
    assert (msk.source_kind, msk.event_source_arn, msk.group_id) == ("msk", MSK_ARN, "my-consumer-group")
    assert (msk.state, msk.changed_by, msk.provisioned_pollers) == ("Creating", "user", False)
    assert msk.on_failure_destination == "arn:aws:sqs:us-east-1:123456789012:dlq"
    provisioned = esm_from_api(
        {**GET_ESM_MSK, "ProvisionedPollerConfig": {"MinimumPollers": 1, "MaximumPollers": 3}}
    )
    assert provisioned.provisioned_pollers
    cross = esm_from_api({**GET_ESM_MSK, "EventSourceArn": CONNECTION, "SourceAccessConfigurations": []})
    assert (cross.source_kind, cross.event_source_arn) == ("msk", CONNECTION)
    self_managed = esm_from_api(GET_ESM_SELF_MANAGED)
    assert self_managed.source_kind == "self-managed"
    assert self_managed.bootstrap_servers == ("abc3.xyz.com:9092", "abc2.xyz.com:9092")
    assert self_managed.access("VPC_SUBNET") == ("subnet:subnet-0011001100",)
    assert self_managed.changed_by == "user"


DESCRIBE_CLUSTER_V2_PROVISIONED: dict[str, Any] = {
    "ClusterInfo": {
        "ClusterType": "PROVISIONED",
        "ClusterArn": MSK_ARN,
        "ClusterName": "vpc-2priv-2pub",
        "State": "REBOOTING_BROKER",
        "CurrentVersion": "K3AEGXETSR30VB",
        "Provisioned": {
            "BrokerNodeGroupInfo": {
                "BrokerAZDistribution": "DEFAULT",
                "ClientSubnets": ["subnet-0123456789111abcd", "subnet-0123456789222abcd"],
                "InstanceType": "kafka.m5.large",
                "SecurityGroups": ["sg-0123456789abcdef0"],
            },
            "ClientAuthentication": {
                "Sasl": {"Scram": {"Enabled": True}, "Iam": {"Enabled": True}},
                "Tls": {"CertificateAuthorityArnList": [], "Enabled": False},
                "Unauthenticated": {"Enabled": False},
            },
            "EncryptionInfo": {"EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}},
            "KafkaVersion": "3.6.0",
            "NumberOfBrokerNodes": 2,
        },
    }
}
DESCRIBE_CLUSTER_V2_SERVERLESS: dict[str, Any] = {
    "ClusterInfo": {
        "ClusterType": "SERVERLESS",
        "ClusterArn": "arn:aws:kafka:us-east-1:123456789012:cluster/serverless-cluster/"
        "9a8b7c6d-1234-5678-90ab-cdef01234567-s1",
        "ClusterName": "serverless-cluster",
        "State": "ACTIVE",
        "Serverless": {
            "VpcConfigs": [
                {"SubnetIds": ["subnet-0123456789111abcd"], "SecurityGroupIds": ["sg-0123456789abcdef0"]}
            ],
            "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
        },
    }
}


def test_documented_describe_cluster_v2_shapes() -> None:
    provisioned = cluster_from_api(DESCRIBE_CLUSTER_V2_PROVISIONED["ClusterInfo"], None)
    assert (provisioned.kind, provisioned.state) == ("PROVISIONED", "REBOOTING_BROKER")
    assert provisioned.auth == ClusterAuth(iam=True, scram=True, tls=False, unauthenticated=False)
    assert provisioned.subnet_ids == ("subnet-0123456789111abcd", "subnet-0123456789222abcd")
    serverless = cluster_from_api(DESCRIBE_CLUSTER_V2_SERVERLESS["ClusterInfo"], None)
    assert (serverless.kind, serverless.auth.iam, serverless.security_group_ids) == (
        "SERVERLESS",
        True,
        ("sg-0123456789abcdef0",),
    )


GET_ROLE: dict[str, Any] = {
    "Role": {
        "Path": "/service-role/",
        "RoleName": "my-kafka-function-role",
        "RoleId": "AROADBQP57FF2AEXAMPLE",
        "Arn": "arn:aws:iam::123456789012:role/service-role/my-kafka-function-role",
        "CreateDate": "2023-05-08T23:34:01Z",
        "AssumeRolePolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect"
        "%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action"
        "%22%3A%22sts%3AAssumeRole%22%7D%5D%7D",
        "MaxSessionDuration": 3600,
        "PermissionsBoundary": {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/DeveloperBoundary",
        },
    }
}


def test_documented_get_role_with_a_permissions_boundary() -> None:
    """IAM API reference, Role: PermissionsBoundary is an AttachedPermissionsBoundary (type and ARN); the
    trust policy arrives URL-encoded from the IAM API."""
    role = GET_ROLE["Role"]
    assert permissions_boundary_arn(role) == "arn:aws:iam::123456789012:policy/DeveloperBoundary"
    assert permissions_boundary_arn({k: v for k, v in role.items() if k != "PermissionsBoundary"}) is None
    trust = policy_document(role["AssumeRolePolicyDocument"])
    assert statements(trust)[0]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_the_wait_step_names_the_cluster() -> None:
    base = factories.facts()
    assert base.cluster is not None
    f = factories.facts(cluster=base.cluster.model_copy(update={"state": "CREATING"}))
    step = get("update_esm").plan(
        f, run_check("cluster_state", f)[0], get("update_esm").Params.model_validate({"BatchSize": 1})
    )[0]
    assert not isinstance(step, Change)
    assert f"--cluster-arn {CLUSTER}" in step.text  # type: ignore[union-attr]
