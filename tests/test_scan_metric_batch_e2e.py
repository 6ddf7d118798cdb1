"""End-to-end (issue 26, item 2): a scan reads the metrics of all its functions and clusters in as few
GetMetricData calls as the API allows (500 queries a call; the functions' apart from the clusters'),
through the real CLI against the sandbox, and finds exactly what each mapping's own diagnosis finds with
its own metric calls.

The expected number of queries is counted here from what is read (one query per metric, per broker) and
the brokers the sandbox's cluster has, not taken from the tool.
"""

from __future__ import annotations

import json
import math

from remediate import health
from remediate.sandbox import FaultRule, Sandbox, Scenario, build_scenario
from tests.conftest import CliRunner, diagnosed, more_functions

CALL_QUERIES = 500  # CloudWatch API reference, GetMetricData: up to 500 MetricDataQuery structures


def _brokers(sandbox: Sandbox, scn: Scenario) -> int:
    return len(sandbox.client("kafka").list_nodes(ClusterArn=scn.cluster_arn)["NodeInfoList"])


def test_a_scan_batches_the_metrics_of_every_function_and_cluster(sandbox: Sandbox, cli: CliRunner) -> None:
    failing = build_scenario(sandbox, "function-failing")  # its function's Errors
    busy = build_scenario(sandbox, "broker-cpu-saturated")  # its cluster's CpuUser + CpuSystem
    counted = build_scenario(sandbox, "filters-drop-all")  # its mapping's own event counts (EventCount on)
    scenarios = (failing, busy, counted)
    for scn in scenarios:
        more_functions(sandbox, scn, 3)
    sandbox.clear_calls()
    run = cli("scan", "--output", "json")
    assert run.returncode == 2, run.stderr
    mappings = {m["esm_uuid"]: m for m in json.loads(run.stdout)["mappings"]}
    functions = {m["function_arn"] for m in mappings.values()}
    assert len(mappings) == len(functions) == 12

    per_function = len(health.FUNCTION_METRICS) + len(health.FUNCTION_GAUGES)  # Sum counts, Maximum gauges
    per_broker, per_cluster = len(health.BROKER_METRICS), len(health.CLUSTER_METRICS)
    function_queries = len(functions) * per_function + len(health.ESM_EVENT_METRICS)  # + one mapping's counts
    cluster_queries = sum(_brokers(sandbox, scn) * per_broker + per_cluster for scn in scenarios)
    made = sandbox.calls.count(("monitoring", "GetMetricData"))
    # One call per function and per cluster before (12 + 3 = 15). Now the functions' queries share calls
    # of 500, sent at once, and the clusters' share theirs once their brokers are known.
    assert made == math.ceil(function_queries / CALL_QUERIES) + math.ceil(cluster_queries / CALL_QUERIES) == 2

    codes = {uuid: [f["code"] for f in m["findings"]] for uuid, m in mappings.items()}
    assert "FUNCTION_FAILING" in codes[failing.esm_uuid]
    assert "FILTERS_DROP_RECORDS" in codes[counted.esm_uuid]
    on_busy = [uuid for uuid, m in mappings.items() if m["source"] == mappings[busy.esm_uuid]["source"]]
    assert len(on_busy) == 4
    assert all("BROKER_CPU_SATURATED" in codes[uuid] for uuid in on_busy)
    assert sum("FUNCTION_FAILING" in found for found in codes.values()) == 1
    # The same findings, evidence included, as a diagnosis of the mapping alone (its own metric calls).
    for uuid in (failing.esm_uuid, counted.esm_uuid, on_busy[-1]):
        assert mappings[uuid]["findings"] == diagnosed(cli, uuid)


def test_a_denied_batch_is_could_not_check_for_every_mapping(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-storage-full")
    more_functions(sandbox, scn, 2)
    sandbox.faults.add(FaultRule(service="monitoring", operation="GetMetricData", kind="status", status=403))
    sandbox.clear_calls()
    run = cli("scan", "--output", "json")
    assert run.returncode == 2, run.stderr
    mappings = json.loads(run.stdout)["mappings"]
    assert len(mappings) == 3
    for m in mappings:
        unread = [f for f in m["findings"] if f["code"] == "COULD_NOT_CHECK"]
        assert unread, m
        assert all("AccessDenied on GetMetricData" in str(f["summary"]) for f in unread), m
        assert "BROKER_STORAGE_FULL" not in [f["code"] for f in m["findings"]]
    assert sandbox.calls.count(("monitoring", "GetMetricData")) == 2  # the 3 functions', the cluster's
    # Reported by each mapping, never logged per mapping.
    assert sum("GetMetricData" in line for line in run.stderr.splitlines()) <= 1, run.stderr


def test_a_scan_reads_every_function_ahead_of_its_mappings(sandbox: Sandbox, cli: CliRunner) -> None:
    """GetFunction, the one read a scan makes per function (its own bucket: 100 a second), goes out from
    the listing on, not as each mapping's turn comes. One mapping at a time, with the cluster's answer
    held back 1.5 s: every function is read before the first read that needed that answer (ListNodes,
    asked once the cluster is known to be provisioned), where before, the second mapping's function was
    read only after the first mapping's observation had ended. Each function is still read once."""
    scn = build_scenario(sandbox, "healthy-msk")
    more_functions(sandbox, scn, 5)
    late = {"kind": "latency", "latency": 1.5, "phase": "response"}
    sandbox.faults.add(FaultRule(service="kafka", operation="DescribeClusterV2", **late))
    sandbox.clear_calls()
    run = cli("scan", "--output", "json", env={"REMEDIATE_SCAN_WORKERS": "1"})
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["mappings"]) == 6
    calls = sandbox.calls
    reads = [i for i, call in enumerate(calls) if call == ("lambda", "GetFunction")]
    assert len(reads) == 6
    assert max(reads) < calls.index(("kafka", "ListNodes")), calls
