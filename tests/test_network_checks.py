"""Pure tests of the network checks, the reachability evaluator and the network actions' planning."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remediate.facts import (
    Facts,
    Nacl,
    NaclEntry,
    NatGateway,
    Network,
    Route,
    RouteTable,
    SecurityGroup,
    SgRule,
    SourceAccess,
    Subnet,
    Vpc,
    VpcEndpoint,
)
from remediate.findings import Finding
from remediate.plan import Plan
from remediate.reachability import Peer, evaluate, nacl_denial
from remediate.run import playbook
from remediate.run.engine import build_plan, diagnose
from remediate.run.playbook import Playbook
from tests import factories

SG = "sg-cluster"
VPC = "vpc-1"
SUBNETS = (
    Subnet(id="subnet-a", vpc_id=VPC, availability_zone="us-east-1a", cidr="10.0.1.0/24"),
    Subnet(id="subnet-a2", vpc_id=VPC, availability_zone="us-east-1a", cidr="10.0.4.0/24"),
    Subnet(id="subnet-b", vpc_id=VPC, availability_zone="us-east-1b", cidr="10.0.2.0/24"),
)
ALL_OUT = SgRule(protocol="-1", cidr="0.0.0.0/0")
SELF_BROKERS = SgRule(protocol="tcp", from_port=9092, to_port=9098, group_id=SG)
LOCAL = Route(destination="10.0.0.0/16", target="local")
PUBLIC_TABLE = RouteTable(
    id="rtb-public",
    subnet_ids=("subnet-public",),
    routes=(LOCAL, Route(destination="0.0.0.0/0", target="igw-1")),
)
"""The NAT gateway's own subnet routes to the internet gateway, as a public NAT gateway needs."""
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:AmazonMSK_x"
NETWORK_PLAYBOOKS = frozenset({"broker-ports", "service-endpoints", "vpc-dns"})


@pytest.fixture(scope="module")
def books() -> list[Playbook]:
    return [b for b in playbook.load() if b.name in NETWORK_PLAYBOOKS]


def _open_nacl() -> Nacl:
    return Nacl(
        id="acl-1",
        subnet_ids=tuple(s.id for s in SUBNETS),
        entries=(
            NaclEntry(rule_number=100, egress=False, allow=True, protocol="-1", cidr="0.0.0.0/0"),
            NaclEntry(rule_number=100, egress=True, allow=True, protocol="-1", cidr="0.0.0.0/0"),
        ),
    )


def net(
    *,
    ingress: tuple[SgRule, ...] = (SELF_BROKERS,),
    egress: tuple[SgRule, ...] = (ALL_OUT,),
    nat: bool = True,
    explicit_table: bool = True,
    nacl: Nacl | None = None,
    endpoints: tuple[VpcEndpoint, ...] = (),
    extra_groups: tuple[SecurityGroup, ...] = (),
    dns: tuple[bool, bool] = (True, True),
    placement: str = "cluster",
) -> Network:
    routes = (LOCAL, Route(destination="0.0.0.0/0", target="nat-1")) if nat else (LOCAL,)
    table = RouteTable(
        id="rtb-private",
        subnet_ids=tuple(s.id for s in SUBNETS) if explicit_table else (),
    )
    return Network(
        placement=placement,  # type: ignore[arg-type]
        vpc=Vpc(id=VPC, cidr="10.0.0.0/16", dns_support=dns[0], dns_hostnames=dns[1]),
        subnets=SUBNETS,
        source_security_group_ids=(SG,),
        security_groups=(SecurityGroup(id=SG, vpc_id=VPC, ingress=ingress, egress=egress), *extra_groups),
        route_tables=(
            table.model_copy(update={"routes": routes}),
            RouteTable(id="rtb-main", main=True, routes=(LOCAL,)),
            PUBLIC_TABLE,
        ),
        nacls=(nacl or _open_nacl(),),
        nat_gateways=(NatGateway(id="nat-1", subnet_id="subnet-public", state="available"),),
        endpoints=endpoints,
    )


