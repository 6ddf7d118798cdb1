"""Issue 13, the network: one pure test per rule of AWS's the checks and plans used to misread.

Each is named after its item and fails on the code before the fix. Facts come from the fixtures of
tests/test_network_checks.py; the expected values come from the AWS pages named in each test, never
from the code under test.
"""

from __future__ import annotations

import pytest

from remediate import kafka, poller_paths
from remediate.facts import (
    ClusterAuth,
    EndpointService,
    NatGateway,
    Network,
    Route,
    SgRule,
    SourceAccess,
    Subnet,
    VpcZone,
)
from remediate.observe.builders import subnet_from_api
from remediate.run import playbook
from remediate.run.playbook import Playbook
from tests.test_network_checks import (
    HTTPS_FROM_SG,
    LOCAL,
    NETWORK_PLAYBOOKS,
    SECRET,
    SG,
    SUBNETS,
    codes,
    endpoint,
    facts,
    net,
    run,
    vpce_group,
)


@pytest.fixture(scope="module")
def books() -> list[Playbook]:
    # COULD_NOT_CHECK belongs to its own playbook: without it the engine drops those findings.
    return [b for b in playbook.load() if b.name in NETWORK_PLAYBOOKS | {"could-not-check"}]


def _services(plan: object) -> list[str]:
    return sorted(
        c.resource.rsplit(".", 1)[-1]
        for c in plan.changes  # type: ignore[attr-defined]
        if c.action == "create_vpc_endpoint"
    )


def _private_default_route(network: Network, target: str) -> Network:
    """The pollers' table with its default route sent to `target` instead of nat-1."""
    tables = [
        t.model_copy(update={"routes": (LOCAL, Route(destination="0.0.0.0/0", target=target))})
        if t.id == "rtb-private"
        else t
        for t in network.route_tables
    ]
    return network.model_copy(update={"route_tables": tuple(tables)})


# --- item 2: endpoint interfaces in subnets of their own -------------------------------------------

ENDPOINT_SUBNETS = (
    Subnet(id="subnet-ep-a", vpc_id="vpc-1", availability_zone="us-east-1a", cidr="10.0.50.0/24"),
    Subnet(id="subnet-ep-b", vpc_id="vpc-1", availability_zone="us-east-1b", cidr="10.0.51.0/24"),
)


def test_item_2_endpoint_groups_in_other_subnets_are_checked(books: list[Playbook]) -> None:
    """Lambda developer guide, MSK network configuration: the endpoints' security groups must admit 443
    from the event source's groups, wherever the endpoints' network interfaces are."""
    lam = endpoint("lambda").model_copy(update={"subnet_ids": ("subnet-ep-a", "subnet-ep-b")})
    sts = endpoint("sts").model_copy(update={"subnet_ids": ("subnet-ep-a", "subnet-ep-b")})
    network = net(nat=False, endpoints=(lam, sts), extra_groups=(vpce_group(),)).model_copy(
        update={"other_subnets": ENDPOINT_SUBNETS}
    )
    findings, plan = run(facts(network), books)
    assert codes(findings) == ["SERVICE_ENDPOINTS_UNREACHABLE"]
    assert any(
        "ENI in subnet-ep-a" not in p and "blocked by SG sg-vpce" in p for p in findings[0].evidence.paths
    )
    assert [(c.action, c.resource, c.after["FromPort"], c.after["PeerGroupId"]) for c in plan.changes] == [
        ("authorize_sg_ingress", "sg-vpce", 443, SG)
    ]


def test_item_2_an_endpoint_subnet_that_was_not_read_is_assumed_in_the_vpc(books: list[Playbook]) -> None:
    lam = endpoint("lambda").model_copy(update={"subnet_ids": ("subnet-unread",)})
    sts = endpoint("sts")
    network = net(nat=False, endpoints=(lam, sts), extra_groups=(vpce_group(),))
    findings, _ = run(facts(network), books)
    assert any(
        "(assuming" not in p and "vpce-lambda" in p and "blocked" in p for p in findings[0].evidence.paths
    )


# --- item 4: provisioned mode ----------------------------------------------------------------------


