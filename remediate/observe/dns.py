"""Where the bootstrap broker names resolve: from this machine, and in the ESM's VPC (Route 53).

Part of observation (called by `observe.py`, which owns the Facts it returns). Two reads of the world:

- Local resolution runs on the machine the tool runs on, concurrently and bounded by a deadline; it
  says nothing certain about the ESM's VPC, and the facts say so (`LocalResolution.machine`).
- In a VPC, a name resolves through the Route 53 Resolver: a private hosted zone associated with the
  VPC answers for its whole domain (and shadows public DNS there), so the zones whose name is a
  suffix of a broker host name, associated or not, and whether they hold a record for it, decide.

`getaddrinfo` cannot be cancelled, so each lookup runs on a daemon thread: a hung resolver costs the
deadline, never the process exit.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from remediate.facts import HostedZone, HostResolution, LocalResolution

if TYPE_CHECKING:
    from remediate.aws import Aws

DEFAULT_TIMEOUT = 3.0
RECORD_TYPES = frozenset({"A", "AAAA", "CNAME"})
MAX_CNAME_HOPS = 8
"""CNAMEs followed within one zone before giving up on an address (a loop, or a long chain)."""


def _lookup(host: str) -> HostResolution:
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return HostResolution(host=host, resolved=False, error=f"{exc.strerror or exc} (errno {exc.errno})")
    except (OSError, UnicodeError) as exc:
        return HostResolution(host=host, resolved=False, error=str(exc))
    addresses = tuple(sorted({str(info[4][0]) for info in infos}))
    return HostResolution(host=host, resolved=True, addresses=addresses)


def resolve_all(hosts: Iterable[str], timeout: float = DEFAULT_TIMEOUT) -> LocalResolution:
    """Resolve every host concurrently from this machine; a host not answered by the deadline fails."""
    names = list(dict.fromkeys(hosts))
    results: dict[str, HostResolution] = {}
    lock = threading.Lock()

    def work(host: str) -> None:
        outcome = _lookup(host)
        with lock:
            results[host] = outcome

    threads = [threading.Thread(target=work, args=(h,), daemon=True, name=f"dns-{h}") for h in names]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        done = dict(results)
    return LocalResolution(
        machine=socket.gethostname(),
        results=tuple(
            done.get(h) or HostResolution(host=h, resolved=False, error=f"no answer within {timeout:g}s")
            for h in names
        ),
    )


def _zone_name(name: str) -> str:
    return name.rstrip(".").lower()


def _zone_id(raw: str) -> str:
    return raw.rsplit("/", 1)[-1]


def _records(aws: Aws, zone_id: str, name: str) -> list[dict[str, Any]]:
    """The zone's address and alias records named exactly `name` (ListResourceRecordSets from it)."""
    page = aws.read(
        "route53", "list_resource_record_sets", HostedZoneId=zone_id, StartRecordName=name, MaxItems="8"
    )
    return [
        r
        for r in page.get("ResourceRecordSets", [])
        if _zone_name(r.get("Name", "")).replace("\\052", "*") == name and r.get("Type") in RECORD_TYPES
    ]


def _candidates(host: str) -> list[str]:
    """`host` itself, then the wildcard that would cover it."""
    return [host, "*." + host.split(".", 1)[1]] if "." in host else [host]


def _answer(aws: Aws, zone_id: str, zone: str, host: str) -> tuple[bool, str | None]:
    """Whether the zone holds an A, AAAA or CNAME record for `host` (or a wildcard covering it), and the
    IPv4 address it answers with (issue 21, item 6): an A record's first value, or a CNAME's target
    followed within the same zone (at most `MAX_CNAME_HOPS`); None where the answer lies outside the
    zone (a CNAME to another domain, an alias) or is IPv6 only."""
    seen: set[str] = set()
    name: str | None = host
    held = False
    while name is not None and name not in seen and len(seen) <= MAX_CNAME_HOPS:
        seen.add(name)
        found = next((got for n in _candidates(name) if (got := _records(aws, zone_id, n))), [])
        if not found:
            return held, None
        held = True
        name = None
        for record in found:
            values = [str(v.get("Value", "")) for v in record.get("ResourceRecords", [])]
            if record.get("Type") == "A" and values:
                return True, values[0]
            if record.get("Type") == "CNAME" and values:
                target = _zone_name(values[0])
                name = target if target == zone or target.endswith("." + zone) else None
    return held, None


def private_zones(aws: Aws, vpc_id: str, region: str, hosts: tuple[str, ...]) -> tuple[HostedZone, ...]:
    """The private hosted zones that could answer for the broker hosts, and which VPCs they serve.

    Zones associated with the VPC come from ListHostedZonesByVPC (which includes zones shared from
    other accounts); zones of this account that are not associated come from ListHostedZones, and
    GetHostedZone tells which VPCs they do serve.
    """
    associated = {
        _zone_id(z["HostedZoneId"]): _zone_name(z["Name"])
        for z in aws.read_pages(
            "route53",
            "list_hosted_zones_by_vpc",
            "HostedZoneSummaries",
            "NextToken",
            "NextToken",
            VPCId=vpc_id,
            VPCRegion=region,
        )
    }
    private = {
        _zone_id(z["Id"]): _zone_name(z["Name"])
        for z in aws.read_pages("route53", "list_hosted_zones", "HostedZones", "Marker", "NextMarker")
        if z.get("Config", {}).get("PrivateZone")
    }
    zones: list[HostedZone] = []
    for zone_id, name in sorted({**private, **associated}.items()):
        served = [h for h in hosts if h == name or h.endswith("." + name)]
        if not served:
            continue
        is_associated = zone_id in associated
        vpcs: tuple[str, ...] = (vpc_id,)  # a zone shared from another account: only ours is known
        if zone_id in private:
            raw = aws.read("route53", "get_hosted_zone", Id=zone_id)
            vpcs = tuple(v["VPCId"] for v in raw.get("VPCs", []) if v.get("VPCId"))
        answers = {h: _answer(aws, zone_id, name, h) for h in served}
        zones.append(
            HostedZone(
                id=zone_id,
                name=name,
                associated=is_associated,
                vpc_ids=vpcs,
                hosts_with_records=tuple(h for h, (held, _) in answers.items() if held),
                addresses=tuple((h, address) for h, (_, address) in answers.items() if address),
            )
        )
    return tuple(zones)


def associated_zones(
    aws: Aws, vpc_id: str, zones: Iterable[tuple[str, str]], hosts: tuple[str, ...]
) -> tuple[HostedZone, ...]:
    """issue 21 (item 7): of the zones associated with the VPC ((id, name), from ListHostedZonesByVPC, already
    read with the VPC), those that answer for some of `hosts`, with the hosts they hold records for.

    For an MSK cluster's broker names, which AWS publishes: only a private zone associated with the VPC can
    change how they resolve there (it answers for its whole domain), so no other zone is read."""
    out = []
    for zone_id, raw_name in sorted(zones):
        name = _zone_name(raw_name)
        served = [h for h in hosts if h == name or h.endswith("." + name)]
        if not served:
            continue
        answers = {h: _answer(aws, zone_id, name, h) for h in served}
        out.append(
            HostedZone(
                id=zone_id,
                name=name,
                associated=True,
                vpc_ids=(vpc_id,),
                hosts_with_records=tuple(h for h, (held, _) in answers.items() if held),
                addresses=tuple((h, address) for h, (_, address) in answers.items() if address),
            )
        )
    return tuple(out)