def facts(network: Network, **esm: Any) -> Facts:
    base = factories.facts()
    cluster = base.cluster.model_copy(update={"subnet_ids": tuple(s.id for s in SUBNETS)})  # type: ignore[union-attr]
    return factories.facts(esm=factories.esm(**esm), network=network, cluster=cluster)


def run(f: Facts, books: list[Playbook]) -> tuple[list[Finding], Plan]:
    findings = diagnose(f, books)
    return findings, build_plan(f, findings, books)


def codes(findings: list[Finding]) -> list[str]:
    return [x.code for x in findings]


def endpoint(service: str, group: str = "sg-vpce", *, private_dns: bool = True) -> VpcEndpoint:
    return VpcEndpoint(
        id=f"vpce-{service}",
        service_name=f"com.amazonaws.us-east-1.{service}",
        type="Interface",
        state="available",
        subnet_ids=("subnet-a", "subnet-b"),
        security_group_ids=(group,),
        private_dns=private_dns,
    )


def vpce_group(*ingress: SgRule, gid: str = "sg-vpce", name: str = "endpoints") -> SecurityGroup:
    return SecurityGroup(id=gid, name=name, vpc_id=VPC, ingress=ingress, egress=(ALL_OUT,))


HTTPS_FROM_SG = SgRule(protocol="tcp", from_port=443, to_port=443, group_id=SG)


# --- broker ports ---------------------------------------------------------------------------------


def test_healthy_network_has_no_network_findings(books: list[Playbook]) -> None:
    assert diagnose(facts(net()), books) == []


def test_missing_self_ingress_adds_one_self_referencing_rule(books: list[Playbook]) -> None:
    findings, plan = run(facts(net(ingress=())), books)
    assert codes(findings) == ["BROKER_PORTS_BLOCKED"]
    assert "blocked by SG sg-cluster: no ingress rule allows tcp/9098" in findings[0].evidence.paths[0]
    assert [(c.action, c.resource, c.after["FromPort"], c.after["PeerGroupId"]) for c in plan.changes] == [
        ("authorize_sg_ingress", SG, 9098, SG)
    ]


SCRAM = SourceAccess(type="SASL_SCRAM_512_AUTH", uri=SECRET)
MTLS = SourceAccess(type="CLIENT_CERTIFICATE_TLS_AUTH", uri=SECRET)


@pytest.mark.parametrize(
    ("access", "auth", "encryption", "port"),
    [
        # Lambda developer guide, "How Lambda chooses a bootstrap broker": a secret decides, mTLS first;
        # without one, SASL/IAM, then unauthenticated TLS, then plaintext; never SCRAM without a secret.
        ((SCRAM,), {"scram": True}, "TLS", 9096),
        ((MTLS,), {"tls": True}, "TLS", 9094),
        ((SCRAM, MTLS), {"scram": True, "tls": True}, "TLS", 9094),
        ((MTLS,), {"tls": True, "iam": True}, "TLS", 9094),
        ((), {"iam": True, "scram": True}, "TLS", 9098),
        ((), {"scram": True, "unauthenticated": True}, "TLS", 9094),
        ((), {"unauthenticated": True}, "TLS_PLAINTEXT", 9094),
        ((), {"unauthenticated": True}, "PLAINTEXT", 9092),
        ((), {"scram": True}, "TLS_PLAINTEXT", 9092),
    ],
)
def test_broker_port_and_auth_follow_lambdas_documented_order(
    books: list[Playbook], access: tuple[SourceAccess, ...], auth: dict[str, bool], encryption: str, port: int
) -> None:
    """Issue 13, item 3: the port checked is the one of the listener Lambda actually uses."""
    from remediate.facts import ClusterAuth

    f = facts(net(ingress=()), source_access=access)
    cluster = f.cluster.model_copy(  # type: ignore[union-attr]
        update={"auth": ClusterAuth(**auth), "client_broker_encryption": encryption}
    )
    findings, _ = run(f.model_copy(update={"cluster": cluster}), books)
    assert findings[0].evidence.ports == (port,)


