"""Builders of `Facts` fixtures for pure unit tests of checks (no AWS, no sandbox)."""

from __future__ import annotations

from typing import Any

from remediate.facts import (
    BrokerHealth,
    BrokerStats,
    Cluster,
    ClusterAuth,
    Esm,
    Facts,
    Function,
    NamedPolicy,
    NatGateway,
    Network,
    Role,
    Route,
    RouteTable,
    SecurityGroup,
    SgRule,
    Subnet,
    Vpc,
)
from remediate.required_access import LOG_ACTIONS, NETWORK_ACTIONS

UUID = "0b6c2b8e-5c1d-4a38-9d49-3f6f0a9e2c11"
REGION = "us-east-1"
ACCOUNT = "123456789012"
CLUSTER_ARN = f"arn:aws:kafka:{REGION}:{ACCOUNT}:cluster/orders/abcd-1234"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:consumer"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/consumer-role"
LOG_GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/consumer:*"


def esm(**over: Any) -> Esm:
    base: dict[str, Any] = {
        "uuid": UUID,
        "arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{UUID}",
        "function_arn": FUNCTION_ARN,
        "state": "Enabled",
        "last_processing_result": "OK",
        "state_transition_reason": "USER_INITIATED",
        "batch_size": 100,
        "source_kind": "msk",
        "event_source_arn": CLUSTER_ARN,
        "topics": ("orders",),
    }
    base.update(over)
    return Esm(**base)


def network() -> Network:
    sg = SecurityGroup(
        id="sg-cluster",
        vpc_id="vpc-1",
        ingress=(SgRule(protocol="tcp", from_port=9098, to_port=9098, group_id="sg-cluster"),),
        egress=(SgRule(protocol="-1", cidr="0.0.0.0/0"),),
    )
    return Network(
        placement="cluster",
        vpc=Vpc(id="vpc-1", cidr="10.0.0.0/16", dns_support=True, dns_hostnames=True),
        subnets=(Subnet(id="subnet-a", vpc_id="vpc-1", availability_zone="us-east-1a", cidr="10.0.1.0/24"),),
        source_security_group_ids=("sg-cluster",),
        security_groups=(sg,),
        route_tables=(
            RouteTable(
                id="rtb-1",
                subnet_ids=("subnet-a",),
                routes=(
                    Route(destination="10.0.0.0/16", target="local"),
                    Route(destination="0.0.0.0/0", target="nat-1"),
                ),
            ),
            RouteTable(
                id="rtb-public",
                subnet_ids=("subnet-public",),
                routes=(
                    Route(destination="10.0.0.0/16", target="local"),
                    Route(destination="0.0.0.0/0", target="igw-1"),
                ),
            ),
        ),
        nat_gateways=(NatGateway(id="nat-1", subnet_id="subnet-public", state="available"),),
    )


def full_access_policy() -> dict[str, Any]:
    """What a healthy MSK IAM-auth execution role is granted (AWSLambdaMSKExecutionRole + kafka-cluster)."""
    cluster_path = CLUSTER_ARN.split(":cluster/", 1)[1]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"],
                "Resource": CLUSTER_ARN,
            },
            {
                "Effect": "Allow",
                "Action": list(NETWORK_ACTIONS),
                "Resource": "*",
            },
            {"Effect": "Allow", "Action": list(LOG_ACTIONS), "Resource": LOG_GROUP_ARN},
            {
                "Effect": "Allow",
                "Action": [
                    "kafka-cluster:Connect",
                    "kafka-cluster:DescribeClusterDynamicConfiguration",
                    "kafka-cluster:DescribeGroup",
                    "kafka-cluster:AlterGroup",
                    "kafka-cluster:DescribeTopic",
                    "kafka-cluster:ReadData",
                ],
                "Resource": [
                    CLUSTER_ARN,
                    f"arn:aws:kafka:{REGION}:{ACCOUNT}:topic/{cluster_path}/*",
                    f"arn:aws:kafka:{REGION}:{ACCOUNT}:group/{cluster_path}/*",
                ],
            },
        ],
    }


def facts(**over: Any) -> Facts:
    base: dict[str, Any] = {
        "region": REGION,
        "esm": esm(),
        "function": Function(arn=FUNCTION_ARN, name="consumer", role_arn=ROLE_ARN),
        "cluster": Cluster(
            arn=CLUSTER_ARN,
            name="orders",
            kind="PROVISIONED",
            state="ACTIVE",
            subnet_ids=("subnet-a",),
            security_group_ids=("sg-cluster",),
            auth=ClusterAuth(iam=True),
        ),
        "network": network(),
        "role": Role(
            arn=ROLE_ARN,
            name="consumer-role",
            trust_policy={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            inline_policies=(NamedPolicy(name="consumer-access", document=full_access_policy()),),
        ),
    }
    base.update(over)
    return Facts(**base)


# issue 21
def troubled_brokers(under_replicated: float = 7.0) -> BrokerHealth:
    """Broker metrics with measured trouble (a broker's under-replicated partitions) and healthy CPU and
    disk: what BROKER_TIMEOUT needs besides the connection error."""
    return BrokerHealth(
        cluster_arn=CLUSTER_ARN,
        window_minutes=60,
        brokers=(
            BrokerStats(broker_id="1", cpu_percent=20.0, disk_used_percent=30.0),
            BrokerStats(broker_id="2", under_replicated_partitions=under_replicated),
        ),
    )