def test_item_4_provisioned_mode_calls_no_aws_service_from_the_vpc(books: list[Playbook]) -> None:
    """Lambda developer guide, self-managed Kafka network page: PrivateLink endpoints are required only
    in on-demand mode; the MSK page: the network requirements depend on the mode, polling does not."""
    closed_endpoint = endpoint("sts")
    network = net(
        nat=True,
        egress=(SgRule(protocol="tcp", from_port=9098, to_port=9098, group_id=SG),),
        endpoints=(closed_endpoint,),
        extra_groups=(vpce_group(),),
        dns=(True, False),
    )
    f = facts(network, provisioned_pollers=True)
    assert poller_paths.reaches_services_from_vpc(f) is False
    assert diagnose_codes(f, books) == []
    # ... while the brokers are polled the same way in both modes.
    assert diagnose_codes(facts(net(ingress=()), provisioned_pollers=True), books) == ["BROKER_PORTS_BLOCKED"]


def diagnose_codes(f: object, books: list[Playbook]) -> list[str]:
    findings, _ = run(f, books)  # type: ignore[arg-type]
    return codes(findings)


# --- item 6: the egress model ----------------------------------------------------------------------


def test_item_6_private_nat_gateway_has_no_internet_path(books: list[Playbook]) -> None:
    """Amazon VPC user guide, "NAT gateways": a private NAT gateway's traffic to an internet gateway is
    dropped, so its subnets still need endpoints."""
    network = net(nat=True).model_copy(
        update={
            "nat_gateways": (
                NatGateway(
                    id="nat-1", subnet_id="subnet-public", state="available", connectivity_type="private"
                ),
            )
        }
    )
    findings, plan = run(facts(network), books)
    assert codes(findings) == ["SERVICE_ENDPOINTS_UNREACHABLE"]
    assert _services(plan) == ["lambda", "sts"]
    assert any("is private" in p for p in findings[0].evidence.paths)


def test_item_6_public_nat_gateway_needs_its_subnets_route_to_an_internet_gateway(
    books: list[Playbook],
) -> None:
    network = net(nat=True)
    tables = tuple(t for t in network.route_tables if t.id != "rtb-public")
    findings, plan = run(facts(network.model_copy(update={"route_tables": tables})), books)
    assert codes(findings) == ["SERVICE_ENDPOINTS_UNREACHABLE"]
    assert _services(plan) == ["lambda", "sts"]


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("tgw-0123", "transit gateway"),
        ("vpce-0gwlb", "Gateway Load Balancer or firewall endpoint"),
        ("eni-0appliance", "network interface"),
        ("i-0natinstance", "instance"),
    ],
)
def test_item_6_egress_through_an_appliance_is_not_guessed(
    books: list[Playbook], target: str, kind: str
) -> None:
    """Where a transit gateway, firewall endpoint or appliance leads is not in the VPC's description:
    COULD_NOT_CHECK, and no endpoints planned on a guess."""
    findings, plan = run(facts(_private_default_route(net(nat=False), target)), books)
    assert codes(findings) == ["COULD_NOT_CHECK"]
    assert kind in findings[0].summary
    assert plan.changes == ()


def test_item_6_a_blackhole_nat_route_is_no_way_out(books: list[Playbook]) -> None:
    """EC2 API reference, Route: `blackhole` means the route's target is not available."""
    network = net(nat=True)
    tables = [
        t.model_copy(
            update={"routes": (LOCAL, Route(destination="0.0.0.0/0", target="nat-1", state="blackhole"))}
        )
        if t.id == "rtb-private"
        else t
        for t in network.route_tables
    ]
    findings, _ = run(facts(network.model_copy(update={"route_tables": tuple(tables)})), books)
    assert codes(findings) == ["SERVICE_ENDPOINTS_UNREACHABLE"]


def test_item_6_a_route_to_the_internet_gateway_is_no_way_out_for_the_pollers(books: list[Playbook]) -> None:
    """Lambda developer guide: a public subnet gives no internet access (no public IP)."""
    findings, _ = run(facts(_private_default_route(net(nat=False), "igw-1")), books)
    assert codes(findings) == ["SERVICE_ENDPOINTS_UNREACHABLE"]


# --- item 7: CreateVpcEndpoint preconditions ---------------------------------------------------------

OFFERED_EVERYWHERE = ("us-east-1a", "us-east-1b", "us-east-1c")


def _offered(**zones: tuple[str, ...]) -> tuple[EndpointService, ...]:
    return tuple(
        EndpointService(
            name=f"com.amazonaws.us-east-1.{s}",
            types=("Interface",),
            availability_zones=zones.get(s, OFFERED_EVERYWHERE),
            private_dns_name=f"{s}.us-east-1.amazonaws.com",
        )
        for s in ("lambda", "sts", "secretsmanager", "sqs", "sns")
    )