def test_missing_egress_to_brokers_adds_egress_to_the_cluster_group(books: list[Playbook]) -> None:
    https_out = SgRule(protocol="tcp", from_port=443, to_port=443, cidr="0.0.0.0/0")
    _, plan = run(facts(net(egress=(https_out,))), books)
    assert [(c.action, c.after["FromPort"], c.after["PeerGroupId"]) for c in plan.changes] == [
        ("authorize_sg_egress", 9098, SG)
    ]


def test_self_managed_brokers_given_by_address_get_one_rule_each(books: list[Playbook]) -> None:
    https_out = SgRule(protocol="tcp", from_port=443, to_port=443, cidr="0.0.0.0/0")
    to_first = SgRule(protocol="tcp", from_port=9092, to_port=9092, cidr="10.0.1.10/32")
    f = facts(
        net(egress=(https_out, to_first), placement="source-access"),
        source_kind="self-managed",
        event_source_arn=None,
        bootstrap_servers=("10.0.1.10:9092", "10.0.2.10:9092"),
    )
    _, plan = run(f.model_copy(update={"cluster": None}), books)
    assert [(c.action, c.after["CidrIp"]) for c in plan.changes] == [("authorize_sg_egress", "10.0.2.10/32")]


def test_no_https_egress_through_nat_is_a_manual_step_not_an_open_rule(books: list[Playbook]) -> None:
    self_out = SgRule(protocol="tcp", from_port=9098, to_port=9098, group_id=SG)
    findings, plan = run(facts(net(egress=(self_out,))), books)
    assert codes(findings) == ["BROKER_PORTS_BLOCKED"]
    assert plan.changes == ()
    assert "authorize-security-group-egress --group-id sg-cluster" in plan.manual_steps[0].text


def test_nacl_deny_between_subnets_is_a_manual_step_naming_the_rule(books: list[Playbook]) -> None:
    deny = NaclEntry(
        rule_number=50,
        egress=False,
        allow=False,
        protocol="6",
        cidr="10.0.0.0/16",
        from_port=9098,
        to_port=9098,
    )
    base = _open_nacl()
    findings, plan = run(facts(net(nacl=base.model_copy(update={"entries": (deny, *base.entries)}))), books)
    assert codes(findings) == ["BROKER_PORTS_BLOCKED"]
    assert plan.changes == ()
    assert "blocked by NACL acl-1: inbound rule 50 denies tcp/9098" in findings[0].evidence.paths[0]
    assert "--rule-number 49" in plan.manual_steps[0].text
    assert "--ingress" in plan.manual_steps[0].text


def test_nacl_without_ephemeral_return_is_blocked() -> None:
    nacl = Nacl(
        id="acl-2",
        entries=(
            NaclEntry(
                rule_number=100,
                egress=True,
                allow=True,
                protocol="6",
                cidr="0.0.0.0/0",
                from_port=9098,
                to_port=9098,
            ),
            NaclEntry(
                rule_number=110,
                egress=True,
                allow=True,
                protocol="6",
                cidr="0.0.0.0/0",
                from_port=1024,
                to_port=2000,
            ),
        ),
    )
    denial = nacl_denial(nacl, True, (1024, 65535), "10.0.1.0/24")
    assert denial is not None
    assert denial.rule_number is None  # the implicit final deny
    assert denial.ports == (2001, 9097)  # the first gap: 9098 is allowed by rule 100
    assert nacl_denial(nacl, True, (9098, 9098), "10.0.1.0/24") is None


def test_traffic_within_one_subnet_crosses_no_nacl() -> None:
    closed = Nacl(id="acl-closed", subnet_ids=("subnet-a",))
    network = net(nacl=closed)
    src = Peer("eni", "10.0.1.0/24", "subnet-a", (SG,))
    assert evaluate(network, src, Peer("broker", "10.0.1.0/24", "subnet-a", (SG,)), 9098).allowed
    assert not evaluate(network, src, Peer("broker", "10.0.2.0/24", "subnet-b", (SG,)), 9098).allowed


