"""MaxResults and NextToken on the EC2 describe calls remediate reads VPC-wide (issue 24, N16), which moto
accepts and ignores (it answers every item at once).

EC2 API reference (botocore model), DescribeRouteTables, DescribeNetworkAcls, DescribeNatGateways,
DescribeSubnets, DescribeSecurityGroups: MaxResults "The maximum number of items to return for this
request. To get the next page of items, make another request with the token returned in the output" (5-100
for route tables, 5-1000 for the others); DescribeVpcEndpoints: "If the value is greater than 1,000, we
return only 1,000 items". Without MaxResults the sandbox answers every item, as moto does. The token is the
sandbox's own (an offset): callers treat it as opaque. This module imports nothing of the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.responses import nat_gateways, network_acls, route_tables, security_groups, subnets, vpcs

PAGED: dict[str, tuple[type[Any], str, int]] = {
    "describe_route_tables": (route_tables.RouteTables, "RouteTables", 100),
    "describe_network_acls": (network_acls.NetworkACLs, "NetworkAcls", 1000),
    "describe_nat_gateways": (nat_gateways.NatGateways, "NatGateways", 1000),
    "describe_subnets": (subnets.Subnets, "Subnets", 1000),
    "describe_security_groups": (security_groups.SecurityGroups, "SecurityGroups", 1000),
    "describe_vpc_endpoints": (vpcs.VPCs, "VpcEndpoints", 1000),
}
"""operation -> (moto's response class, the list in the answer, the largest page AWS gives)."""


def _paged(operation: str) -> Callable[[Any], Any]:
    _, items, largest = PAGED[operation]

    def handler(self: Any) -> Any:
        answer = _PRIOR[operation](self)
        limit = self._get_param("MaxResults")
        if limit is None or not isinstance(answer, ActionResult) or not isinstance(answer.result, dict):
            return answer
        result = dict(answer.result)
        found = list(result.get(items) or [])
        start = int(self._get_param("NextToken") or 0)
        end = start + min(int(limit), largest)
        result[items] = found[start:end]
        result.pop("NextToken", None)
        if end < len(found):
            result["NextToken"] = str(end)
        return ActionResult(result)

    return handler


_PRIOR: dict[str, Any] = {}


def patch(chain: Callable[[type[Any], dict[str, Any], dict[str, Any]], None]) -> None:
    """Install through the sandbox's patch registry, over earlier patches (`patches._chain`)."""
    for operation, (owner, _, _) in PAGED.items():
        chain(owner, _PRIOR, {operation: _paged(operation)})
