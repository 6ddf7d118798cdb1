"""Issue 24 (AWS rules, third pass): one test per audit item, through the CLI against the sandbox.

Each test is named after the audit item (N-number) and the sandbox scenario it runs; see
/work/shared/audits/2026-12-06/aws-accuracy.md and docs/aws-rules.md for the pages.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from remediate import actions
from remediate.actions import ApplyContext
from remediate.aws import Aws
from remediate.config import load_settings
from remediate.plan import Change
from remediate.policy import FULL_ACCESS
from remediate.sandbox import Sandbox
from remediate.sandbox.faults import FaultRule
from remediate.sandbox.scenarios import build_scenario
from tests import tls_factory as tf
from tests.conftest import CliRunner, settle
from tests.test_iam13_e2e import apply_and_replan, codes, plan_json


def as_role(sb: Sandbox, role_name: str, service: str) -> Any:
    """A client of `service` signed with the execution role's own session credentials."""
    role_arn = sb.client("iam").get_role(RoleName=role_name)["Role"]["Arn"]
    creds = sb.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="issue24")["Credentials"]
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=sb.endpoint_url,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def deliver(sb: Sandbox, role_name: str, destination: str) -> None:
    """What Lambda does with a failed batch: SendMessage or Publish as the execution role."""
    if ":sqs:" in destination:
        sqs = as_role(sb, role_name, "sqs")
        name = destination.rsplit(":", 1)[1]
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"], MessageBody="{}")
    else:
        as_role(sb, role_name, "sns").publish(TopicArn=destination, Message="{}")


@pytest.mark.parametrize("name", ["destination-sqs-own-key", "destination-sns-own-key"])
def test_n5_destination_with_own_key_delivers_after_apply(
    name: str, sandbox: Sandbox, cli: CliRunner
) -> None:
    """N5: a queue or topic under a customer managed key takes a message from the role only once the role
    may kms:GenerateDataKey and kms:Decrypt on it (the sandbox refuses SendMessage/Publish, as AWS does)."""
    scn = build_scenario(sandbox, name)
    assert scn.destination_arn is not None
    assert codes(plan_json(cli, scn.esm_uuid)) == ["EXECUTION_ROLE_MISSING_PERMISSIONS"]
    with pytest.raises(ClientError):
        deliver(sandbox, scn.role_name, scn.destination_arn)
    apply_and_replan(cli, scn.esm_uuid)
    deliver(sandbox, scn.role_name, scn.destination_arn)


def test_n7_cluster_maintenance_disabled_mapping_is_reenabled(sandbox: Sandbox, cli: CliRunner) -> None:
    """N7: MAINTENANCE still serves clients (MSK DG, cluster states), so a mapping Lambda disabled is
    re-enabled; the state hides nothing."""
    scn = build_scenario(sandbox, "cluster-maintenance-disabled")
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == ["ESM_DISABLED"]
    assert [c["action"] for c in plan["changes"]] == ["reenable_esm"]
    apply_and_replan(cli, scn.esm_uuid)
    assert settle(sandbox, scn.esm_uuid)["State"] == "Enabled"


def test_n7_cluster_maintenance_does_not_hide_a_connection_error(sandbox: Sandbox, cli: CliRunner) -> None:
    """N7: the connection error is diagnosed during MAINTENANCE, with the state given as context."""
    scn = build_scenario(sandbox, "cluster-maintenance")
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == ["BROKER_TIMEOUT"]
    assert "the cluster is MAINTENANCE: it still serves clients" in plan["findings"][0]["summary"]
    assert "update_esm" in [c["action"] for c in plan["changes"]]


def test_n7_storage_update_waits_while_msk_refuses_updates(sandbox: Sandbox, cli: CliRunner) -> None:
    """N7: MSK update operations wait for ACTIVE (MAINTENANCE refuses them); the finding still stands."""
    scn = build_scenario(
        sandbox, "broker-storage-full", name="storage-maintenance", cluster_state="MAINTENANCE"
    )
    plan = plan_json(cli, scn.esm_uuid)
    assert "BROKER_STORAGE_FULL" in codes(plan)
    assert "update_broker_storage" not in [c["action"] for c in plan["changes"]]
    assert any("MAINTENANCE" in m["text"] and "refuses update" in m["text"] for m in plan["manual_steps"])


