"""issue 21 (items 6 and 7): broker names weighed in the VPC, on `Facts` fixtures (no AWS).

Route 53 DG, "Considerations when working with a private hosted zone": a private hosted zone associated
with a VPC answers for its whole domain there; a name it holds no record for does not resolve there.
"""

from __future__ import annotations

from remediate.checks.dns import broker_dns
from remediate.facts import BrokerName, Dns, HostedZone, HostResolution, LocalResolution
from tests import factories

DOMAIN = "orders.abc123.c2.kafka.us-east-1.amazonaws.com"
B1, B3 = f"b-1.{DOMAIN}", f"b-3.{DOMAIN}"


def _zone(**over: object) -> HostedZone:
    base: dict[str, object] = {"id": "Z1", "name": DOMAIN, "associated": True, "vpc_ids": ("vpc-1",)}
    return HostedZone.model_validate({**base, **over})


def test_msk_broker_without_record_is_named_with_its_id() -> None:
    dns = Dns(
        hosts=(B1, B3),
        zones=(_zone(hosts_with_records=(B1,)),),
        brokers=(BrokerName(broker_id="1", host=B1), BrokerName(broker_id="3", host=B3)),
    )
    [found] = broker_dns(factories.facts(dns=dns))
    ev = found.evidence
    assert (ev.cause, ev.hosts, ev.broker_ids) == ("zone-without-record", (B3,), ("3",))  # type: ignore[attr-defined]
    assert f"broker 3 ({B3})" in found.summary


def test_msk_names_are_not_judged_by_this_machine() -> None:
    local = LocalResolution(machine="laptop", results=(HostResolution(host=B3, resolved=False, error="nx"),))
    assert broker_dns(factories.facts(dns=Dns(hosts=(B1, B3), local=local))) == []


def test_zone_address_is_the_most_specific_associated_zone() -> None:
    host = "kafka-1.brokers.internal.example"
    broad = _zone(id="Z1", name="internal.example", addresses=((host, "10.0.9.9"),))
    narrow = _zone(id="Z2", name="brokers.internal.example", addresses=((host, "10.0.1.10"),))
    elsewhere = _zone(
        id="Z3", name="kafka-1.brokers.internal.example", associated=False, addresses=((host, "1.2.3.4"),)
    )
    assert Dns(zones=(broad, narrow, elsewhere)).zone_address(host.upper() + ".") == "10.0.1.10"
    assert Dns(zones=(elsewhere,)).zone_address(host) is None
