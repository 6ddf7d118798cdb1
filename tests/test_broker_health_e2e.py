"""End-to-end: broker health from CloudWatch (issue 15, item 1), through the real CLI against the sandbox.

Each scenario seeds the brokers' metrics as MSK would publish them; the expected numbers are the seeded ones,
and the expected storage target is worked out here from MSK's documented rules, not taken from the engine.
"""

from __future__ import annotations

import json
import math

from remediate.sandbox import FaultRule, Sandbox, build_scenario
from tests.conftest import CliRunner, diagnosed


def volume(sb: Sandbox, arn: str) -> int:
    info = sb.client("kafka").describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]
    return int(info["Provisioned"]["BrokerNodeGroupInfo"]["StorageInfo"]["EbsStorageInfo"]["VolumeSize"])


def test_n9_storage_full_is_measured_grown_and_not_grown_again_at_once(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    scn = build_scenario(sandbox, "broker-storage-full")
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "BROKER_STORAGE_FULL"
    ev = found["evidence"]
    assert isinstance(ev, dict)
    assert (ev["worst"], ev["limit"], ev["volume_gib"]) == (91.0, 85.0, 1000)
    assert [(b["broker_id"], b["value"]) for b in ev["brokers"]] == [("1", 91.0), ("3", 60.5), ("2", 52.0)]
    # The fullest broker at 60% of the new size, rounded up to 10 GiB: 1000 * 91 / 60 = 1516.7 -> 1520.
    expected = math.ceil(1000 * 91 / 60 / 10) * 10
    assert ev["target_gib"] == expected == 1520

    plan = json.loads(cli("plan", "--esm", scn.esm_uuid, "--output", "json").stdout)
    [change] = plan["changes"]
    assert (change["action"], change["resource"]) == ("update_broker_storage", scn.cluster_arn)
    assert (change["before"], change["after"]) == ({"VolumeSizeGB": 1000}, {"VolumeSizeGB": 1520})
    # The manual alternative beside it: listed, not planned, chosen with --fix-with free-space.
    assert plan["manual_steps"] == []
    [offer] = plan["alternatives"]
    assert offer["text"].startswith("`--fix-with free-space` plans this manual step instead: Free storage")
    chosen = json.loads(
        cli("plan", "--esm", scn.esm_uuid, "--fix-with", "free-space", "--output", "json").stdout
    )
    assert chosen["changes"] == []
    assert "retention.ms" in chosen["manual_steps"][0]["text"]

    applied = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert scn.cluster_arn is not None
    assert volume(sandbox, scn.cluster_arn) == 1520
    # Issue 23 (operator-hunt N9): the window's readings are percents of the old 1000 GiB; of the new
    # 1520 GiB the fullest broker holds 91 * 1000 / 1520 = 59.9%, under the limit: no second growth
    # (which MSK's six-hour cool-down would refuse, and which would be irreversible cost after it).
    again = cli("plan", "--esm", scn.esm_uuid, "--output", "json", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout
    assert json.loads(again.stdout)["changes"] == []
    assert volume(sandbox, scn.cluster_arn) == 1520
    # Operator-hunt N13 and N22: the growth cannot be undone, and is said so (not "by hand", not "changed
    # since"); with --output json the steps are in the document, which standard error points to.
    run_id = applied.stdout.rsplit("Run id: ", 1)[1].split()[0]
    undo = cli("rollback", run_id, "--auto-approve", "--output", "json")
    assert undo.returncode == 5, undo.stderr
    [step] = json.loads(undo.stdout)["plan"]["manual_steps"]
    assert step["text"].startswith(
        f"c1 update_broker_storage on {scn.cluster_arn} cannot be undone: MSK storage"
    )
    assert "(`manual_steps` in the JSON document)" in undo.stderr
    assert "changed since the run or" not in undo.stderr


def test_cpu_saturated_with_numbers(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-cpu-saturated")
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "BROKER_CPU_SATURATED"
    ev = found["evidence"]
    assert isinstance(ev, dict)
    # The worst minute of user + system: 57 + 15 = 72 (not the sum of separate maxima from other minutes).
    assert (ev["worst"], ev["limit"], ev["instance_type"]) == (72.0, 60.0, "kafka.m5.large")
    plan = json.loads(cli("plan", "--esm", scn.esm_uuid, "--output", "json").stdout)
    assert plan["changes"] == []
    assert "update-broker-type" in plan["manual_steps"][0]["text"]


def test_connections_exhausted_on_iam_cluster(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-connections-exhausted")
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "BROKER_CONNECTIONS_EXHAUSTED"
    ev = found["evidence"]
    assert isinstance(ev, dict)
    assert (ev["worst"], ev["limit"], ev["auth"]) == (2950.0, 3000.0, "iam")
    assert ev["brokers"][0] == {"broker_id": "3", "value": 2950.0}


def test_connections_have_no_quota_without_iam(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-connections-exhausted", name="conn-scram", auth="scram")
    assert [f["code"] for f in diagnosed(cli, scn.esm_uuid)] == []


def test_healthy_metrics_are_evidence_of_an_unexplained_error(sandbox: Sandbox, cli: CliRunner) -> None:
    """Healthy brokers are not blamed (issue 21): the numbers stay as evidence, no batch-size change."""
    scn = build_scenario(sandbox, "broker-timeout-measured")
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "CONNECTION_UNEXPLAINED"
    ev = found["evidence"]
    assert isinstance(ev, dict)
    assert (ev["max_cpu_percent"], ev["max_disk_used_percent"]) == (36.0, 42.5)
    assert (ev["active_controllers"], ev["offline_partitions"]) == (1.0, 0.0)
    assert (ev["max_heap_after_gc_percent"], ev["max_memory_used_bytes"]) == (21.5, None)
    assert "broker metrics over the last 60 min" in str(ev["metrics"])
    plan = json.loads(cli("plan", "--esm", scn.esm_uuid, "--output", "json").stdout)
    assert plan["changes"] == []


def test_denied_metrics_are_could_not_check(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-storage-full")
    sandbox.faults.add(FaultRule(service="monitoring", operation="GetMetricData", kind="status", status=403))
    found = diagnosed(cli, scn.esm_uuid)
    assert [f["code"] for f in found] == ["COULD_NOT_CHECK", "COULD_NOT_CHECK"]
    assert all("AccessDenied on GetMetricData" in str(f["summary"]) for f in found)


def test_metrics_off_reads_none(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-storage-full")
    sandbox.clear_calls()
    run = cli("diagnose", "--esm", scn.esm_uuid, "--output", "json", env={"REMEDIATE_METRICS_WINDOW": "0"})
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["findings"] == []
    assert not [c for c in sandbox.calls if c[0] == "monitoring" or c[1] == "ListNodes"]


def test_scan_reads_metrics_once_per_cluster_and_per_function(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-storage-full")
    lam = sandbox.client("lambda")
    for topic in ("t2", "t3", "t4"):  # more mappings of the same function on the same cluster
        lam.create_event_source_mapping(
            FunctionName=scn.function_name,
            EventSourceArn=scn.cluster_arn,
            Topics=[topic],
            StartingPosition="LATEST",
        )
    sandbox.clear_calls()
    run = cli("scan", "--output", "json")
    assert run.returncode == 2, run.stderr
    mappings = json.loads(run.stdout)["mappings"]
    assert len(mappings) == 4
    # (The other topics are outside the role's policy, so those mappings have findings of their own too.)
    assert all("BROKER_STORAGE_FULL" in [f["code"] for f in m["findings"]] for m in mappings)
    calls = sandbox.calls
    # one for the cluster's brokers, one for the function (issue 26: each kind batched across the scan)
    assert calls.count(("monitoring", "GetMetricData")) == 2
    assert calls.count(("kafka", "ListNodes")) == 1
    # issue 26: one GetFunction gives the function's configuration and concurrency (its own rate bucket).
    assert calls.count(("lambda", "GetFunction")) == 1
    assert calls.count(("lambda", "GetFunctionConcurrency")) == 0
    assert calls.count(("lambda", "GetFunctionConfiguration")) == 0


def test_throttled_metric_reads_are_retried(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-cpu-saturated")
    sandbox.faults.add(FaultRule(service="monitoring", operation="GetMetricData", kind="throttle", times=2))
    sandbox.clear_calls()
    [found] = diagnosed(cli, scn.esm_uuid)
    assert found["code"] == "BROKER_CPU_SATURATED"
    assert (
        sandbox.calls.count(("monitoring", "GetMetricData")) == 4
    )  # 2 refused, then the cluster's and the function's
