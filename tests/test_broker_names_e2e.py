"""issue 21 (item 7): every MSK broker's name is weighed where the pollers resolve it, through the real CLI.

MSK API reference: GetBootstrapBrokers lists the brokers of each listener, and ListNodes gives each broker's
id and its Endpoints. Route 53 DG ("Considerations when working with a private hosted zone"): a private
hosted zone associated with a VPC answers for its whole domain there, so a zone named after the brokers'
domain that holds records for brokers 1 and 2 only leaves broker 3's name unresolvable in the VPC.
"""

from __future__ import annotations

import json

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import CliRunner, diagnosed


def test_a_shadowed_broker_name_is_named_with_its_broker(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "msk-broker-name-shadowed")
    brokers = sandbox.client("kafka").get_bootstrap_brokers(ClusterArn=scn.cluster_arn)
    hosts = [s.rsplit(":", 1)[0] for s in brokers["BootstrapBrokerStringSaslIam"].split(",")]
    third = next(h for h in hosts if h.startswith("b-3."))
    zone = third.split(".", 1)[1]

    found = diagnosed(cli, scn.esm_uuid)
    assert [f["code"] for f in found] == ["BROKER_DNS_UNRESOLVABLE"]
    ev = found[0]["evidence"]
    assert ev["cause"] == "zone-without-record"
    assert ev["hosts"] == [third]  # only the broker the zone has no record for
    assert ev["broker_ids"] == ["3"]
    assert (ev["zone_id"], ev["zone_name"]) == (scn.hosted_zone_id, zone)
    assert f"broker 3 ({third})" in found[0]["summary"]

    plan = json.loads(cli("plan", "--esm", scn.esm_uuid, "--output", "json").stdout)
    assert plan["changes"] == []
    [step] = [m["text"] for m in plan["manual_steps"] if "BROKER_DNS_UNRESOLVABLE" in m["because"]]
    assert scn.hosted_zone_id in step
    assert "list-nodes" in step
    assert "self-managed-event-source" not in step  # an MSK source has no bootstrap servers to correct


def test_every_broker_name_resolving_gives_no_finding(sandbox: Sandbox, cli: CliRunner) -> None:
    """The same zone with a record for every broker shadows nothing: no DNS finding (the connection error
    stays unexplained)."""
    scn = build_scenario(
        sandbox, "msk-broker-name-shadowed", name="msk-zone-complete", msk_zone_brokers=(1, 2, 3)
    )
    assert [f["code"] for f in diagnosed(cli, scn.esm_uuid)] == ["CONNECTION_UNEXPLAINED"]


def test_list_nodes_is_read_once_per_cluster_in_a_scan(sandbox: Sandbox, cli: CliRunner) -> None:
    """Three mappings on the shadowed cluster, with broker metrics (which need the broker ids too): one
    ListNodes, and each record read once (3 names, and the wildcard for the one without a record); a
    cluster whose VPC has no zone for its brokers costs no record read."""
    scn = build_scenario(sandbox, "msk-broker-name-shadowed")
    plain = build_scenario(sandbox, "healthy-msk")
    lam = sandbox.client("lambda")
    for topic in ("t2", "t3"):
        lam.create_event_source_mapping(
            FunctionName=scn.function_name,
            EventSourceArn=scn.cluster_arn,
            Topics=[topic],
            StartingPosition="LATEST",
        )
    seen = len(sandbox.calls)
    run = cli("scan", "--output", "json")  # broker metrics are read by default (metrics_window 60)
    assert run.returncode in (0, 2), run.stderr
    calls = sandbox.calls[seen:]
    assert calls.count(("kafka", "ListNodes")) == 2  # one per cluster
    assert calls.count(("route53", "ListResourceRecordSets")) == 4
    assert plain.cluster_arn != scn.cluster_arn


def test_list_nodes_denied_still_names_the_unresolvable_name(sandbox: Sandbox, cli: CliRunner) -> None:
    """Without ListNodes the bootstrap string still lists broker 3's name; what was not read is said."""
    scn = build_scenario(sandbox, "msk-broker-name-shadowed", name="msk-nodes-denied")
    sandbox.faults.add(FaultRule(service="kafka", operation="ListNodes", kind="status", status=403))
    found = diagnosed(cli, scn.esm_uuid)
    dns = [f for f in found if f["code"] == "BROKER_DNS_UNRESOLVABLE"]
    assert [f["evidence"]["hosts"][0].split(".", 1)[0] for f in dns] == ["b-3"]
    assert dns[0]["evidence"]["broker_ids"] == []
    unchecked = [f for f in found if f["code"] == "COULD_NOT_CHECK"]
    assert any("broker nodes" in f["summary"] or "ListNodes" in f["summary"] for f in unchecked), found
