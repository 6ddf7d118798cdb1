"""Regional NAT gateways (issue 24, S4), which moto's CreateNatGateway does not know.

Amazon VPC user guide, "Regional NAT gateways for automatic multi-AZ expansion"
(https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateways-regional.html): "with a regional NAT Gateway,
you don't need to create a public subnet to host it". EC2 API reference (botocore model), CreateNatGateway:
`AvailabilityMode` ("zonal" | "regional", "Defaults to zonal"), `VpcId` ("The ID of the VPC where you want to
create a regional NAT gateway"); NatGateway: `AvailabilityMode`, and `RouteTableId` ("For regional NAT
gateways only"). The NAT gateway's own route table sends 0.0.0.0/0 to the VPC's internet gateway: that is how
public write-ups of the feature describe it (the AWS page's stored copy was cut before it), so the sandbox
builds it that way when the VPC has an internet gateway attached, and without the route when it has none.

A regional NAT gateway is created without a subnet and without a network interface of moto's; a zonal one
goes to moto as before. This module imports nothing of the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.models.nat_gateways import NatGateway
from moto.ec2.responses import nat_gateways as _nat_responses
from moto.ec2.utils import add_tag_specification, random_nat_gateway_id, random_private_ip

REGIONAL = "regional"


def _internet_gateway(backend: Any, vpc_id: str) -> str | None:
    for igw in backend.internet_gateways.values():
        if igw.vpc is not None and igw.vpc.id == vpc_id:
            return str(igw.id)
    return None


def _regional(backend: Any, vpc_id: str, tags: dict[str, str], connectivity: str) -> Any:
    backend.get_vpc(vpc_id)  # InvalidVpcID.NotFound, as for any call naming a VPC
    nat: Any = NatGateway.__new__(NatGateway)
    nat.id = random_nat_gateway_id()
    nat.subnet_id = None
    nat.vpc_id = vpc_id
    nat.address_set = []
    nat.state = "available"
    nat.private_ip = random_private_ip()
    nat.connectivity_type = connectivity
    nat._created_at = utcnow()
    nat.ec2_backend = backend
    nat.availability_mode = REGIONAL
    table = backend.create_route_table(vpc_id)
    igw = _internet_gateway(backend, vpc_id)
    if igw is not None and connectivity == "public":
        backend.create_route(table.id, "0.0.0.0/0", gateway_id=igw)
    nat.route_table_id = table.id
    nat.add_tags(tags)
    backend.nat_gateways[nat.id] = nat
    return nat


def _create_nat_gateway(self: Any) -> Any:
    if (self._get_param("AvailabilityMode") or "zonal") != REGIONAL:
        return _ORIGINAL["create_nat_gateway"](self)
    tags = add_tag_specification(self._get_param("TagSpecifications", []))
    nat = _regional(
        self.ec2_backend, self._get_param("VpcId"), tags, self._get_param("ConnectivityType") or "public"
    )
    return ActionResult({"NatGateway": nat})


_ORIGINAL: dict[str, Any] = {}


def patch(replace: Callable[[type[Any], str, Any], None]) -> None:
    """Install through the sandbox's one patch registry (`patches._replace`)."""
    _ORIGINAL.setdefault("create_nat_gateway", _nat_responses.NatGateways.__dict__["create_nat_gateway"])
    replace(_nat_responses.NatGateways, "create_nat_gateway", _create_nat_gateway)