def test_item_7_private_hosted_zone_for_the_service_means_no_endpoint(books: list[Playbook]) -> None:
    """AWS refuses private DNS when a zone for the service's name is associated ("conflicting DNS
    domain"): the tool plans no Lambda endpoint and says it cannot check the central one."""
    network = net(nat=False).model_copy(
        update={
            "endpoint_services": _offered(),
            "zones": (VpcZone(id="Z1", name="lambda.us-east-1.amazonaws.com", owner="111122223333"),),
        }
    )
    findings, plan = run(facts(network), books)
    assert sorted(codes(findings)) == ["COULD_NOT_CHECK", "SERVICE_ENDPOINTS_UNREACHABLE"]
    assert _services(plan) == ["sts"]


def test_item_7_endpoint_subnets_only_in_zones_the_service_is_offered_in(books: list[Playbook]) -> None:
    network = net(nat=False).model_copy(update={"endpoint_services": _offered(sts=("us-east-1b",))})
    _, plan = run(facts(network), books)
    subnets = {
        c.resource.rsplit(".", 1)[-1]: c.after["SubnetIds"] for c in plan.changes if "SubnetIds" in c.after
    }
    assert subnets == {"lambda": ["subnet-a", "subnet-b"], "sts": ["subnet-b"]}


def test_item_7_service_offered_in_none_of_the_zones_is_a_manual_step(books: list[Playbook]) -> None:
    network = net(nat=False).model_copy(update={"endpoint_services": _offered(sts=("us-east-1f",))})
    _, plan = run(facts(network), books)
    assert _services(plan) == ["lambda"]
    assert any("No subnet of the pollers can take a sts endpoint" in m.text for m in plan.manual_steps)


def test_item_7_subnet_without_free_addresses_is_skipped(books: list[Playbook]) -> None:
    """EC2 error InsufficientFreeAddressesInSubnet: an endpoint needs a free address in each subnet."""
    full = tuple(s.model_copy(update={"available_ips": 0 if s.id == "subnet-a" else 100}) for s in SUBNETS)
    _, plan = run(facts(net(nat=False).model_copy(update={"subnets": full})), books)
    for change in plan.changes:
        if change.action == "create_vpc_endpoint":
            assert change.after["SubnetIds"] == ["subnet-a2", "subnet-b"]  # a2 is the other subnet in 1a


def test_item_7_interface_endpoint_quota_is_kept(books: list[Playbook]) -> None:
    """Amazon VPC quotas: interface and Gateway Load Balancer endpoints per VPC, 50 by default."""
    others = tuple(
        endpoint("ec2").model_copy(update={"id": f"vpce-other-{i}", "private_dns": False}) for i in range(49)
    )
    f = facts(
        net(nat=False, endpoints=others),
        source_access=(SourceAccess(type="SASL_SCRAM_512_AUTH", uri=SECRET),),
    )
    _, plan = run(f, books)
    assert _services(plan) == ["lambda"]  # the 50th; sts and secretsmanager would be refused
    assert sum("VpcEndpointLimitExceeded" in m.text for m in plan.manual_steps) == 2


# --- item 8: the rule quota ---------------------------------------------------------------------------

FILLER = tuple(
    SgRule(protocol="tcp", from_port=p, to_port=p, cidr="10.0.0.0/16") for p in range(20000, 20060)
)


def test_item_8_group_at_the_rule_quota_gets_a_manual_step_not_a_rule(books: list[Playbook]) -> None:
    """Amazon VPC quotas: 60 inbound rules per group, counted apart for IPv4 and IPv6; the 61st is refused
    (RulesPerSecurityGroupLimitExceeded)."""
    findings, plan = run(facts(net(ingress=FILLER)), books)
    assert codes(findings) == ["BROKER_PORTS_BLOCKED"]
    assert plan.changes == ()
    assert "RulesPerSecurityGroupLimitExceeded" in plan.manual_steps[0].text


def test_item_8_ipv6_rules_do_not_fill_the_ipv4_quota(books: list[Playbook]) -> None:
    v6 = tuple(
        SgRule(protocol="tcp", from_port=p, to_port=p, cidr="2600:1f18::/56") for p in range(20000, 20060)
    )
    _, plan = run(facts(net(ingress=(*FILLER[:59], *v6[:59]))), books)
    # 59 IPv4 and 59 IPv6 rules: a group-referencing rule counts in both and still fits.
    assert [c.action for c in plan.changes] == ["authorize_sg_ingress"]


# --- item 10: DNS attributes with private-DNS endpoints behind a NAT ---------------------------------


