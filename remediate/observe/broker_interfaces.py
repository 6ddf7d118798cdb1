"""issue 21 (item 6): the network interfaces of self-managed brokers inside the pollers' VPC.

Security groups apply at a network interface, so a broker on an EC2 instance in the VPC admits the
pollers only if its interface's groups do (Amazon MSK developer guide, "Access from within AWS but
outside the cluster's VPC" / client access: "make sure the cluster's security group has an inbound rule
that accepts traffic from the client's security group"; the same holds for any Kafka on EC2). The
interface holding a broker's address is found with DescribeNetworkInterfaces filtered by
`addresses.private-ip-address` and `vpc-id` (EC2 API reference, DescribeNetworkInterfaces, Filters).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from remediate import kafka
from remediate.facts import BrokerInterface, Dns, Esm


def broker_addresses(esm: Esm, names: Dns | None = None) -> tuple[str, ...]:
    """The bootstrap servers' private IPv4 addresses: those given as literals, and (issue 21, item 6) those
    a Route 53 private hosted zone associated with the VPC answers for a name (`Dns.zone_address`, from
    `observe.dns`); a name no such zone answers is left to the DNS check."""
    out = []
    for server in esm.bootstrap_servers:
        host, _ = kafka.split_server(server)
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            resolved = names.zone_address(host) if names is not None else None
            if resolved is None:
                continue
            try:
                address = ipaddress.ip_address(resolved)
            except ValueError:
                continue
        if address.version == 4:
            out.append(str(address))
    return tuple(dict.fromkeys(out))


def interfaces_from_api(raw: dict[str, Any], addresses: tuple[str, ...]) -> tuple[BrokerInterface, ...]:
    """One `BrokerInterface` per broker address an interface holds (primary or secondary)."""
    wanted = set(addresses)
    out = []
    for eni in raw.get("NetworkInterfaces", []):
        held = {a.get("PrivateIpAddress") for a in eni.get("PrivateIpAddresses", [])}
        held.add(eni.get("PrivateIpAddress"))
        for address in sorted(wanted & {h for h in held if h}):
            out.append(
                BrokerInterface(
                    address=address,
                    interface_id=eni["NetworkInterfaceId"],
                    subnet_id=eni.get("SubnetId", ""),
                    group_ids=tuple(g["GroupId"] for g in eni.get("Groups", [])),
                )
            )
    return tuple(sorted(out, key=lambda i: i.address))