def test_a_path_evaluated_on_a_network_is_evaluated_afresh_on_a_copy_with_other_rules() -> None:
    """Paths are remembered per network (issue 26: a scan's mappings of one cluster share it); a copy
    whose NACLs or groups differ (as `model_copy` makes, which copies what a network remembers) must not
    be answered from the original's memory, and the original's answer stays its own."""
    open_net = net()
    src = Peer("eni", "10.0.1.0/24", "subnet-a", (SG,))
    dst = Peer("broker", "10.0.2.0/24", "subnet-b", (SG,))
    assert evaluate(open_net, src, dst, 9098).allowed
    closed_nacl = open_net.model_copy(update={"nacls": (Nacl(id="acl-closed", subnet_ids=("subnet-b",)),)})
    assert not evaluate(closed_nacl, src, dst, 9098).allowed
    no_groups = open_net.model_copy(update={"security_groups": ()})
    assert not evaluate(no_groups, src, dst, 9098).allowed
    assert evaluate(open_net, src, dst, 9098).allowed
    # What a network remembers does not change what it equals (nor make `==` recurse).
    other = net()
    evaluate(other, src, dst, 9098)
    assert other == open_net
    assert no_groups != open_net


def test_self_managed_egress_is_opened_to_the_vpc_cidr_at_most(books: list[Playbook]) -> None:
    https_out = SgRule(protocol="tcp", from_port=443, to_port=443, cidr="0.0.0.0/0")
    f = facts(
        net(egress=(https_out,), placement="source-access"),
        source_kind="self-managed",
        event_source_arn=None,
        bootstrap_servers=("b-1.kafka.example:9092", "b-2.kafka.example:9092"),
    )
    findings, plan = run(f.model_copy(update={"cluster": None}), books)
    assert codes(findings) == ["BROKER_PORTS_BLOCKED"]
    assert [(c.action, c.after["FromPort"], c.after["CidrIp"]) for c in plan.changes] == [
        ("authorize_sg_egress", 9092, "10.0.0.0/16")
    ]


# --- service endpoints ----------------------------------------------------------------------------


def _services(plan: Plan) -> list[str]:
    return sorted(c.resource.rsplit(".", 1)[-1] for c in plan.changes if c.action == "create_vpc_endpoint")


def test_nat_route_needs_no_endpoints(books: list[Playbook]) -> None:
    assert (
        diagnose(
            facts(net(nat=True), source_access=(SourceAccess(type="SASL_SCRAM_512_AUTH", uri=SECRET),)), books
        )
        == []
    )


def test_main_route_table_is_used_without_an_explicit_association(books: list[Playbook]) -> None:
    network = net(nat=False, explicit_table=False)
    main = network.route_tables[1].model_copy(
        update={"routes": (LOCAL, Route(destination="0.0.0.0/0", target="nat-1"))}
    )
    assert (
        diagnose(facts(network.model_copy(update={"route_tables": (network.route_tables[0], main)})), books)
        == []
    )


def test_no_nat_plans_a_group_and_an_endpoint_per_service(books: list[Playbook]) -> None:
    f = facts(
        net(nat=False),
        source_access=(SourceAccess(type="SASL_SCRAM_512_AUTH", uri=SECRET),),
        on_failure_destination="arn:aws:sqs:us-east-1:123456789012:failures",
    )
    findings, plan = run(f, books)
    assert codes(findings) == ["SERVICE_ENDPOINTS_UNREACHABLE"]
    assert _services(plan) == ["lambda", "secretsmanager", "sqs", "sts"]
    group = plan.changes[0]
    assert (group.id, group.action) == ("c1", "create_security_group")
    assert group.after["Ingress"][0]["SourceGroupId"] == SG
    for change in plan.changes[1:]:
        assert change.after["SecurityGroupIds"] == ["${c1.GroupId}"]
        assert change.after["PrivateDnsEnabled"] is True
        assert change.after["SubnetIds"] == ["subnet-a", "subnet-b"]  # one per AZ
    assert any("blocked by route rtb-private" in p for p in findings[0].evidence.paths)


