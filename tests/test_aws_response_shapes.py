"""AWS's own example responses, through `remediate/observe/builders.py` and the network model.

The fixtures (tests/fixtures/aws, see its README) are the AWS CLI Command Reference's published example
outputs, plus three shapes AWS publishes no example of, built from the EC2 API reference's members only.
None comes from the sandbox, so a builder that only understands the sandbox's answers fails here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from remediate.egress import egress_of
from remediate.facts import Network, Vpc
from remediate.observe.builders import (
    endpoint_service_from_api,
    nat_gateway_from_api,
    route_table_from_api,
    security_group_rule_from_api,
    subnet_from_api,
    vpc_endpoint_from_api,
)

FIXTURES = Path(__file__).parent / "fixtures" / "aws"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def test_describe_subnets_example_reads_cidr_zone_and_free_addresses() -> None:
    (subnet, _) = [subnet_from_api(s) for s in load("DescribeSubnets-example-1")["Subnets"]]
    assert (subnet.id, subnet.cidr, subnet.availability_zone, subnet.available_ips) == (
        "subnet-0bb1c79de3EXAMPLE",
        "172.31.80.0/20",
        "us-east-1d",
        4089,
    )
    assert subnet.ipv6_cidrs == ()


def test_describe_subnets_ipv6_only_and_dual_stack() -> None:
    v6_only, dual = (subnet_from_api(s) for s in load("DescribeSubnets-shape-ipv6")["Subnets"])
    assert (v6_only.cidr, v6_only.ipv6_cidrs, v6_only.address) == (
        "",
        ("2600:1f18:1234:5601::/64",),
        "2600:1f18:1234:5601::/64",
    )
    # A disassociated block is not the subnet's any more.
    assert (dual.cidr, dual.ipv6_cidrs, dual.address) == (
        "10.0.2.0/24",
        ("2600:1f18:1234:5602::/64",),
        "10.0.2.0/24",
    )


def test_describe_route_tables_example_blackhole_nat_and_internet_gateway() -> None:
    tables = [route_table_from_api(t) for t in load("DescribeRouteTables-example-1")["RouteTables"]]
    main = tables[0]
    assert main.main
    assert [(r.destination, r.target, r.state) for r in main.routes] == [
        ("10.0.0.0/16", "local", "active"),
        ("0.0.0.0/0", "nat-06c018cbd8EXAMPLE", "blackhole"),
    ]
    assert tables[2].subnet_ids == ("subnet-0d3d002af8EXAMPLE",)
    network = Network(placement="cluster", route_tables=(main,))
    way = egress_of(network, "subnet-any")  # the main table applies to a subnet without its own
    assert way.kind == "none"
    assert "blackhole" in way.detail


def test_describe_route_tables_appliance_targets() -> None:
    tables = tuple(
        route_table_from_api(t) for t in load("DescribeRouteTables-shape-appliances")["RouteTables"]
    )
    network = Network(
        placement="cluster",
        vpc=Vpc(id="vpc-0065acced4EXAMPLE", cidr="10.0.0.0/16", dns_support=True, dns_hostnames=True),
        route_tables=tables,
    )
    seen = {t.subnet_ids[0]: egress_of(network, t.subnet_ids[0]) for t in tables}
    assert {sid: (e.kind, e.target) for sid, e in seen.items()} == {
        "subnet-0tgwEXAMPLE": ("appliance", "tgw-0123456789EXAMPLE"),
        "subnet-0gwlbEXAMPLE": ("appliance", "vpce-aabbaabbaabbaabba"),
        "subnet-0eniEXAMPLE": ("appliance", "eni-09cc4b2558EXAMPLE"),
        "subnet-0natiEXAMPLE": ("appliance", "i-0123456789EXAMPLE"),
    }


def test_describe_nat_gateways_public_and_private() -> None:
    (public,) = [nat_gateway_from_api(n) for n in load("DescribeNatGateways-example-1")["NatGateways"]]
    (private,) = [nat_gateway_from_api(n) for n in load("DescribeNatGateways-example-2")["NatGateways"]]
    assert (public.id, public.subnet_id, public.state, public.connectivity_type) == (
        "nat-01234567890abcdef",
        "subnet-655eab5f08EXAMPLE",
        "available",
        "public",
    )
    assert (private.id, private.connectivity_type) == ("nat-1234567890abcdef0", "private")


def test_describe_vpc_endpoints_gateway_interface_and_gateway_load_balancer() -> None:
    gateway, interface, gwlb = (
        vpc_endpoint_from_api(e) for e in load("DescribeVpcEndpoints-example-1")["VpcEndpoints"]
    )
    assert (gateway.type, gateway.route_table_ids, gateway.subnet_ids, gateway.live) == (
        "Gateway",
        ("rtb-3d560345",),
        (),
        True,
    )
    assert gateway.policy == {
        "Version": "2008-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
    }
    assert (interface.type, interface.subnet_ids, interface.security_group_ids, interface.private_dns) == (
        "Interface",
        ("subnet-d6fcaa8d", "subnet-7b16de0c"),
        ("sg-54e8bf31",),
        False,
    )
    assert interface.policy is not None
    assert interface.policy["Statement"][0]["Action"] == "*"
    # No Groups and no PolicyDocument in a Gateway Load Balancer endpoint.
    assert (gwlb.type, gwlb.security_group_ids, gwlb.policy, gwlb.subnet_ids) == (
        "GatewayLoadBalancer",
        (),
        None,
        ("subnet-0011aabbcc2233445",),
    )


def test_describe_security_group_rules_one_peer_each() -> None:
    rules = [
        security_group_rule_from_api(r)
        for r in load("DescribeSecurityGroupRules-example-1")["SecurityGroupRules"]
    ]
    assert [(egress, r.protocol, r.group_id, r.cidr, r.rule_id) for egress, r in rules] == [
        (False, "-1", "sg-1234567890abcdef0", None, "sgr-abcdef01234567890"),
        (True, "-1", None, "::/0", "sgr-bcdef01234567890a"),
        (True, "-1", None, "0.0.0.0/0", "sgr-cdef01234567890ab"),
    ]
    assert all(r.covers_port(443) for _, r in rules)  # protocol -1 is every port


def test_describe_vpc_endpoint_services_zones_types_and_private_names() -> None:
    services = {
        s.name: s
        for s in map(
            endpoint_service_from_api, load("DescribeVpcEndpointServices-example-1")["ServiceDetails"]
        )
    }
    ssm = services["com.amazonaws.us-east-1.ssm"]
    assert ssm.types == ("Interface",)
    assert "us-east-1f" not in ssm.availability_zones  # offered in five of the six zones
    assert ssm.private_dns_name == "ssm.us-east-1.amazonaws.com"
    assert services["com.amazonaws.us-east-1.dynamodb"].types == ("Gateway",)
    assert services["com.amazonaws.us-east-1.dynamodb"].private_dns_name is None
    (s3,) = map(endpoint_service_from_api, load("DescribeVpcEndpointServices-example-2")["ServiceDetails"])
    assert (s3.types, s3.private_dns_name, len(s3.availability_zones)) == (("Interface",), None, 6)