def test_n3_cross_account_scram_closed_is_not_checked_on_the_clusters_own_port(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    """N3: a cross-account source's brokers are reached through the VPC connection on the owner's
    VpcConnectivity ports, not on 9096: nothing is checked or opened on 9096, and the connection error is
    COULD_NOT_CHECK naming what to check by hand, never overloaded brokers."""
    scn = build_scenario(sandbox, "cross-account-scram-closed")
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == ["COULD_NOT_CHECK"]
    (finding,) = plan["findings"]
    assert "BootstrapBrokerStringVpcConnectivity" in finding["summary"]
    assert f"--cluster-arn {scn.cluster_arn}" in finding["summary"]
    assert plan["changes"] == []


def test_n4_regional_nat_gateway_is_a_way_out(sandbox: Sandbox, cli: CliRunner) -> None:
    """N4: subnets whose default route is a public regional NAT gateway (no subnet of its own) reach AWS:
    no finding, and no security group or endpoint is created."""
    scn = build_scenario(sandbox, "regional-nat-gateway")
    plan = plan_json(cli, scn.esm_uuid)
    assert plan["findings"] == []
    assert plan["changes"] == []


@pytest.mark.parametrize(
    ("result", "reported"), [("OK", False), ("PROBLEM: Server failed to authenticate Lambda.", True)]
)
def test_n9_pkcs12_encrypted_key_that_works_is_not_re_encrypted(
    sandbox: Sandbox, cli: CliRunner, result: str, reported: bool
) -> None:
    """N9: a key under the PKCS#12 3DES scheme (outside the documented PBES1) is left alone while the mapping
    reports OK; when it does not, it is reported as unverified, with the documented PBES1 re-encryption."""
    root = tf.ca()
    good = tf.leaf(root)
    value = tf.client_secret(good.cert_pem, tf.pkcs12_pbe_pem(good.key, "pw-n9"), "pw-n9")
    scn = build_scenario(
        sandbox,
        "healthy-msk",
        name=f"n9-{reported}",
        auth="tls",
        secret_value=value,
        last_processing_result=result,
    )
    plan = plan_json(cli, scn.esm_uuid)
    material = [f for f in plan["findings"] if f["code"] == "SECRET_NOT_PEM"]
    steps = " ".join(m["text"] for m in plan["manual_steps"])
    if not reported:
        assert material == []
        assert "-v1 PBE-SHA1-DES" not in steps
    else:
        (finding,) = material
        assert "unverified" in finding["summary"]
        assert "-v1 PBE-SHA1-DES" in steps


def test_n10_resolver_forwarding_rule_gets_no_endpoint(sandbox: Sandbox, cli: CliRunner) -> None:
    """N10: with no way out but a Resolver rule forwarding amazonaws.com to other DNS servers, the service
    names resolve where those servers say: COULD_NOT_CHECK, and no endpoint (or group) is created."""
    scn = build_scenario(sandbox, "resolver-forwarding-no-nat")
    plan = plan_json(cli, scn.esm_uuid)
    assert set(codes(plan)) == {"COULD_NOT_CHECK"}
    assert any("Route 53 Resolver rule" in f["summary"] for f in plan["findings"])
    assert plan["changes"] == []


def test_n11_role_not_assumable_with_everything_allowing_it_names_rcps(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    """N11: Lambda reports it cannot assume the role while the trust policy allows it: an RCP (or SCP) on
    sts:AssumeRole is what is left unread, said as COULD_NOT_CHECK rather than nothing."""
    scn = build_scenario(
        sandbox,
        "healthy-msk",
        name="n11-rcp",
        last_processing_result="PROBLEM: Lambda failed to assume your function execution role.",
    )
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == ["COULD_NOT_CHECK"]
    assert "resource control policy on sts:AssumeRole" in plan["findings"][0]["summary"]
    assert plan["changes"] == []


def test_item_10_broker_private_zone_needs_dns_hostnames_too(sandbox: Sandbox, cli: CliRunner) -> None:
    """Audit #10 (partly fixed before): a broker's private hosted zone holds its record, but the VPC has
    enableDnsHostnames off; private hosted zones need both attributes (Route 53 DG), so it is turned on."""
    scn = build_scenario(
        sandbox,
        "broker-dns-zone-not-associated",
        name="phz-hostnames-off",
        private_zone_associated=True,
        dns_hostnames=False,
    )
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == ["BROKER_DNS_UNRESOLVABLE"]
    assert "enableDnsHostnames is off" in plan["findings"][0]["summary"]
    assert [(c["action"], c["after"]) for c in plan["changes"]] == [
        ("modify_vpc_attribute", {"EnableDnsHostnames": True})
    ]
    apply_and_replan(cli, scn.esm_uuid)


def test_s1_private_dns_endpoints_are_created_after_the_dns_fix(sandbox: Sandbox, cli: CliRunner) -> None:
    """S1: no way out and DNS hostnames off: AWS creates a private-DNS endpoint only once both VPC DNS
    attributes are on (CreateVpcEndpoint, PrivateDnsEnabled), so the plan turns enableDnsHostnames on before
    any such create, and the apply goes through a sandbox that refuses the create otherwise."""
    scn = build_scenario(sandbox, "scram-no-nat", name="s1-hostnames-off", dns_hostnames=False)
    plan = plan_json(cli, scn.esm_uuid)
    actions = [c["action"] for c in plan["changes"]]
    creates = [i for i, c in enumerate(plan["changes"]) if c["action"] == "create_vpc_endpoint"]
    assert creates, actions
    dns_fix = actions.index("modify_vpc_attribute")
    assert all(dns_fix < i for i in creates), actions
    apply_and_replan(cli, scn.esm_uuid)


def test_n18_scram_256_on_msk_is_a_configuration_error(sandbox: Sandbox, cli: CliRunner) -> None:
    """N18: SASL_SCRAM_256_AUTH is for self-managed Apache Kafka only (Lambda API reference,
    SourceAccessConfiguration); on an MSK mapping it is SASL_AUTH_FAILED with the step naming the secret
    as SASL_SCRAM_512_AUTH, not a healthy SCRAM consumer."""
    scn = build_scenario(
        sandbox, "healthy-msk", name="n18-scram-256", auth="scram", scram_type="SASL_SCRAM_256_AUTH"
    )
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == ["SASL_AUTH_FAILED"]
    assert "SASL_SCRAM_256_AUTH" in plan["findings"][0]["summary"]
    assert plan["changes"] == []
    (secret,) = [a["URI"] for a in settle(sandbox, scn.esm_uuid)["SourceAccessConfigurations"]]
    assert any(f"Type=SASL_SCRAM_512_AUTH,URI={secret}" in m["text"] for m in plan["manual_steps"])


def test_n12_rollback_to_no_policy_writes_the_default_on_an_interface_endpoint(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N12: a rollback to "no policy" on an interface endpoint writes AWS's default full-access document,
    since ResetPolicy is for gateway endpoints only (EC2 API reference, ModifyVpcEndpoint; the sandbox
    refuses it, S2). Driven through the action over HTTP: DescribeVpcEndpoints always returns a document,
    so the CLI never plans a change whose `after` is no policy."""
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    ec2 = sandbox.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    deny = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.us-east-1.lambda",
        VpcEndpointType="Interface",
        SubnetIds=[subnet],
        PrivateDnsEnabled=False,
        PolicyDocument=json.dumps(deny),
    )["VpcEndpoint"]["VpcEndpointId"]
    change = Change(
        id="undo-c1",
        action="put_vpc_endpoint_policy",
        resource=endpoint,
        before={"PolicyDocument": deny},
        after={"PolicyDocument": None},
    )
    ctx = ApplyContext(aws=Aws(region="us-east-1"), settings=load_settings(), plan_id="p-n12", run_id="r-n12")
    actions.get("put_vpc_endpoint_policy").apply(change, ctx)
    raw = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint])["VpcEndpoints"][0]["PolicyDocument"]
    assert json.loads(raw)["Statement"] == FULL_ACCESS["Statement"]


@pytest.mark.parametrize(("ca", "untrusted"), [("other", True), ("cluster", False)])
def test_n6_client_certificate_must_chain_to_a_cluster_ca(
    sandbox: Sandbox, cli: CliRunner, ca: str, untrusted: bool
) -> None:
    """N6: a client certificate that none of the cluster's private CAs issued is CLIENT_CERTIFICATE_UNTRUSTED
    (read through ACM PCA GetCertificateAuthorityCertificate), with a manual step naming the cluster's CAs;
    one the cluster's CA issued is not. No key material is printed."""
    scn = build_scenario(
        sandbox, "mtls-untrusted-client-certificate", name=f"n6-{ca}", client_certificate_ca=ca
    )
    plan = plan_json(cli, scn.esm_uuid)
    found = [f for f in plan["findings"] if f["code"] == "CLIENT_CERTIFICATE_UNTRUSTED"]
    assert bool(found) == untrusted
    value = json.loads(
        sandbox.client("secretsmanager").get_secret_value(SecretId=scn.secret_arns[0])["SecretString"]
    )
    key_lines = [line for line in value["privateKey"].splitlines() if "PRIVATE KEY" not in line]
    assert not any(line in json.dumps(plan) for line in key_lines)
    if untrusted:
        cluster = sandbox.client("kafka").describe_cluster_v2(ClusterArn=scn.cluster_arn)["ClusterInfo"]
        (ca_arn,) = cluster["Provisioned"]["ClientAuthentication"]["Tls"]["CertificateAuthorityArnList"]
        (finding,) = found
        assert finding["evidence"]["ca_arns"] == [ca_arn]
        assert finding["evidence"]["issuer"] == "CN=n6-other other CA"
        assert any(ca_arn in m["text"] and "issue-certificate" in m["text"] for m in plan["manual_steps"])
        assert plan["changes"] == []


def test_n6_private_ca_read_denied_is_could_not_check(sandbox: Sandbox, cli: CliRunner) -> None:
    """N6: when the caller may not read the cluster's private CA, nothing is concluded: COULD_NOT_CHECK."""
    scn = build_scenario(sandbox, "mtls-untrusted-client-certificate", name="n6-denied")
    sandbox.faults.add(
        FaultRule(
            service="acm-pca", operation="GetCertificateAuthorityCertificate", kind="status", status=403
        )
    )
    plan = plan_json(cli, scn.esm_uuid)
    assert "CLIENT_CERTIFICATE_UNTRUSTED" not in codes(plan)
    assert any(
        f["code"] == "COULD_NOT_CHECK" and "certificate of private CA" in f["summary"]
        for f in plan["findings"]
    )


def test_n8_cross_account_secret_unreadable_names_what_its_owner_must_allow(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    """N8 (the audit's P10): another account's secret with no resource policy cannot even be described from
    the mapping's account: COULD_NOT_CHECK naming the resource-policy and customer-managed-key rules, never a
    clean bill of health."""
    scn = build_scenario(sandbox, "cross-account-secret-unreadable")
    plan = plan_json(cli, scn.esm_uuid)
    assert set(codes(plan)) == {"COULD_NOT_CHECK"}
    summaries = " ".join(f["summary"] for f in plan["findings"])
    assert f"could not read cross-account secret {scn.secret_arns[0]} (account 444455556666)" in summaries
    assert "customer managed key" in summaries
    assert plan["changes"] == []


def test_n8_cross_account_secret_under_the_aws_managed_key_is_blocked(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    """N8: the owner's resource policy allows the role, but the AWS managed key cannot be used from another
    account: SECRET_ACCESS_BLOCKED (aws-managed-key) with a step for the owner."""
    scn = build_scenario(sandbox, "cross-account-secret-default-key")
    plan = plan_json(cli, scn.esm_uuid)
    (blocked,) = [f for f in plan["findings"] if f["code"] == "SECRET_ACCESS_BLOCKED"]
    assert blocked["evidence"]["cause"] == "aws-managed-key"
    assert blocked["evidence"]["owner"] == "444455556666"
    steps = " ".join(m["text"] for m in plan["manual_steps"])
    assert f"update-secret --secret-id {scn.secret_arns[0]} --kms-key-id KEY_ARN" in steps
    assert plan["changes"] == []


def test_n8_cross_account_secret_whose_policy_names_another_role_is_blocked(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    """N8: the owner's resource policy allows another role, not the mapping's: SECRET_ACCESS_BLOCKED
    (resource-policy-does-not-allow) with the one statement to add, naming the role exactly."""
    scn = build_scenario(
        sandbox,
        "cross-account-secret-default-key",
        name="n8-other-role",
        sm_default_key=False,
        sm_resource_policy="allow-other-role",
    )
    plan = plan_json(cli, scn.esm_uuid)
    (blocked,) = [f for f in plan["findings"] if f["code"] == "SECRET_ACCESS_BLOCKED"]
    assert blocked["evidence"]["cause"] == "resource-policy-does-not-allow"
    statement = (
        '{"Sid":"RemediateLambdaReadsSecret","Effect":"Allow","Principal":{"AWS":"'
        + scn.role_arn
        + '"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}'
    )
    assert any(statement in m["text"] for m in plan["manual_steps"])


def test_n8_resource_policy_deny_of_the_role_is_blocked(sandbox: Sandbox, cli: CliRunner) -> None:
    """N8: in the mapping's own account too, a Deny in the secret's resource policy wins over the role's
    Allow: SECRET_ACCESS_BLOCKED naming the statement."""
    scn = build_scenario(sandbox, "secret-policy-denies-role")
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == ["SECRET_ACCESS_BLOCKED"]
    (blocked,) = plan["findings"]
    assert blocked["evidence"]["cause"] == "resource-policy-denies"
    assert blocked["evidence"]["statements"] == ["ExecutionRole"]
    assert any("narrow statement ExecutionRole" in m["text"] for m in plan["manual_steps"])


def test_item_6_nat_subnets_nacl_blocks_the_way_out(sandbox: Sandbox, cli: CliRunner) -> None:
    """Item 6: the NAT gateway's own subnet's NACL must admit tcp/443 from the pollers: a deny there is
    BROKER_PORTS_BLOCKED on the NAT path, with a NACL step for that NACL (remediate never edits NACLs)."""
    scn = build_scenario(sandbox, "nat-subnet-nacl-denies")
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == ["BROKER_PORTS_BLOCKED"]
    blocked = plan["findings"][0]["evidence"]["blocked"]
    assert blocked
    assert all(p["target"] == "nat" for p in blocked)
    nacl = blocked[0]["blocks"][0]["resource"]
    assert all(b["element"] == "NACL" and b["rule_number"] == 90 for p in blocked for b in p["blocks"])
    steps = [m["text"] for m in plan["manual_steps"]]
    assert any(f"--network-acl-id {nacl} --ingress" in s and "From=443,To=443" in s for s in steps)
    assert not any("authorize-security-group-egress" in s for s in steps)
    assert plan["changes"] == []


def test_item_6_split_default_route_to_nat_is_a_way_out(sandbox: Sandbox, cli: CliRunner) -> None:
    """Item 6: 0.0.0.0/1 and 128.0.0.0/1 to a public NAT gateway cover every address like 0.0.0.0/0: no
    finding and no endpoint."""
    scn = build_scenario(sandbox, "split-default-nat")
    plan = plan_json(cli, scn.esm_uuid)
    assert plan["findings"] == []
    assert plan["changes"] == []


def test_item_6_prefix_list_route_to_nat_is_not_no_way_out(sandbox: Sandbox, cli: CliRunner) -> None:
    """Item 6: with no default route, a route to a prefix list through the NAT gateway may carry the calls
    to AWS: COULD_NOT_CHECK naming it, never endpoints planned on 'no way out'."""
    scn = build_scenario(sandbox, "prefix-list-to-nat")
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == ["COULD_NOT_CHECK"]
    assert "the more specific route pl-" in plan["findings"][0]["summary"]
    assert plan["changes"] == []


def test_n17_every_serverless_vpc_config_is_checked(sandbox: Sandbox, cli: CliRunner) -> None:
    """N17: the second VpcConfigs entry of an MSK Serverless cluster is checked too: its subnet, which has no
    way out, is named in the finding."""
    scn = build_scenario(sandbox, "serverless-second-vpc-config")
    subnet = next(
        s["SubnetId"]
        for s in sandbox.client("ec2").describe_subnets(
            Filters=[
                {"Name": "cidr-block", "Values": ["10.0.50.0/24"]},
                {"Name": "tag:scenario", "Values": [scn.name]},
            ]
        )["Subnets"]
    )
    plan = plan_json(cli, scn.esm_uuid)
    assert "SERVICE_ENDPOINTS_UNREACHABLE" in codes(plan)
    assert subnet in json.dumps(plan["findings"])


def test_n16_vpc_wide_reads_follow_every_page(sandbox: Sandbox, cli: CliRunner) -> None:
    """N16: with more route tables than one DescribeRouteTables page (100), the subnets' table on the second
    page still decides: the NAT gateway there is their way out (no finding), read page by page."""
    scn = build_scenario(sandbox, "healthy-msk", name="n16-pages")
    ec2 = sandbox.client("ec2")
    for _ in range(100):
        ec2.create_route_table(VpcId=scn.vpc_id)
    late = ec2.create_route_table(VpcId=scn.vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=late, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=scn.nat_gateway_id)
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": list(scn.subnet_ids)}]
    )
    for table in tables["RouteTables"]:
        for association in table["Associations"]:
            if association.get("SubnetId") in scn.subnet_ids:
                ec2.replace_route_table_association(
                    AssociationId=association["RouteTableAssociationId"], RouteTableId=late
                )
    sandbox.clear_calls()
    plan = plan_json(cli, scn.esm_uuid)
    assert plan["findings"] == []
    assert plan["changes"] == []
    assert [op for _, op in sandbox.calls].count("DescribeRouteTables") == 2


def test_s6_a_hub_accounts_shared_zone_gets_no_conflicting_endpoint(sandbox: Sandbox, cli: CliRunner) -> None:
    """S6: the centralised Lambda endpoint's private hosted zone is a hub account's, associated with this
    VPC: ListHostedZonesByVPC lists it (any owner), so no private-DNS Lambda endpoint is planned, which AWS
    would refuse (conflicting DNS domain); the STS one is created."""
    scn = build_scenario(
        sandbox, "central-lambda-endpoint", name="s6-hub-zone", central_zones_owner="111122223333"
    )
    plan = plan_json(cli, scn.esm_uuid)
    created = [
        c["resource"].rsplit(".", 1)[-1] for c in plan["changes"] if c["action"] == "create_vpc_endpoint"
    ]
    assert created == ["sts"]
    unchecked = [f["summary"] for f in plan["findings"] if f["code"] == "COULD_NOT_CHECK"]
    assert any("private hosted zone" in t and "conflicting DNS domain" in t for t in unchecked)
    applied = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    made = sandbox.client("ec2").describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [scn.vpc_id]}])
    assert [e["ServiceName"].rsplit(".", 1)[-1] for e in made["VpcEndpoints"]] == ["sts"]


@pytest.mark.parametrize(
    ("instance_type", "reported"), [("kafka.m5.large", True), ("express.m7g.large", False)]
)
def test_n14_connection_quota_follows_the_broker_type(
    sandbox: Sandbox, cli: CliRunner, instance_type: str, reported: bool
) -> None:
    """N14: 2,950 IAM connections on a Standard broker are near its quota of 3,000
    (BROKER_CONNECTIONS_EXHAUSTED, named as the default); the Standard number is not applied to an Express
    broker."""
    scn = build_scenario(
        sandbox, "express-broker-connections", name=f"n14-{reported}", broker_instance_type=instance_type
    )
    diagnosed = cli("diagnose", "--esm", scn.esm_uuid, "--output", "json")
    assert diagnosed.returncode == 0, diagnosed.stderr
    found = [
        f for f in json.loads(diagnosed.stdout)["findings"] if f["code"] == "BROKER_CONNECTIONS_EXHAUSTED"
    ]
    assert bool(found) == reported
    if reported:
        assert "the Standard broker default" in found[0]["summary"]


def test_n17_a_serverless_vpc_config_in_another_vpc_is_could_not_check(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    """N17: a VpcConfigs entry whose subnet is in another VPC is not judged by the first VPC's facts:
    COULD_NOT_CHECK naming it, and nothing planned for it."""
    scn = build_scenario(
        sandbox, "serverless-second-vpc-config", name="n17-other-vpc", serverless_extra_vpc=True
    )
    second = [{"Name": "tag:Name", "Values": [f"{scn.name}-second-config"]}]
    (found,) = sandbox.client("ec2").describe_subnets(Filters=second)["Subnets"]
    plan = plan_json(cli, scn.esm_uuid)
    assert codes(plan) == ["COULD_NOT_CHECK"]
    assert f"network of subnet {found['SubnetId']} in {found['VpcId']}" in plan["findings"][0]["summary"]
    assert plan["changes"] == []