def test_s3_destination_gets_a_gateway_endpoint(books: list[Playbook]) -> None:
    f = facts(net(nat=False), on_failure_destination="arn:aws:s3:::failures")
    _, plan = run(f, books)
    (gateway,) = [c for c in plan.changes if c.resource.endswith(".s3")]
    assert gateway.after["VpcEndpointType"] == "Gateway"
    assert gateway.after["RouteTableIds"] == ["rtb-private"]


def test_provisioned_mode_needs_no_endpoints(books: list[Playbook]) -> None:
    assert diagnose(facts(net(nat=False, dns=(True, False)), provisioned_pollers=True), books) == []


def test_existing_endpoint_group_that_admits_443_is_reused(books: list[Playbook]) -> None:
    network = net(nat=False, endpoints=(endpoint("lambda"),), extra_groups=(vpce_group(HTTPS_FROM_SG),))
    _, plan = run(facts(network), books)
    assert [c.action for c in plan.changes] == ["create_vpc_endpoint"]
    assert plan.changes[0].after["SecurityGroupIds"] == ["sg-vpce"]


def test_endpoint_whose_group_blocks_443_gets_only_the_rule(books: list[Playbook]) -> None:
    network = net(nat=False, endpoints=(endpoint("lambda"), endpoint("sts")), extra_groups=(vpce_group(),))
    findings, plan = run(facts(network), books)
    assert codes(findings) == ["SERVICE_ENDPOINTS_UNREACHABLE"]
    assert [(c.action, c.resource, c.after["FromPort"], c.after["PeerGroupId"]) for c in plan.changes] == [
        ("authorize_sg_ingress", "sg-vpce", 443, SG)
    ]
    assert any(
        "lambda endpoint vpce-lambda tcp/443: blocked by SG sg-vpce" in p for p in findings[0].evidence.paths
    )


def test_blocked_private_dns_endpoint_matters_even_with_a_nat(books: list[Playbook]) -> None:
    network = net(nat=True, endpoints=(endpoint("sts"),), extra_groups=(vpce_group(),))
    _, plan = run(facts(network), books)
    assert [(c.action, c.resource) for c in plan.changes] == [("authorize_sg_ingress", "sg-vpce")]


def test_group_left_by_an_earlier_run_is_found_by_name(books: list[Playbook]) -> None:
    ours = vpce_group(gid="sg-ours", name="remediate-endpoints-vpc-1")
    _, plan = run(facts(net(nat=False, extra_groups=(ours,))), books)
    assert "create_security_group" not in [c.action for c in plan.changes]
    assert ("authorize_sg_ingress", "sg-ours") in [(c.action, c.resource) for c in plan.changes]
    assert {
        tuple(c.after["SecurityGroupIds"]) for c in plan.changes if c.action == "create_vpc_endpoint"
    } == {("sg-ours",)}


def test_egress_to_new_endpoints_is_added_when_the_source_group_lacks_it(books: list[Playbook]) -> None:
    self_out = SgRule(protocol="tcp", from_port=9098, to_port=9098, group_id=SG)
    _, plan = run(facts(net(nat=False, egress=(self_out,))), books)
    (egress,) = [c for c in plan.changes if c.action == "authorize_sg_egress"]
    assert egress.after["PeerGroupId"] == "${c1.GroupId}"
    assert egress.after["PeerGroupName"] == "remediate-endpoints-vpc-1"


def test_endpoint_without_private_dns_is_a_manual_step(books: list[Playbook]) -> None:
    network = net(
        nat=False,
        endpoints=(endpoint("lambda", private_dns=False), endpoint("sts")),
        extra_groups=(vpce_group(HTTPS_FROM_SG),),
    )
    findings, plan = run(facts(network), books)
    assert codes(findings) == ["SERVICE_ENDPOINTS_UNREACHABLE"]
    assert any("private DNS is off" in p for p in findings[0].evidence.paths)
    assert plan.changes == ()  # no contract action modifies an endpoint: a person does
    assert "--private-dns-enabled" in plan.manual_steps[0].text


