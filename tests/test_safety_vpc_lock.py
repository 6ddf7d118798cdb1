"""Issue 23, item 2 (audit 2026-12-06, N6): two mappings of one VPC applied at once.

Both plan the VPC's endpoints and their group. One takes the lock on the VPC's endpoint work; the
other is refused before its first change, in one line naming the holder, never AWS's raw private-DNS
conflict half way; the VPC ends with one endpoint per service.
"""

from __future__ import annotations

from collections import Counter

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import CliRunner
from tests.safety import error_lines, start


def test_n6_two_mappings_of_one_vpc_the_second_is_refused_naming_the_first(
    sandbox: Sandbox, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = build_scenario(sandbox, "scram-no-nat", role_grants_secret=False, peer_mappings=1)
    # Endpoint creation takes a while: the two runs overlap whichever takes the lock first.
    sandbox.faults.add(FaultRule(service="ec2", operation="CreateVpcEndpoint", kind="latency", latency=0.7))
    procs = [start(cli_env, "apply", "--esm", u, "--auto-approve") for u in (scn.esm_uuid, scn.peer_uuids[0])]
    ended = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    sandbox.faults.clear()
    codes = sorted(code for code, _, _ in ended)
    assert codes == [0, 1], ended
    (winner,) = [out for code, out, _ in ended if code == 0]
    (loser,) = [err for code, _, err in ended if code == 1]
    winner_run = winner.rsplit("Run id: ", 1)[1].split()[0]
    (line,) = error_lines(loser)
    assert f"the endpoint work of VPC {scn.vpc_id} is locked by run {winner_run}" in line, loser
    assert "nothing was changed" in line
    assert "Changes made" not in loser
    assert "InvalidParameter" not in loser
    services = Counter(
        e["ServiceName"]
        for e in sandbox.client("ec2").describe_vpc_endpoints()["VpcEndpoints"]
        if e["State"] not in ("deleting", "deleted")
    )
    assert len(services) == 3, services
    assert set(services.values()) == {1}, services
    # The refused mapping's next apply finds the endpoints made and converges.
    again = cli(
        "apply", "--esm", scn.peer_uuids[0] if scn.esm_uuid in winner else scn.esm_uuid, "--auto-approve"
    )
    assert again.returncode == 0, again.stderr
