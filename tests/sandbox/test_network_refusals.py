"""The sandbox refuses what AWS refuses around VPC endpoints and security-group rules, with AWS's codes.

One test per refusal (issue 13, sandbox fidelity): each builds the situation through the real API and
shows the refusal, and the same call succeeding where AWS would accept it.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from remediate.sandbox import Sandbox

STS = "com.amazonaws.us-east-1.sts"
LAMBDA = "com.amazonaws.us-east-1.lambda"


def _vpc(sb: Sandbox) -> tuple[str, str, str]:
    ec2 = sb.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    # Private-DNS endpoints need both VPC DNS attributes on (issue 24, S1).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]
    b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/28", AvailabilityZone="us-east-1b")["Subnet"]
    return vpc, a["SubnetId"], b["SubnetId"]


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def test_endpoint_in_an_az_the_service_is_not_offered_in_is_refused(sb: Sandbox) -> None:
    vpc, a, b = _vpc(sb)
    ec2 = sb.client("ec2")
    sb.set_endpoint_service_zones(STS, ["us-east-1b"])
    offered = ec2.describe_vpc_endpoint_services(ServiceNames=[STS])["ServiceDetails"][0]["AvailabilityZones"]
    assert offered == ["us-east-1b"]
    with pytest.raises(ClientError) as exc:
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=STS, VpcEndpointType="Interface", SubnetIds=[a])
    assert _error(exc) == (
        "InvalidParameter",
        f"The VPC endpoint service {STS} does not support the availability zone of the subnet: {a}.",
    )
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=STS, VpcEndpointType="Interface", SubnetIds=[b])


def test_endpoint_in_a_subnet_without_free_addresses_is_refused(sb: Sandbox) -> None:
    vpc, a, b = _vpc(sb)
    ec2 = sb.client("ec2")
    # A /28 has 11 usable addresses (AWS reserves 5); one interface with 10 secondary addresses fills it.
    ec2.create_network_interface(SubnetId=b, SecondaryPrivateIpAddressCount=10)
    assert ec2.describe_subnets(SubnetIds=[b])["Subnets"][0]["AvailableIpAddressCount"] == 0
    with pytest.raises(ClientError) as exc:
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=STS, VpcEndpointType="Interface", SubnetIds=[b])
    assert _error(exc)[0] == "InsufficientFreeAddressesInSubnet"
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=STS, VpcEndpointType="Interface", SubnetIds=[a])


def test_private_dns_conflicting_with_an_associated_private_zone_is_refused(sb: Sandbox) -> None:
    vpc, a, _ = _vpc(sb)
    ec2 = sb.client("ec2")
    sb.client("route53").create_hosted_zone(
        Name="lambda.us-east-1.amazonaws.com",
        CallerReference="central-lambda",
        HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": "us-east-1", "VPCId": vpc},
    )
    with pytest.raises(ClientError) as exc:
        ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=LAMBDA, VpcEndpointType="Interface", SubnetIds=[a], PrivateDnsEnabled=True
        )
    assert _error(exc) == (
        "InvalidParameter",
        "private-dns-enabled cannot be set because there is already a conflicting DNS domain for "
        f"lambda.us-east-1.amazonaws.com in the VPC {vpc}",
    )
    # Without private DNS the endpoint is accepted (it answers only on its own endpoint names).
    ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=LAMBDA, VpcEndpointType="Interface", SubnetIds=[a], PrivateDnsEnabled=False
    )


def test_second_private_dns_endpoint_of_a_service_is_refused(sb: Sandbox) -> None:
    vpc, a, _ = _vpc(sb)
    ec2 = sb.client("ec2")
    ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=STS, VpcEndpointType="Interface", SubnetIds=[a], PrivateDnsEnabled=True
    )
    with pytest.raises(ClientError) as exc:
        ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=STS, VpcEndpointType="Interface", SubnetIds=[a], PrivateDnsEnabled=True
        )
    assert "conflicting DNS domain for sts.us-east-1.amazonaws.com" in _error(exc)[1]


def test_interface_endpoints_past_the_vpc_quota_are_refused(sb: Sandbox) -> None:
    vpc, a, _ = _vpc(sb)
    ec2 = sb.client("ec2")
    for _ in range(50):  # "Interface and Gateway Load Balancer endpoints per VPC": 50
        ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=STS, VpcEndpointType="Interface", SubnetIds=[a], PrivateDnsEnabled=False
        )
    with pytest.raises(ClientError) as exc:
        ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=STS, VpcEndpointType="Interface", SubnetIds=[a], PrivateDnsEnabled=False
        )
    assert _error(exc)[0] == "VpcEndpointLimitExceeded"
    # Gateway endpoints do not count against it.
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway")


def test_the_61st_rule_of_a_direction_and_ip_version_is_refused(sb: Sandbox) -> None:
    vpc, _, _ = _vpc(sb)
    ec2 = sb.client("ec2")
    group = ec2.create_security_group(GroupName="full", Description="full", VpcId=vpc)["GroupId"]

    def ingress(port: int, **peer: object) -> None:
        ec2.authorize_security_group_ingress(
            GroupId=group, IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **peer}]
        )

    for port in range(1000, 1060):
        ingress(port, IpRanges=[{"CidrIp": "10.0.0.0/16"}])
    # IPv6 rules have a quota of their own, and so has the other direction.
    ingress(1, Ipv6Ranges=[{"CidrIpv6": "2600:1f18::/56"}])
    ec2.authorize_security_group_egress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}
        ],
    )
    with pytest.raises(ClientError) as exc:
        ingress(2, IpRanges=[{"CidrIp": "10.0.0.0/16"}])
    assert _error(exc)[0] == "RulesPerSecurityGroupLimitExceeded"
    with pytest.raises(ClientError) as exc:
        ingress(3, UserIdGroupPairs=[{"GroupId": group}])  # a group reference counts as one rule
    assert _error(exc)[0] == "RulesPerSecurityGroupLimitExceeded"


@pytest.mark.parametrize("attribute", ["EnableDnsHostnames", "EnableDnsSupport"])
def test_private_dns_endpoint_in_a_vpc_with_a_dns_attribute_off_is_refused(
    sb: Sandbox, attribute: str
) -> None:
    """Issue 24, S1: "To use a private hosted zone, you must set the following VPC attributes to true:
    enableDnsHostnames and enableDnsSupport" (EC2 API reference, CreateVpcEndpoint, PrivateDnsEnabled)."""
    vpc, a, _ = _vpc(sb)
    ec2 = sb.client("ec2")
    ec2.modify_vpc_attribute(VpcId=vpc, **{attribute: {"Value": False}})  # type: ignore[arg-type]
    with pytest.raises(ClientError) as exc:
        ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=STS, VpcEndpointType="Interface", SubnetIds=[a], PrivateDnsEnabled=True
        )
    assert _error(exc)[0] == "InvalidParameter"
    assert "enableDnsSupport and enableDnsHostnames" in _error(exc)[1]
    # Without private DNS it is accepted; with the attribute back on, so is private DNS.
    ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=STS, VpcEndpointType="Interface", SubnetIds=[a], PrivateDnsEnabled=False
    )
    ec2.modify_vpc_attribute(VpcId=vpc, **{attribute: {"Value": True}})  # type: ignore[arg-type]
    ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=LAMBDA, VpcEndpointType="Interface", SubnetIds=[a], PrivateDnsEnabled=True
    )
