"""One test per live-health gap the sandbox fills (remediate/sandbox/health.py), refusals included.

If a moto upgrade changes an internal these patches rely on, the matching test fails by name.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from remediate.sandbox import Sandbox

from .helpers import make_cluster, make_function, make_network


def _storage(sb: Sandbox, arn: str) -> tuple[int, str]:
    info = sb.client("kafka").describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]
    size = info["Provisioned"]["BrokerNodeGroupInfo"]["StorageInfo"]["EbsStorageInfo"]["VolumeSize"]
    return int(size), str(info["CurrentVersion"])


def _grow(sb: Sandbox, arn: str, size: int, version: str | None = None, node: str = "All") -> Any:
    current = version if version is not None else _storage(sb, arn)[1]
    return sb.client("kafka").update_broker_storage(
        ClusterArn=arn,
        CurrentVersion=current,
        TargetBrokerEBSVolumeInfo=[{"KafkaBrokerNodeId": node, "VolumeSizeGB": size}],
    )


def _refused(call: Any) -> str:
    with pytest.raises(ClientError) as error:
        call()
    assert error.value.response["Error"]["Code"] == "BadRequestException"
    return str(error.value.response["Error"]["Message"])


def cluster(sb: Sandbox, size: int = 100) -> str:
    _, subnets, group = make_network(sb)
    nodes = {
        "InstanceType": "kafka.m5.large",
        "ClientSubnets": subnets,
        "SecurityGroups": [group],
        "StorageInfo": {"EbsStorageInfo": {"VolumeSize": size}},
    }
    return make_cluster(sb, name="t-storage", BrokerNodeGroupInfo=nodes)


def test_list_nodes_one_broker_per_node(sb: Sandbox) -> None:
    arn = make_cluster(sb)
    nodes = sb.client("kafka").list_nodes(ClusterArn=arn)["NodeInfoList"]
    assert [n["BrokerNodeInfo"]["BrokerId"] for n in nodes] == [1.0, 2.0, 3.0]


# issue 21 (item 7): BrokerNodeInfo.Endpoints, "Endpoints for accessing the broker" (MSK API reference):
# the broker's host names, without ports, the same names GetBootstrapBrokers lists.
def test_list_nodes_gives_each_brokers_endpoints(sb: Sandbox) -> None:
    arn = make_cluster(sb)
    kafka = sb.client("kafka")
    nodes = kafka.list_nodes(ClusterArn=arn)["NodeInfoList"]
    endpoints = [n["BrokerNodeInfo"]["Endpoints"] for n in nodes]
    assert all(len(e) == 1 and ":" not in e[0] for e in endpoints)
    assert [e[0].split(".", 1)[0] for e in endpoints] == ["b-1", "b-2", "b-3"]
    listed = {
        s.rsplit(":", 1)[0]
        for b in kafka.get_bootstrap_brokers(ClusterArn=arn).values()
        if isinstance(b, str)
        for s in b.split(",")
    }
    assert {e[0] for e in endpoints} <= listed


def test_storage_grows_with_a_new_version_and_only_grows(sb: Sandbox) -> None:
    arn = cluster(sb)
    before = _storage(sb, arn)
    _grow(sb, arn, 200)
    size, version = _storage(sb, arn)
    assert size == 200
    assert version != before[1]
    assert "larger" in _refused(lambda: _grow(sb, arn, 150))


def test_storage_refusals(sb: Sandbox) -> None:
    arn = cluster(sb)
    assert "16384" in _refused(lambda: _grow(sb, arn, 16385))
    assert "version" in _refused(lambda: _grow(sb, arn, 200, version="K-stale"))
    assert "all brokers" in _refused(lambda: _grow(sb, arn, 200, node="1"))
    sb.set_cluster_state(arn, "UPDATING")
    assert "ACTIVE" in _refused(lambda: _grow(sb, arn, 200))


def test_storage_cool_down_of_six_hours(sb: Sandbox) -> None:
    arn = cluster(sb)
    _grow(sb, arn, 200, node="ALL")  # the CLI reference's spelling is accepted too
    assert "six hours" in _refused(lambda: _grow(sb, arn, 300))
    assert _storage(sb, arn)[0] == 200


def test_function_status_is_what_lambda_reports(sb: Sandbox) -> None:
    make_function(sb)
    sb.set_function_status("t-fn", state="Failed", state_reason="no IPs", last_update_status="Failed")
    config = sb.client("lambda").get_function_configuration(FunctionName="t-fn")
    assert (config["State"], config["StateReason"], config["LastUpdateStatus"]) == (
        "Failed",
        "no IPs",
        "Failed",
    )
    with pytest.raises(ValueError, match="state"):
        sb.set_function_status("t-fn", state="Broken")


def test_seeded_metrics_are_read_back(sb: Sandbox) -> None:
    sb.put_metrics("AWS/Lambda", "Errors", {"FunctionName": "t-fn"}, [1.0, 2.0, 3.0])
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    got = sb.client("cloudwatch").get_metric_data(
        MetricDataQueries=[
            {
                "Id": "e",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Errors",
                        "Dimensions": [{"Name": "FunctionName", "Value": "t-fn"}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=end - timedelta(minutes=10),
        EndTime=end,
    )["MetricDataResults"]
    assert sorted(got[0]["Values"]) == [1.0, 2.0, 3.0]


# issue 26: GetFunction answers the reserved concurrency, 0 included, beside the configuration.
def test_get_function_answers_reserved_concurrency_zero(sb: Sandbox) -> None:
    make_function(sb)
    lam = sb.client("lambda")
    assert "Concurrency" not in lam.get_function(FunctionName="t-fn")  # none reserved
    lam.put_function_concurrency(FunctionName="t-fn", ReservedConcurrentExecutions=0)
    got = lam.get_function(FunctionName="t-fn")
    assert got["Concurrency"] == {"ReservedConcurrentExecutions": 0}
    config = lam.get_function_configuration(FunctionName="t-fn")
    config.pop("ResponseMetadata")
    assert got["Configuration"] == config
