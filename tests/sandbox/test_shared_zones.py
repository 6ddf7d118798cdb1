"""Issue 24 (S6): a private hosted zone of another account (a hub) associated with a VPC is listed by
ListHostedZonesByVPC with its OwningAccount ("regardless of which AWS account ... owns the hosted zones"),
and it makes CreateVpcEndpoint refuse a private-DNS endpoint for its name there, as one of the VPC's own
account does (moto looked at the caller's account only)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from remediate.sandbox import Sandbox
from tests.sandbox.test_cross_account_secrets import owner_client
from tests.sandbox.test_gaps import make_network


def test_a_hub_accounts_zone_is_listed_and_holds_the_name(sb: Sandbox) -> None:
    vpc, subnets, sg = make_network(sb)
    ec2 = sb.client("ec2")
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    hub = owner_client(sb, "route53")
    zone = hub.create_hosted_zone(
        Name="lambda.us-east-1.amazonaws.com",
        CallerReference="gap-s6",
        VPC={"VPCRegion": "us-east-1", "VPCId": vpc},
        HostedZoneConfig={"Comment": "hub", "PrivateZone": True},
    )["HostedZone"]["Id"]
    listed = sb.client("route53").list_hosted_zones_by_vpc(VPCId=vpc, VPCRegion="us-east-1")
    (found,) = listed["HostedZoneSummaries"]
    assert zone.endswith(found["HostedZoneId"])
    assert found["Owner"]["OwningAccount"] == "444455556666"
    with pytest.raises(ClientError) as refused:
        ec2.create_vpc_endpoint(
            VpcId=vpc,
            ServiceName="com.amazonaws.us-east-1.lambda",
            VpcEndpointType="Interface",
            SubnetIds=subnets[:1],
            SecurityGroupIds=[sg],
            PrivateDnsEnabled=True,
        )
    assert "conflicting DNS domain" in refused.value.response["Error"]["Message"]