# --- VPC DNS --------------------------------------------------------------------------------------


def test_dns_off_plans_one_change_per_attribute(books: list[Playbook]) -> None:
    network = net(
        nat=False,
        dns=(False, False),
        endpoints=(endpoint("lambda"), endpoint("sts")),
        extra_groups=(vpce_group(HTTPS_FROM_SG),),
    )
    findings, plan = run(facts(network), books)
    assert codes(findings) == ["VPC_DNS_DISABLED"]
    assert sorted((c.action, next(iter(c.after))) for c in plan.changes) == [
        ("modify_vpc_attribute", "EnableDnsHostnames"),
        ("modify_vpc_attribute", "EnableDnsSupport"),
    ]


def test_dns_off_does_not_matter_behind_a_nat(books: list[Playbook]) -> None:
    assert diagnose(facts(net(nat=True, dns=(True, False))), books) == []


# --- property: the tool never opens a group to the internet -----------------------------------------

PORTS = st.sampled_from([None, 443, 9092, 9094, 9096, 9098])
PEERS = st.sampled_from(
    ["0.0.0.0/0", "10.0.0.0/16", "10.0.1.0/24", "192.168.0.0/16", "::/0", SG, "sg-vpce", "sg-other"]
)


@st.composite
def rules(draw: st.DrawFn) -> SgRule:
    port = draw(PORTS)
    peer = draw(PEERS)
    where = {"group_id": peer} if peer.startswith("sg-") else {"cidr": peer}
    if port is None:
        return SgRule.model_validate({"protocol": "-1", **where})
    return SgRule.model_validate({"protocol": "tcp", "from_port": port, "to_port": port, **where})


@settings(max_examples=150, deadline=None)
@given(
    ingress=st.lists(rules(), max_size=4),
    egress=st.lists(rules(), max_size=4),
    vpce_ingress=st.lists(rules(), max_size=3),
    nat=st.booleans(),
    existing=st.sets(st.sampled_from(["lambda", "sts", "secretsmanager", "sqs"])),
    secret=st.booleans(),
    self_managed=st.booleans(),
)
def test_planned_rules_never_open_to_the_internet(
    ingress: list[SgRule],
    egress: list[SgRule],
    vpce_ingress: list[SgRule],
    nat: bool,
    existing: set[str],
    secret: bool,
    self_managed: bool,
) -> None:
    books = [b for b in playbook.load() if b.name in NETWORK_PLAYBOOKS]
    network = net(
        ingress=tuple(ingress),
        egress=tuple(egress),
        nat=nat,
        endpoints=tuple(endpoint(s) for s in sorted(existing)),
        extra_groups=(vpce_group(*vpce_ingress),),
        placement="source-access" if self_managed else "cluster",
    )
    access = (SourceAccess(type="SASL_SCRAM_512_AUTH", uri=SECRET),) if secret else ()
    extra: dict[str, Any] = (
        {"source_kind": "self-managed", "event_source_arn": None, "bootstrap_servers": ("b-1.example:9092",)}
        if self_managed
        else {}
    )
    f = facts(network, source_access=access, **extra)
    if self_managed:
        f = f.model_copy(update={"cluster": None})
    _, plan = run(f, books)
    vpc = ipaddress.ip_network("10.0.0.0/16")
    for change in plan.changes:
        after = change.after
        if change.action in ("authorize_sg_ingress", "authorize_sg_egress"):
            if "CidrIp" in after:
                assert ipaddress.ip_network(after["CidrIp"]).subnet_of(vpc)  # type: ignore[arg-type]
            else:
                assert after["PeerGroupId"].startswith(("sg-", "${"))
        if change.action == "create_security_group":
            assert all(set(r) >= {"SourceGroupId"} and "CidrIp" not in r for r in after["Ingress"])
    # No change is planned twice (two findings needing one rule share one change).
    assert len({(c.action, c.resource, str(c.after)) for c in plan.changes}) == len(plan.changes)
