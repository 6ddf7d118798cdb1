"""Issue 24 (S4): a regional NAT gateway (AvailabilityMode=regional) is made without a subnet, in a VPC,
and is described with its AvailabilityMode and its own route table, which leads to the VPC's internet
gateway; a zonal one is moto's as before."""

from __future__ import annotations

from remediate.sandbox import Sandbox


def test_regional_nat_gateway_has_no_subnet_and_its_own_route_table(sb: Sandbox) -> None:
    ec2 = sb.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    made = ec2.create_nat_gateway(AvailabilityMode="regional", VpcId=vpc)["NatGateway"]
    (nat,) = ec2.describe_nat_gateways(Filter=[{"Name": "vpc-id", "Values": [vpc]}])["NatGateways"]
    assert nat["NatGatewayId"] == made["NatGatewayId"]
    assert nat["AvailabilityMode"] == "regional"
    assert "SubnetId" not in nat
    (table,) = ec2.describe_route_tables(RouteTableIds=[nat["RouteTableId"]])["RouteTables"]
    assert {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw} in [
        {k: r[k] for k in ("DestinationCidrBlock", "GatewayId") if k in r} for r in table["Routes"]
    ]


def test_zonal_nat_gateway_is_unchanged(sb: Sandbox) -> None:
    ec2 = sb.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, ConnectivityType="private")["NatGateway"]
    assert nat["SubnetId"] == subnet
    assert nat.get("AvailabilityMode", "zonal") == "zonal"
