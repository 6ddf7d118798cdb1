"""Issue 21 (items 4 and 8): what the sandbox adds for the brokers' logs and Express brokers.

* FilterLogEvents with `?` terms (remediate/sandbox/log_filters.py; CloudWatch Logs user guide, "Filter
  pattern syntax ...": `?TERM ?TERM` returns events holding any of them, a quoted term is an exact phrase).
  Plain moto lets every event through for such a pattern.
* A cluster's broker log delivery (Provisioned.LoggingInfo) kept by CreateClusterV2 and returned by
  DescribeClusterV2 (MSK API reference, LoggingInfo).
* UpdateBrokerStorage refused on Express brokers (remediate/sandbox/health.py; MSK developer guide, "Amazon
  MSK Express brokers": no storage to provision or manage). Plain moto has no UpdateBrokerStorage at all.
"""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from remediate.sandbox import Sandbox

from .helpers import make_cluster, make_network


def _group(sb: Sandbox, *messages: str) -> str:
    logs = sb.client("logs")
    logs.create_log_group(logGroupName="/t/brokers")
    logs.create_log_stream(logGroupName="/t/brokers", logStreamName="b-1")
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="/t/brokers",
        logStreamName="b-1",
        logEvents=[
            {"timestamp": now - 1000 * (len(messages) - i), "message": m} for i, m in enumerate(messages)
        ],
    )
    return "/t/brokers"


def test_any_of_terms_returns_only_the_events_holding_one(sb: Sandbox) -> None:
    group = _group(
        sb,
        "INFO Failed authentication with /10.1.0.10 (SSL handshake failed)",
        "INFO Preparing to rebalance group g",
        "ERROR java.io.IOException: No space left on device",
        "INFO failed authentication in lower case",
    )
    events = sb.client("logs").filter_log_events(
        logGroupName=group, filterPattern='?"Failed authentication" ?"No space left on device"'
    )["events"]
    assert [e["message"][:5] for e in events] == ["INFO ", "ERROR"]  # case-sensitive, phrases exact
    plain = sb.client("logs").filter_log_events(logGroupName=group, filterPattern="rebalance")["events"]
    assert [e["message"] for e in plain] == ["INFO Preparing to rebalance group g"]  # moto's own, unchanged


def test_broker_log_delivery_is_kept_and_described(sb: Sandbox) -> None:
    logging = {"BrokerLogs": {"CloudWatchLogs": {"Enabled": True, "LogGroup": "/t/brokers"}}}
    arn = make_cluster(sb, LoggingInfo=logging)
    info = sb.client("kafka").describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]
    assert info["Provisioned"]["LoggingInfo"] == logging


def test_express_brokers_have_no_storage_to_update(sb: Sandbox) -> None:
    _, subnets, group = make_network(sb)
    nodes = {"InstanceType": "express.m7g.large", "ClientSubnets": subnets, "SecurityGroups": [group]}
    arn = make_cluster(sb, name="t-express", BrokerNodeGroupInfo=nodes)
    kafka = sb.client("kafka")
    version = kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["CurrentVersion"]
    with pytest.raises(ClientError) as error:
        kafka.update_broker_storage(
            ClusterArn=arn,
            CurrentVersion=version,
            TargetBrokerEBSVolumeInfo=[{"KafkaBrokerNodeId": "All", "VolumeSizeGB": 200}],
        )
    assert error.value.response["Error"]["Code"] == "BadRequestException"
    assert "Express" in error.value.response["Error"]["Message"]
