"""Every scenario builds, and what it built reads back through boto3 over HTTP as the engine sees it."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from remediate.sandbox import Sandbox, Scenario, build_scenario, scenario_names
from remediate.sandbox.scenarios import CONNECTION_ERROR


def _msk_checks(sb: Sandbox, scn: Scenario) -> None:
    assert scn.cluster_arn is not None
    assert scn.vpc_id is not None
    ec2, kafka, iam = sb.client("ec2"), sb.client("kafka"), sb.client("iam")
    vpc_id = scn.vpc_id
    attrs = [
        ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=name)
        for name in ("enableDnsSupport", "enableDnsHostnames")
    ]
    assert attrs[0]["EnableDnsSupport"]["Value"]
    assert attrs[1]["EnableDnsHostnames"]["Value"]
    subnets = ec2.describe_subnets(SubnetIds=list(scn.subnet_ids))["Subnets"]
    assert len({s["AvailabilityZone"] for s in subnets}) == 3
    assert all(s["VpcId"] == vpc_id for s in subnets)
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": list(scn.subnet_ids)}]
    )
    routes = [
        r for t in tables["RouteTables"] for r in t["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"
    ]
    assert routes
    assert all(r.get("NatGatewayId") == scn.nat_gateway_id for r in routes)
    group = ec2.describe_security_groups(GroupIds=list(scn.security_group_ids))["SecurityGroups"][0]
    ingress = group["IpPermissions"][0]
    assert ingress["FromPort"] == ingress["ToPort"] == 9098
    assert ingress["UserIdGroupPairs"][0]["GroupId"] == group["GroupId"]
    assert any(p["IpProtocol"] == "-1" for p in group["IpPermissionsEgress"])

    cluster = kafka.describe_cluster_v2(ClusterArn=scn.cluster_arn)["ClusterInfo"]
    assert cluster["State"] == "ACTIVE"
    assert cluster["Provisioned"]["ClientAuthentication"]["Sasl"]["Iam"]["Enabled"] is True
    assert sorted(cluster["Provisioned"]["BrokerNodeGroupInfo"]["ClientSubnets"]) == sorted(scn.subnet_ids)
    brokers = kafka.get_bootstrap_brokers(ClusterArn=scn.cluster_arn)["BootstrapBrokerStringSaslIam"]
    assert tuple(brokers.split(",")) == scn.bootstrap_servers

    role = iam.get_role(RoleName=scn.role_name)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(unquote(trust)) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"]["Service"] == "lambda.amazonaws.com"
    policy_name = iam.list_role_policies(RoleName=scn.role_name)["PolicyNames"][0]
    document = iam.get_role_policy(RoleName=scn.role_name, PolicyName=policy_name)["PolicyDocument"]
    document = json.loads(unquote(document)) if isinstance(document, str) else document
    actions = {
        a
        for s in document["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert {"kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers", "ec2:CreateNetworkInterface"} <= actions
    assert {"kafka-cluster:Connect", "kafka-cluster:ReadData", "kafka-cluster:AlterGroup"} <= actions


def test_healthy_msk(sb: Sandbox) -> None:
    scn = build_scenario(sb, "healthy-msk")
    assert scn.expected_findings == ()
    esm = sb.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)
    assert esm["EventSourceArn"] == scn.cluster_arn
    assert (esm["State"], esm["LastProcessingResult"], esm["BatchSize"], esm["Topics"]) == (
        "Enabled",
        "OK",
        100,
        ["orders"],
    )
    assert esm["FunctionArn"] == scn.function_arn
    assert esm["EventSourceMappingArn"] == scn.esm_arn
    fn = sb.client("lambda").get_function_configuration(FunctionName=scn.function_arn)
    assert fn["Runtime"] == "python3.12"
    assert fn["Role"] == scn.role_arn
    _msk_checks(sb, scn)


def test_broker_timeout(sb: Sandbox) -> None:
    scn = build_scenario(sb, "broker-timeout")
    assert scn.expected_findings == ("BROKER_TIMEOUT",)
    esm = sb.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)
    assert esm["BatchSize"] == 500
    assert esm["State"] == "Enabled"
    assert esm["StateTransitionReason"] == "USER_INITIATED"
    assert esm["LastProcessingResult"] == CONNECTION_ERROR
    assert esm["LastProcessingResult"].startswith("PROBLEM: Connection error. Please check your event source")
    _msk_checks(sb, scn)


def test_disabled(sb: Sandbox) -> None:
    scn = build_scenario(sb, "disabled")
    assert scn.expected_findings == ("ESM_DISABLED",)
    esm = sb.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)
    assert (esm["State"], esm["StateTransitionReason"]) == ("Disabled", "USER_INITIATED")


def test_sqs_esm(sb: Sandbox) -> None:
    scn = build_scenario(sb, "sqs-esm")
    esm = sb.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)
    assert esm["EventSourceArn"].startswith("arn:aws:sqs:")
    assert scn.cluster_arn is None
    assert scn.vpc_id is None
    assert scn.expected_findings == ()


def test_self_managed_healthy(sb: Sandbox) -> None:
    scn = build_scenario(sb, "self-managed-healthy")
    esm = sb.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)
    assert esm["SelfManagedEventSource"]["Endpoints"]["KAFKA_BOOTSTRAP_SERVERS"] == [
        "localhost:9092",
        "127.0.0.1:9093",
    ]
    assert "SourceAccessConfigurations" not in esm
    assert scn.vpc_id is None
    assert scn.cluster_arn is None


def test_every_registered_scenario_builds(sb: Sandbox) -> None:
    assert {"healthy-msk", "broker-timeout", "disabled", "sqs-esm", "self-managed-healthy"} <= set(
        scenario_names()
    )
    built = [build_scenario(sb, name) for name in scenario_names()]
    lam = sb.client("lambda")
    pages = lam.get_paginator("list_event_source_mappings").paginate()  # 100 a page; there are more
    listed = {esm["UUID"] for page in pages for esm in page["EventSourceMappings"]}
    # A scenario may build other mappings beside its own (issue 15: peers in a shared consumer group).
    assert {uuid for scn in built for uuid in (scn.esm_uuid, *scn.peer_uuids)} == listed


def test_two_scenarios_coexist(sb: Sandbox) -> None:
    healthy = build_scenario(sb, "healthy-msk")
    broken = build_scenario(sb, "broker-timeout")
    assert healthy.vpc_id != broken.vpc_id
    assert healthy.cluster_arn != broken.cluster_arn
    lam = sb.client("lambda")
    assert lam.get_event_source_mapping(UUID=healthy.esm_uuid)["LastProcessingResult"] == "OK"
    assert lam.get_event_source_mapping(UUID=broken.esm_uuid)["BatchSize"] == 500


@pytest.mark.parametrize(
    ("auth", "port", "source_access"),
    [("scram", 9096, "SASL_SCRAM_512_AUTH"), ("tls", 9094, "CLIENT_CERTIFICATE_TLS_AUTH")],
)
def test_builder_options_auth_modes(sb: Sandbox, auth: str, port: int, source_access: str) -> None:
    scn = build_scenario(sb, "healthy-msk", name=f"auth-{auth}", auth=auth)
    assert scn.broker_port == port
    assert all(server.endswith(f":{port}") for server in scn.bootstrap_servers)
    esm = sb.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)
    assert esm["SourceAccessConfigurations"] == [{"Type": source_access, "URI": scn.secret_arns[0]}]
    if auth == "scram":
        assert scn.cluster_arn is not None
        listed = sb.client("kafka").list_scram_secrets(ClusterArn=scn.cluster_arn)["SecretArnList"]
        assert listed == list(scn.secret_arns)
    else:
        secret = json.loads(
            sb.client("secretsmanager").get_secret_value(SecretId=scn.secret_arns[0])["SecretString"]
        )
        assert secret["certificate"].startswith("-----BEGIN CERTIFICATE-----")
        assert secret["privateKey"].startswith("-----BEGIN PRIVATE KEY-----")


def test_builder_options_no_nat_with_endpoints(sb: Sandbox) -> None:
    scn = build_scenario(
        sb, "healthy-msk", name="private", nat=False, endpoints=("lambda", "sts"), destination="sqs"
    )
    assert scn.nat_gateway_id is None
    ec2 = sb.client("ec2")
    endpoints = ec2.describe_vpc_endpoints(VpcEndpointIds=list(scn.endpoint_ids.values()))["VpcEndpoints"]
    assert sorted(e["ServiceName"] for e in endpoints) == [
        "com.amazonaws.us-east-1.lambda",
        "com.amazonaws.us-east-1.sts",
    ]
    assert all(e["PrivateDnsEnabled"] for e in endpoints)
    esm = sb.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)
    assert esm["DestinationConfig"]["OnFailure"]["Destination"] == scn.destination_arn


def test_builder_self_managed_in_vpc(sb: Sandbox) -> None:
    scn = build_scenario(sb, "self-managed-healthy", name="sm-vpc", self_managed_vpc=True)
    esm = sb.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)
    kinds = sorted({c["Type"] for c in esm["SourceAccessConfigurations"]})
    assert kinds == ["VPC_SECURITY_GROUP", "VPC_SUBNET"]
    assert scn.vpc_id is not None


def test_unknown_scenario_is_a_clear_error(sb: Sandbox) -> None:
    with pytest.raises(KeyError, match="known:"):
        build_scenario(sb, "nope")
