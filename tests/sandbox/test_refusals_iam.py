"""The sandbox refuses what AWS refuses (issue 13, the IAM, policy and MSK-source rules), one test each.

Each refusal states AWS's rule as its documentation gives it (remediate/sandbox/patches.py cites the page);
the expected values here come from those pages, not from the engine.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from remediate.sandbox import Sandbox

from .helpers import make_cluster, make_function, make_network

OWNER = "444455556666"
OWNER_CLUSTER = f"arn:aws:kafka:us-east-1:{OWNER}:cluster/orders/51jn98b4-0a61-46cc-b0a6-61g9a3d797d5-7"
LIMIT = 20_480  # "Characters per VPC endpoint policy: 20,480 ... including white space" (PrivateLink quotas)


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = exc.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def _policy_of_length(length: int, indent: int | None) -> str:
    """A valid endpoint policy whose text, as sent, is exactly `length` characters."""

    def text(pad: int) -> str:
        doc = {
            "Statement": [
                {"Sid": "x" * pad, "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
            ]
        }
        return json.dumps(doc, indent=indent) if indent else json.dumps(doc, separators=(",", ":"))

    pad = length - len(text(0))
    result = text(pad)
    assert len(result) == length
    return result


def test_endpoint_policy_over_20480_characters_with_whitespace_is_refused(sb: Sandbox) -> None:
    vpc, _, _ = make_network(sb)
    ec2 = sb.client("ec2")
    service = "com.amazonaws.us-east-1.lambda"
    at_limit = _policy_of_length(LIMIT, indent=None)
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=service, PolicyDocument=at_limit)["VpcEndpoint"]
    spaced = _policy_of_length(LIMIT + 1, indent=2)  # the whitespace counts
    with pytest.raises(ClientError) as create:
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=service, PolicyDocument=spaced)
    with pytest.raises(ClientError) as modify:
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"], PolicyDocument=spaced)
    for refused in (create, modify):
        code, status, message = _error(refused)
        assert (code, status) == ("InvalidPolicyDocument", 400)
        assert "20480" in message
    kept = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])["VpcEndpoints"][0]
    assert len(kept["PolicyDocument"]) <= LIMIT  # the refused write changed nothing


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:kafka:us-east-1:123456789012:cluster/never-made/abcd-1234-1",  # unknown
        OWNER_CLUSTER,  # another account's: a consumer reaches it only through a VPC connection
        f"arn:aws:kafka:us-east-1:123456789012:vpc-connection/{OWNER}/orders/51jn98b4-7",  # not a cluster
    ],
)
def test_describe_cluster_v2_of_an_unknown_or_cross_account_cluster_is_not_found(
    sb: Sandbox, arn: str
) -> None:
    with pytest.raises(ClientError) as refused:
        sb.client("kafka").describe_cluster_v2(ClusterArn=arn)
    assert _error(refused)[:2] == ("NotFoundException", 404)


def test_a_vpc_connection_is_read_with_describe_vpc_connection(sb: Sandbox) -> None:
    vpc, subnets, sg = make_network(sb)
    kafka = sb.client("kafka")
    made = kafka.create_vpc_connection(
        TargetClusterArn=OWNER_CLUSTER,
        Authentication="SASL_IAM",
        VpcId=vpc,
        ClientSubnets=subnets,
        SecurityGroups=[sg],
    )
    # The connection is the consumer's ("arn:aws:kafka:REGION:CONSUMER:vpc-connection/OWNER/CLUSTER/UUID").
    assert made["VpcConnectionArn"] == (
        f"arn:aws:kafka:us-east-1:{sb.account_id}:vpc-connection/{OWNER}/orders/51jn98b4-0a61-46cc-b0a6-61g9a3d797d5-7"
    )
    read = kafka.describe_vpc_connection(Arn=made["VpcConnectionArn"])
    assert (read["TargetClusterArn"], read["State"], read["Authentication"]) == (
        OWNER_CLUSTER,
        "AVAILABLE",
        "SASL_IAM",
    )
    assert (read["VpcId"], read["Subnets"], read["SecurityGroups"]) == (vpc, subnets, [sg])
    with pytest.raises(ClientError) as unknown:
        kafka.describe_vpc_connection(Arn=made["VpcConnectionArn"] + "-other")
    assert _error(unknown)[:2] == ("NotFoundException", 404)
    with pytest.raises(ClientError) as bad:
        kafka.create_vpc_connection(
            TargetClusterArn=OWNER_CLUSTER,
            Authentication="PLAINTEXT",
            VpcId=vpc,
            ClientSubnets=subnets,
            SecurityGroups=[sg],
        )
    assert _error(bad)[:2] == ("BadRequestException", 400)


def test_a_mapping_on_an_unknown_vpc_connection_is_refused(sb: Sandbox) -> None:
    make_function(sb)
    with pytest.raises(ClientError) as refused:
        sb.client("lambda").create_event_source_mapping(
            FunctionName="t-fn",
            EventSourceArn=f"arn:aws:kafka:us-east-1:{sb.account_id}:vpc-connection/{OWNER}/orders/nope-1",
            Topics=["orders"],
            StartingPosition="LATEST",
        )
    assert _error(refused)[:2] == ("InvalidParameterValueException", 400)


def test_only_msk_cluster_states_can_be_set(sb: Sandbox) -> None:
    arn = make_cluster(sb)
    sb.set_cluster_state(arn, "REBOOTING_BROKER")
    assert (
        sb.client("kafka").describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["State"] == "REBOOTING_BROKER"
    )
    with pytest.raises(ValueError, match="not an MSK cluster state"):
        sb.set_cluster_state(arn, "Rebooting")
