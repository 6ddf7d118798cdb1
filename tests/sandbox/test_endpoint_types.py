"""Issue 24 (S3): ModifyVpcEndpoint's parameters each apply to the endpoint types the EC2 API reference marks
them for (route tables: gateway; subnets: interface and Gateway Load Balancer; security groups and private
DNS: interface); the sandbox refuses the others with InvalidParameter (moto applied any to any)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from remediate.sandbox import Sandbox
from tests.sandbox.test_gaps import make_network


def test_modify_vpc_endpoint_refuses_parameters_of_another_endpoint_type(sb: Sandbox) -> None:
    vpc, subnets, sg = make_network(sb)
    ec2 = sb.client("ec2")
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    interface = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.us-east-1.sts",
        VpcEndpointType="Interface",
        SubnetIds=subnets[:1],
        SecurityGroupIds=[sg],
        PrivateDnsEnabled=False,
    )["VpcEndpoint"]["VpcEndpointId"]
    gateway = ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway"
    )["VpcEndpoint"]["VpcEndpointId"]
    refused = [
        {"VpcEndpointId": interface, "AddRouteTableIds": [table]},
        {"VpcEndpointId": gateway, "AddSubnetIds": subnets[1:2]},
        {"VpcEndpointId": gateway, "AddSecurityGroupIds": [sg]},
        {"VpcEndpointId": gateway, "PrivateDnsEnabled": True},
    ]
    for params in refused:
        with pytest.raises(ClientError) as raised:
            ec2.modify_vpc_endpoint(**params)
        assert raised.value.response["Error"]["Code"] == "InvalidParameter"
    ec2.modify_vpc_endpoint(VpcEndpointId=gateway, AddRouteTableIds=[table])
    ec2.modify_vpc_endpoint(VpcEndpointId=interface, AddSecurityGroupIds=[sg], PrivateDnsEnabled=True)
    (found,) = ec2.describe_vpc_endpoints(VpcEndpointIds=[gateway])["VpcEndpoints"]
    assert table in found["RouteTableIds"]


S3 = "com.amazonaws.us-east-1.s3"


def test_the_twenty_first_gateway_endpoint_of_the_region_is_refused(sb: Sandbox) -> None:
    """Issue 24 (N15): "Gateway VPC endpoints per Region: 20" (AWS PrivateLink quotas)."""
    ec2 = sb.client("ec2")
    live = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-endpoint-type", "Values": ["Gateway"]}])
    for _ in range(20 - len(live["VpcEndpoints"])):
        vpc = ec2.create_vpc(CidrBlock="10.6.0.0/16")["Vpc"]["VpcId"]
        ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway"
        )
    vpc = ec2.create_vpc(CidrBlock="10.5.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(ClientError) as raised:
        ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway"
        )
    assert raised.value.response["Error"]["Code"] == "VpcEndpointLimitExceeded"