def test_item_10_private_dns_endpoints_need_dns_hostnames_behind_a_nat_too(books: list[Playbook]) -> None:
    """EC2 API reference, CreateVpcEndpoint: a private hosted zone needs enableDnsHostnames and
    enableDnsSupport."""
    network = net(
        nat=True,
        dns=(True, False),
        endpoints=(endpoint("lambda"), endpoint("sts")),
        extra_groups=(vpce_group(HTTPS_FROM_SG),),
    )
    findings, plan = run(facts(network), books)
    assert codes(findings) == ["VPC_DNS_DISABLED"]
    assert [next(iter(c.after)) for c in plan.changes] == ["EnableDnsHostnames"]


# --- item 16: IPv6 -------------------------------------------------------------------------------------


def test_item_16_ipv6_only_and_dual_stack_subnets_are_read() -> None:
    """EC2 API reference, Subnet: `CidrBlock` is absent in an IPv6-only subnet."""
    v6_only = subnet_from_api(
        {
            "SubnetId": "subnet-v6",
            "VpcId": "vpc-1",
            "AvailabilityZone": "us-east-1a",
            "AvailableIpAddressCount": 0,
            "Ipv6Native": True,
            "Ipv6CidrBlockAssociationSet": [
                {
                    "AssociationId": "subnet-cidr-assoc-1",
                    "Ipv6CidrBlock": "2600:1f18:1234:5601::/64",
                    "Ipv6CidrBlockState": {"State": "associated"},
                }
            ],
        }
    )
    assert (v6_only.cidr, v6_only.ipv6_cidrs, v6_only.address) == (
        "",
        ("2600:1f18:1234:5601::/64",),
        "2600:1f18:1234:5601::/64",
    )


def test_item_16_ipv6_only_subnets_do_not_crash_the_checks(books: list[Playbook]) -> None:
    v6 = Subnet(
        id="subnet-a", vpc_id="vpc-1", availability_zone="us-east-1a", cidr="", ipv6_cidrs=("2600:1f18::/64",)
    )
    network = net(nat=False).model_copy(update={"subnets": (v6,)})
    f = facts(
        network.model_copy(update={"placement": "source-access"}),
        source_kind="self-managed",
        event_source_arn=None,
        bootstrap_servers=("b-1.kafka.example:9092",),
    )
    findings, _ = run(f.model_copy(update={"cluster": None}), books)
    assert "COULD_NOT_CHECK" in codes(findings)  # its way out to AWS is not modelled: said, not guessed


def test_item_16_msk_ipv6_ports_apply_to_dual_stack_clusters_only() -> None:
    """MSK developer guide, "Port information": IPv6 clients use 20092/20094/20096/20098; only a DUAL
    cluster has IPv6 listeners ("Configure dual-stack network type")."""
    f = facts(net())
    assert f.cluster is not None
    assert kafka.ipv6_port(f.esm, f.cluster) is None
    dual = f.cluster.model_copy(update={"network_type": "DUAL"})
    assert kafka.ipv6_port(f.esm, dual) == 20098
    scram = dual.model_copy(update={"auth": ClusterAuth(scram=True)})
    esm = f.esm.model_copy(update={"source_access": (SourceAccess(type="SASL_SCRAM_512_AUTH", uri=SECRET),)})
    assert kafka.ipv6_port(esm, scram) == 20096
    plain = dual.model_copy(
        update={"auth": ClusterAuth(unauthenticated=True), "client_broker_encryption": "PLAINTEXT"}
    )
    assert kafka.ipv6_port(f.esm, plain) == 20092


def test_item_16_dual_stack_cluster_keeps_checking_the_ipv4_listener(books: list[Playbook]) -> None:
    f = facts(net(ingress=()))
    assert f.cluster is not None
    findings, _ = run(
        f.model_copy(update={"cluster": f.cluster.model_copy(update={"network_type": "DUAL"})}), books
    )
    assert findings[0].evidence.ports == (9098,)
    assert any("IPv6 listener is tcp/20098" in p for p in findings[0].evidence.paths)


def test_item_7_free_address_counts_change_the_fingerprint_only_when_they_reach_zero() -> None:
    """Counts move with every interface in a subnet; a saved plan is stale only when one runs out."""
    base = facts(net(nat=False))

    def with_free(n: int) -> str:
        subnets = tuple(s.model_copy(update={"available_ips": n}) for s in SUBNETS)
        network = base.network.model_copy(update={"subnets": subnets})  # type: ignore[union-attr]
        return base.model_copy(update={"network": network}).fingerprint()

    assert with_free(200) == with_free(12)
    assert with_free(12) != with_free(0)
