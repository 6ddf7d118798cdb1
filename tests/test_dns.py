"""Broker name resolution: the local resolver (no network needed), the broker_dns check on fixtures,
and the Route 53 private-zone scenario end to end (plan, apply, converge)."""

from __future__ import annotations

import json

from remediate.checks.dns import broker_dns
from remediate.facts import Dns, HostedZone, HostResolution, LocalResolution, Network, SourceAccess, Vpc
from remediate.kafka import broker_hosts, split_server
from remediate.observe.dns import resolve_all
from remediate.sandbox import Sandbox, build_scenario
from tests import factories
from tests.conftest import CliRunner

HOST = "broker-1.kafka.internal.example"


def test_split_server_and_hosts() -> None:
    assert split_server("b-1.example.com:9094") == ("b-1.example.com", 9094)
    assert split_server("[fd00::1]:9092") == ("fd00::1", 9092)
    assert split_server("broker") == ("broker", None)
    assert broker_hosts(["A.example:1", "a.example:2", "10.0.0.1:9092", "[::1]:9092"]) == ("a.example",)


def test_resolve_all_without_the_network() -> None:
    local = resolve_all(["localhost", "no-such-broker.invalid"], timeout=5)
    results = {r.host: r for r in local.results}
    assert results["localhost"].resolved
    assert results["localhost"].addresses
    assert not results["no-such-broker.invalid"].resolved
    assert results["no-such-broker.invalid"].error
    assert local.machine


def _facts(dns: Dns, *, vpc: bool = True, dns_support: bool = True) -> object:
    network = (
        Network(
            placement="source-access",
            vpc=Vpc(id="vpc-esm", cidr="10.0.0.0/16", dns_support=dns_support, dns_hostnames=True),
        )
        if vpc
        else Network(placement="internet")
    )
    return factories.facts(
        esm=factories.esm(
            source_kind="self-managed",
            event_source_arn=None,
            bootstrap_servers=(f"{HOST}:9092",),
            source_access=(SourceAccess(type="VPC_SUBNET", uri="subnet:subnet-a"),) if vpc else (),
        ),
        cluster=None,
        network=network,
        dns=dns,
    )


def _local(resolved: bool) -> LocalResolution:
    return LocalResolution(
        machine="laptop",
        results=(HostResolution(host=HOST, resolved=resolved, error=None if resolved else "NXDOMAIN"),),
    )


def _causes(facts: object) -> list[str]:
    return [f.evidence.cause for f in broker_dns(facts)]  # type: ignore[arg-type]


def test_internet_placement_uses_local_resolution_and_says_so() -> None:
    findings = broker_dns(_facts(Dns(hosts=(HOST,), local=_local(False)), vpc=False))  # type: ignore[arg-type]
    assert [f.evidence.cause for f in findings] == ["not-resolvable"]
    assert "from laptop" in findings[0].summary
    assert _causes(_facts(Dns(hosts=(HOST,), local=_local(True)), vpc=False)) == []


def test_vpc_zone_decides_over_local_resolution() -> None:
    zone = HostedZone(id="Z1", name="kafka.internal.example", associated=True, vpc_ids=("vpc-esm",))
    with_record = zone.model_copy(update={"hosts_with_records": (HOST,)})
    assert _causes(_facts(Dns(hosts=(HOST,), local=_local(False), zones=(with_record,)))) == []
    assert _causes(_facts(Dns(hosts=(HOST,), local=_local(True), zones=(zone,)))) == ["zone-without-record"]
    elsewhere = HostedZone(
        id="Z2",
        name="kafka.internal.example",
        associated=False,
        vpc_ids=("vpc-other",),
        hosts_with_records=(HOST,),
    )
    assert _causes(_facts(Dns(hosts=(HOST,), local=_local(False), zones=(elsewhere,)))) == [
        "zone-not-associated"
    ]
    off = broker_dns(_facts(Dns(hosts=(HOST,), local=_local(True)), dns_support=False))  # type: ignore[arg-type]
    assert [f.evidence.cause for f in off] == ["vpc-dns-support-off"]
    assert off[0].evidence.vpc_id == "vpc-esm"


def test_msk_is_not_checked() -> None:
    facts = factories.facts().model_copy(update={"dns": Dns(hosts=(HOST,), local=_local(False))})
    assert broker_dns(facts) == []


def test_unresolvable_internet_names_end_to_end(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(
        sandbox,
        "self-managed-healthy",
        name="dns-invalid",
        self_managed_servers=("broker-1.kafka.invalid:9092", "localhost:9092"),
    )
    result = cli("plan", "--esm", scn.esm_uuid, "--output", "json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    found = [f for f in plan["findings"] if f["code"] == "BROKER_DNS_UNRESOLVABLE"]
    assert [f["evidence"]["hosts"] for f in found] == [["broker-1.kafka.invalid"]]
    assert plan["changes"] == []
    assert any("broker-1.kafka.invalid" in s["text"] for s in plan["manual_steps"])


def test_private_zone_not_associated_is_associated(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-dns-zone-not-associated")
    plan = json.loads(cli("plan", "--esm", scn.esm_uuid, "--output", "json").stdout)
    assert [f["code"] for f in plan["findings"]] == ["BROKER_DNS_UNRESOLVABLE"]
    assert [(c["action"], c["resource"]) for c in plan["changes"]] == [
        ("associate_vpc_with_hosted_zone", scn.hosted_zone_id)
    ]
    applied = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    vpcs = sandbox.client("route53").get_hosted_zone(Id=scn.hosted_zone_id)["VPCs"]
    assert scn.vpc_id in {v["VPCId"] for v in vpcs}
    again = json.loads(cli("plan", "--esm", scn.esm_uuid, "--output", "json").stdout)
    assert again["findings"] == []
    assert again["changes"] == []
