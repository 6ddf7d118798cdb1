"""Issue 24 (N16): the EC2 describe calls remediate reads VPC-wide return at most MaxResults items and a
NextToken for the rest (moto answered every item at once)."""

from __future__ import annotations

from remediate.sandbox import Sandbox


def test_describe_route_tables_pages_by_max_results(sb: Sandbox) -> None:
    ec2 = sb.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    made = {ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _ in range(6)}
    by_vpc = [{"Name": "vpc-id", "Values": [vpc]}]
    first = ec2.describe_route_tables(Filters=by_vpc, MaxResults=5)
    assert len(first["RouteTables"]) == 5
    second = ec2.describe_route_tables(Filters=by_vpc, MaxResults=5, NextToken=first["NextToken"])
    assert "NextToken" not in second
    seen = {t["RouteTableId"] for t in first["RouteTables"] + second["RouteTables"]}
    assert made < seen  # the six, and the VPC's main table
    assert len(seen) == 7
    assert len(ec2.describe_route_tables(Filters=by_vpc)["RouteTables"]) == 7
