"""Private hosted zones of other accounts associated with a VPC (issue 24, S6), which moto lists only for the
zone's own account.

Route 53 API reference, ListHostedZonesByVPC (https://docs.aws.amazon.com/Route53/latest/APIReference/
API_ListHostedZonesByVPC.html): "Lists all the private hosted zones that a specified VPC is associated with,
regardless of which AWS account or AWS service owns the hosted zones", each with an `OwningAccount`, "the
account number of either the current AWS account or another AWS account". A hub account's zone for a
service's name, associated with a spoke VPC, is what makes AWS refuse a private-DNS endpoint there
(`patches._private_dns_holder`), whichever account owns it. This module imports nothing of the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from moto.route53 import models as _route53_models

PARTITION = "aws"


def associated(vpc_id: str) -> Iterator[tuple[str, Any]]:
    """(owning account, zone) of every private hosted zone of any account associated with the VPC."""
    for account, by_partition in list(_route53_models.route53_backends.items()):
        backend = by_partition.get(PARTITION) if isinstance(by_partition, dict) else None
        if backend is None:
            continue
        for zone in list(backend.zones.values()):
            if zone.private_zone and any(v.get("vpc_id") == vpc_id for v in zone.vpcs):
                yield str(account), zone


def _list_hosted_zones_by_vpc(self: Any, vpc_id: str) -> list[dict[str, Any]]:
    own: list[dict[str, Any]] = _ORIGINAL["list_hosted_zones_by_vpc"](self, vpc_id)
    others = [
        {"HostedZoneId": zone.resource_id, "Name": zone.name, "Owner": {"OwningAccount": account}}
        for account, zone in associated(vpc_id)
        if account != self.account_id
    ]
    return own + others


_ORIGINAL: dict[str, Any] = {}


def patch(replace: Callable[[type[Any], str, Any], None]) -> None:
    """Install through the sandbox's one patch registry (`patches._replace`)."""
    owner = _route53_models.Route53Backend
    _ORIGINAL.setdefault("list_hosted_zones_by_vpc", owner.__dict__["list_hosted_zones_by_vpc"])
    replace(owner, "list_hosted_zones_by_vpc", _list_hosted_zones_by_vpc)
