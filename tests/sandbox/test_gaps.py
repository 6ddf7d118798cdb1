"""One test per moto gap the sandbox fills (see remediate/sandbox/patches.py).

If a moto upgrade changes an internal a patch relies on, the matching test here fails by name.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from remediate.sandbox import Sandbox

from .helpers import make_cluster, make_function, make_msk_esm, make_network


def _code(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = error.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# 1. Kafka ESMs


def test_gap1_msk_esm_create_get_list_update_keep_kafka_fields(sb: Sandbox) -> None:
    sb.esm_transition_reads = 0
    cluster = make_cluster(sb)
    make_function(sb)
    lam = sb.client("lambda")
    created = lam.create_event_source_mapping(
        FunctionName="t-fn",
        EventSourceArn=cluster,
        Topics=["orders"],
        StartingPosition="TRIM_HORIZON",
        MaximumBatchingWindowInSeconds=5,
        AmazonManagedKafkaEventSourceConfig={"ConsumerGroupId": "my-group"},
        ProvisionedPollerConfig={"MinimumPollers": 1, "MaximumPollers": 2},
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:dlq"}},
    )
    uuid = created["UUID"]
    for view in (
        created,
        lam.get_event_source_mapping(UUID=uuid),
        lam.list_event_source_mappings()["EventSourceMappings"][0],
    ):
        assert view["EventSourceArn"] == cluster
        assert view["Topics"] == ["orders"]
        assert view["StartingPosition"] == "TRIM_HORIZON"
        assert view["BatchSize"] == 100  # Kafka default
        assert view["MaximumBatchingWindowInSeconds"] == 5
        assert view["AmazonManagedKafkaEventSourceConfig"] == {"ConsumerGroupId": "my-group"}
        assert view["ProvisionedPollerConfig"] == {"MinimumPollers": 1, "MaximumPollers": 2}
        assert view["DestinationConfig"]["OnFailure"]["Destination"].endswith(":dlq")
        assert view["FunctionArn"].endswith(":function:t-fn")
        assert view["EventSourceMappingArn"].endswith(f":event-source-mapping:{uuid}")
        assert "LastModified" in view
        assert view["State"] == "Enabled"
    updated = lam.update_event_source_mapping(UUID=uuid, BatchSize=7)
    assert updated["BatchSize"] == 7
    assert updated["Topics"] == ["orders"]


def test_gap1_self_managed_esm(sb: Sandbox) -> None:
    sb.esm_transition_reads = 0
    make_function(sb)
    servers = ["b1.example:9092", "b2.example:9092"]
    access = [
        {"Type": "SASL_SCRAM_512_AUTH", "URI": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"}
    ]
    lam = sb.client("lambda")
    created = lam.create_event_source_mapping(
        FunctionName="t-fn",
        SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": servers}},
        Topics=["orders"],
        StartingPosition="LATEST",
        SourceAccessConfigurations=access,
        SelfManagedKafkaEventSourceConfig={"ConsumerGroupId": "g1"},
    )
    got = lam.get_event_source_mapping(UUID=created["UUID"])
    assert "EventSourceArn" not in got
    assert got["SelfManagedEventSource"]["Endpoints"]["KAFKA_BOOTSTRAP_SERVERS"] == servers
    assert got["SourceAccessConfigurations"] == access
    assert got["SelfManagedKafkaEventSourceConfig"] == {"ConsumerGroupId": "g1"}
    assert got["BatchSize"] == 100


def test_gap1_unknown_cluster_is_rejected(sb: Sandbox) -> None:
    make_function(sb)
    missing = "arn:aws:kafka:us-east-1:123456789012:cluster/nope/0000-1"
    with pytest.raises(ClientError) as error:
        sb.client("lambda").create_event_source_mapping(
            FunctionName="t-fn", EventSourceArn=missing, Topics=["t"], StartingPosition="LATEST"
        )
    assert _code(error) == ("InvalidParameterValueException", 400)


# 2. settable status


def test_gap2_set_esm_status(sb: Sandbox) -> None:
    uuid, _ = make_msk_esm(sb)
    sb.set_esm_status(
        uuid, state="Enabled", state_transition_reason="USER_INITIATED", last_processing_result="OK"
    )
    got = sb.client("lambda").get_event_source_mapping(UUID=uuid)
    assert (got["State"], got["StateTransitionReason"], got["LastProcessingResult"]) == (
        "Enabled",
        "USER_INITIATED",
        "OK",
    )
    sb.set_esm_status(uuid, state="Disabled", last_processing_result="PROBLEM: SASL authentication failed.")
    got = sb.client("lambda").get_event_source_mapping(UUID=uuid)
    assert got["State"] == "Disabled"
    assert got["LastProcessingResult"] == "PROBLEM: SASL authentication failed."
    with pytest.raises(LookupError):
        sb.set_esm_status("00000000-0000-0000-0000-000000000000", state="Enabled")


# 3. transitional states


def test_gap3_transitional_states_and_resource_in_use(sb: Sandbox) -> None:
    sb.esm_transition_reads = 2
    lam = sb.client("lambda")
    uuid, _ = make_msk_esm(sb)
    sb.set_esm_status(uuid, state="Enabled", last_processing_result="PROBLEM: Connection error.")
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    with pytest.raises(ClientError) as error:
        lam.update_event_source_mapping(UUID=uuid, BatchSize=1)
    assert _code(error) == ("ResourceInUseException", 400)
    assert "in use" in error.value.response["Error"]["Message"]
    states = [lam.get_event_source_mapping(UUID=uuid)["State"] for _ in range(3)]
    assert states == ["Disabling", "Disabling", "Disabled"]

    assert lam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabling"
    reads = [lam.get_event_source_mapping(UUID=uuid) for _ in range(3)]
    assert [r["State"] for r in reads] == ["Enabling", "Enabling", "Enabled"]
    assert reads[-1]["LastProcessingResult"] == "No records processed"
    assert reads[-1]["StateTransitionReason"] == "User action"

    assert lam.update_event_source_mapping(UUID=uuid, BatchSize=1)["State"] == "Updating"
    assert [lam.get_event_source_mapping(UUID=uuid)["State"] for _ in range(3)] == [
        "Updating",
        "Updating",
        "Enabled",
    ]


def test_gap3_zero_transition_reads_settles_at_once(sb: Sandbox) -> None:
    sb.esm_transition_reads = 0
    uuid, _ = make_msk_esm(sb)
    lam = sb.client("lambda")
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabled"
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabled"


def test_gap3_create_goes_through_creating(sb: Sandbox) -> None:
    sb.esm_transition_reads = 1
    uuid, _ = make_msk_esm(sb)
    lam = sb.client("lambda")
    assert [lam.get_event_source_mapping(UUID=uuid)["State"] for _ in range(2)] == ["Creating", "Enabled"]


# 4. paging and filters


def test_gap4_list_paging_and_filters(sb: Sandbox) -> None:
    cluster = make_cluster(sb)
    make_function(sb, "fn-a")
    make_function(sb, "fn-b")
    lam = sb.client("lambda")
    made = []
    for index in range(5):
        esm = lam.create_event_source_mapping(
            FunctionName="fn-a" if index < 3 else "fn-b",
            EventSourceArn=cluster,
            Topics=[f"t{index}"],
            StartingPosition="LATEST",
        )
        made.append(esm["UUID"])
    seen: list[str] = []
    kwargs: dict[str, str | int] = {"MaxItems": 2}
    pages = 0
    while True:
        page = lam.list_event_source_mappings(**kwargs)
        pages += 1
        assert len(page["EventSourceMappings"]) <= 2
        seen += [esm["UUID"] for esm in page["EventSourceMappings"]]
        if "NextMarker" not in page:
            break
        kwargs["Marker"] = page["NextMarker"]
    assert seen == made
    assert pages == 3
    by_name = lam.list_event_source_mappings(FunctionName="fn-a")["EventSourceMappings"]
    assert [esm["UUID"] for esm in by_name] == made[:3]
    fn_b_arn = lam.get_function(FunctionName="fn-b")["Configuration"]["FunctionArn"]
    by_arn = lam.list_event_source_mappings(FunctionName=fn_b_arn)["EventSourceMappings"]
    assert [esm["UUID"] for esm in by_arn] == made[3:]
    by_source = lam.list_event_source_mappings(EventSourceArn=cluster)["EventSourceMappings"]
    assert len(by_source) == 5
    assert lam.list_event_source_mappings(EventSourceArn=cluster + "x")["EventSourceMappings"] == []


# 5. errors


@pytest.mark.parametrize("operation", ["get", "update", "delete"])
def test_gap5_unknown_uuid_is_404(sb: Sandbox, operation: str) -> None:
    lam = sb.client("lambda")
    missing = "00000000-0000-0000-0000-000000000000"
    call = {
        "get": lambda: lam.get_event_source_mapping(UUID=missing),
        "update": lambda: lam.update_event_source_mapping(UUID=missing, BatchSize=1),
        "delete": lambda: lam.delete_event_source_mapping(UUID=missing),
    }[operation]
    with pytest.raises(ClientError) as error:
        call()
    assert _code(error) == ("ResourceNotFoundException", 404)


@pytest.mark.parametrize("batch_size", [10_001, 50_000])
def test_gap5_out_of_range_batch_size_is_400(sb: Sandbox, batch_size: int) -> None:
    sb.esm_transition_reads = 0
    uuid, cluster = make_msk_esm(sb)
    lam = sb.client("lambda")
    with pytest.raises(ClientError) as error:
        lam.update_event_source_mapping(UUID=uuid, BatchSize=batch_size)
    assert _code(error) == ("InvalidParameterValueException", 400)
    with pytest.raises(ClientError) as error:
        lam.create_event_source_mapping(
            FunctionName="t-fn",
            EventSourceArn=cluster,
            Topics=["x"],
            StartingPosition="LATEST",
            BatchSize=batch_size,
        )
    assert _code(error)[1] == 400


def test_gap5_sqs_batch_size_error_is_400_not_500(sb: Sandbox) -> None:
    make_function(sb)
    sqs = sb.client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    with pytest.raises(ClientError) as error:
        sb.client("lambda").create_event_source_mapping(
            FunctionName="t-fn", EventSourceArn=arn, BatchSize=10_001
        )
    assert _code(error) == ("InvalidParameterValueException", 400)


def test_gap5_delete_returns_deleting(sb: Sandbox) -> None:
    uuid, _ = make_msk_esm(sb)
    assert sb.client("lambda").delete_event_source_mapping(UUID=uuid)["State"] == "Deleting"


# 6. bootstrap brokers


@pytest.mark.parametrize(
    ("auth", "client_broker", "expected"),
    [
        ({"Sasl": {"Iam": {"Enabled": True}}}, "TLS", {"BootstrapBrokerStringSaslIam": 9098}),
        ({"Sasl": {"Scram": {"Enabled": True}}}, "TLS", {"BootstrapBrokerStringSaslScram": 9096}),
        (
            {"Tls": {"Enabled": True, "CertificateAuthorityArnList": ["arn:ca"]}},
            "TLS",
            {"BootstrapBrokerStringTls": 9094},
        ),
        (
            {"Unauthenticated": {"Enabled": True}},
            "TLS_PLAINTEXT",
            {"BootstrapBrokerString": 9092, "BootstrapBrokerStringTls": 9094},
        ),
        (
            {"Sasl": {"Iam": {"Enabled": True}, "Scram": {"Enabled": True}}},
            "TLS",
            {"BootstrapBrokerStringSaslIam": 9098, "BootstrapBrokerStringSaslScram": 9096},
        ),
    ],
)
def test_gap6_get_bootstrap_brokers(
    sb: Sandbox, auth: dict[str, object], client_broker: str, expected: dict[str, int]
) -> None:
    arn = make_cluster(
        sb,
        name="Orders_Cluster",
        ClientAuthentication=auth,
        EncryptionInfo={"EncryptionInTransit": {"ClientBroker": client_broker, "InCluster": True}},
    )
    brokers = sb.client("kafka").get_bootstrap_brokers(ClusterArn=arn)
    strings = {key: value for key, value in brokers.items() if key.startswith("BootstrapBroker")}
    assert set(strings) == set(expected)
    for key, port in expected.items():
        hosts = strings[key].split(",")
        assert len(hosts) == 3
        assert hosts[0].startswith("b-1.orders-cluster.")
        assert hosts[0].endswith(f".c2.kafka.us-east-1.amazonaws.com:{port}")
    again = sb.client("kafka").get_bootstrap_brokers(ClusterArn=arn)
    assert {k: v for k, v in again.items() if k.startswith("Bootstrap")} == strings


def test_gap6_one_broker_per_client_subnet_at_least(sb: Sandbox) -> None:
    _, subnets, sg = make_network(sb, subnets=3)
    arn = sb.client("kafka").create_cluster_v2(
        ClusterName="small",
        Provisioned={
            "BrokerNodeGroupInfo": {
                "InstanceType": "kafka.t3.small",
                "ClientSubnets": subnets,
                "SecurityGroups": [sg],
            },
            "KafkaVersion": "3.6.0",
            "NumberOfBrokerNodes": 1,
            "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
        },
    )["ClusterArn"]
    brokers = sb.client("kafka").get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerStringSaslIam"]
    assert len(brokers.split(",")) == 3


# 7. clusters keep auth/encryption and become ACTIVE


def test_gap7_create_cluster_v2_keeps_auth_and_encryption(sb: Sandbox) -> None:
    auth = {"Sasl": {"Iam": {"Enabled": True}}, "Unauthenticated": {"Enabled": False}}
    encryption = {"EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}}
    arn = make_cluster(sb, name="keep", ClientAuthentication=auth, EncryptionInfo=encryption)
    info = sb.client("kafka").describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]
    assert info["State"] == "ACTIVE"
    assert info["Provisioned"]["ClientAuthentication"]["Sasl"]["Iam"]["Enabled"] is True
    assert info["Provisioned"]["EncryptionInfo"]["EncryptionInTransit"] == {
        "ClientBroker": "TLS",
        "InCluster": True,
    }
    assert arn.split(":")[5].startswith("cluster/keep/")  # AWS-shaped ARN: cluster/NAME/UUID-N
    v1 = sb.client("kafka").describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert v1["State"] == "ACTIVE"


def test_gap7_create_cluster_v1_keeps_auth_and_becomes_active(sb: Sandbox) -> None:
    _, subnets, sg = make_network(sb)
    arn = sb.client("kafka").create_cluster(
        ClusterName="v1",
        KafkaVersion="3.6.0",
        NumberOfBrokerNodes=3,
        BrokerNodeGroupInfo={
            "InstanceType": "kafka.m5.large",
            "ClientSubnets": subnets,
            "SecurityGroups": [sg],
        },
        ClientAuthentication={"Sasl": {"Scram": {"Enabled": True}}},
        EncryptionInfo={"EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}},
    )["ClusterArn"]
    info = sb.client("kafka").describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert info["State"] == "ACTIVE"
    assert info["ClientAuthentication"]["Sasl"]["Scram"]["Enabled"] is True
    assert info["EncryptionInfo"]["EncryptionInTransit"]["ClientBroker"] == "TLS"


# 8. SCRAM secrets


def test_gap8_scram_secret_association(sb: Sandbox) -> None:
    arn = make_cluster(sb, ClientAuthentication={"Sasl": {"Scram": {"Enabled": True}}})
    key = sb.client("kms").create_key()["KeyMetadata"]["Arn"]
    sm = sb.client("secretsmanager")
    value = json.dumps({"username": "u", "password": "p"})
    good = sm.create_secret(Name="AmazonMSK_good", SecretString=value, KmsKeyId=key)["ARN"]
    badly_named = sm.create_secret(Name="bad", SecretString=value, KmsKeyId=key)["ARN"]
    default_key = sm.create_secret(Name="AmazonMSK_default_key", SecretString=value)["ARN"]
    kafka = sb.client("kafka")
    result = kafka.batch_associate_scram_secret(
        ClusterArn=arn, SecretArnList=[good, badly_named, default_key]
    )
    assert result["ClusterArn"] == arn
    assert {u["SecretArn"] for u in result["UnprocessedScramSecrets"]} == {badly_named, default_key}
    assert kafka.list_scram_secrets(ClusterArn=arn)["SecretArnList"] == [good]
    result = kafka.batch_disassociate_scram_secret(ClusterArn=arn, SecretArnList=[good])
    assert result["UnprocessedScramSecrets"] == []
    assert kafka.list_scram_secrets(ClusterArn=arn)["SecretArnList"] == []


def test_gap8_scram_on_unknown_cluster_is_not_found(sb: Sandbox) -> None:
    with pytest.raises(ClientError) as error:
        sb.client("kafka").list_scram_secrets(ClusterArn="arn:aws:kafka:us-east-1:123456789012:cluster/x/y-1")
    assert _code(error) == ("NotFoundException", 404)


# 9. VPC endpoints


def test_gap9_create_vpc_endpoint_client_token(sb: Sandbox) -> None:
    vpc, subnets, sg = make_network(sb)
    ec2 = sb.client("ec2")
    # Private DNS (the default for an AWS service) needs both VPC DNS attributes on (issue 24, S1).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    args = {
        "VpcId": vpc,
        "ServiceName": "com.amazonaws.us-east-1.lambda",
        "VpcEndpointType": "Interface",
        "SubnetIds": subnets,
        "SecurityGroupIds": [sg],
        "ClientToken": "token-1",
    }
    first = ec2.create_vpc_endpoint(**args)["VpcEndpoint"]["VpcEndpointId"]
    second = ec2.create_vpc_endpoint(**args)["VpcEndpoint"]["VpcEndpointId"]
    assert first == second
    assert len(ec2.describe_vpc_endpoints()["VpcEndpoints"]) == 1
    with pytest.raises(ClientError) as error:
        ec2.create_vpc_endpoint(**{**args, "ServiceName": "com.amazonaws.us-east-1.sts"})
    assert error.value.response["Error"]["Code"] == "IdempotentParameterMismatch"
    # A second endpoint of the service must leave private DNS to the first (AWS: conflicting DNS domain).
    other = ec2.create_vpc_endpoint(**{**args, "ClientToken": "token-2", "PrivateDnsEnabled": False})[
        "VpcEndpoint"
    ]["VpcEndpointId"]
    assert other != first


def test_gap9_modify_vpc_endpoint_private_dns_and_reset_policy(sb: Sandbox) -> None:
    vpc, subnets, sg = make_network(sb)
    ec2 = sb.client("ec2")
    deny = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.us-east-1.sts",
        VpcEndpointType="Interface",
        SubnetIds=subnets,
        SecurityGroupIds=[sg],
        PrivateDnsEnabled=False,
        PolicyDocument=json.dumps(deny),
    )["VpcEndpoint"]["VpcEndpointId"]
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint, PrivateDnsEnabled=True)
    described = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint])["VpcEndpoints"][0]
    assert described["PrivateDnsEnabled"] is True
    assert json.loads(described["PolicyDocument"]) == deny
    # issue 24 (S2): ResetPolicy is for gateway endpoints only (EC2 API reference, ModifyVpcEndpoint).
    with pytest.raises(ClientError) as refused:
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint, ResetPolicy=True)
    assert refused.value.response["Error"]["Code"] == "InvalidParameter"
    described = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint])["VpcEndpoints"][0]
    assert json.loads(described["PolicyDocument"]) == deny
    gateway = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.us-east-1.s3",
        VpcEndpointType="Gateway",
        PolicyDocument=json.dumps(deny),
    )["VpcEndpoint"]["VpcEndpointId"]
    ec2.modify_vpc_endpoint(VpcEndpointId=gateway, ResetPolicy=True)
    described = ec2.describe_vpc_endpoints(VpcEndpointIds=[gateway])["VpcEndpoints"][0]
    assert json.loads(described["PolicyDocument"])["Statement"][0]["Effect"] == "Allow"
    allow_one = {
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"}]
    }
    ec2.modify_vpc_endpoint(
        VpcEndpointId=endpoint, PolicyDocument=json.dumps(allow_one)
    )  # moto already does this
    described = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint])["VpcEndpoints"][0]
    assert json.loads(described["PolicyDocument"]) == allow_one


# 10. function VpcConfig


def test_gap10_function_vpc_config_reports_real_vpc(sb: Sandbox) -> None:
    vpc, subnets, sg = make_network(sb)
    make_function(sb, VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": [sg]})
    config = sb.client("lambda").get_function_configuration(FunctionName="t-fn")["VpcConfig"]
    assert config["VpcId"] == vpc
    assert config["SubnetIds"] == subnets
