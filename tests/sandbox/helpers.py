"""Small builders the gap tests share (the scenarios cover the full setups)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from remediate.sandbox import Sandbox


def make_network(sb: Sandbox, subnets: int = 3) -> tuple[str, list[str], str]:
    ec2 = sb.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet_ids = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24", AvailabilityZone=f"us-east-1{'abc'[i % 3]}")[
            "Subnet"
        ]["SubnetId"]
        for i in range(subnets)
    ]
    sg = ec2.create_security_group(GroupName="t", Description="t", VpcId=vpc)["GroupId"]
    return vpc, subnet_ids, sg


def make_cluster(sb: Sandbox, name: str = "t-cluster", **provisioned: Any) -> str:
    _, subnets, sg = make_network(sb)
    spec: dict[str, Any] = {
        "BrokerNodeGroupInfo": {
            "InstanceType": "kafka.m5.large",
            "ClientSubnets": subnets,
            "SecurityGroups": [sg],
        },
        "KafkaVersion": "3.6.0",
        "NumberOfBrokerNodes": 3,
    }
    spec.update(provisioned)
    arn: str = sb.client("kafka").create_cluster_v2(ClusterName=name, Provisioned=spec)["ClusterArn"]
    return arn


def make_function(sb: Sandbox, name: str = "t-fn", **kwargs: Any) -> str:
    iam = sb.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 1\n")
    arn: str = sb.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": buffer.getvalue()},
        **kwargs,
    )["FunctionArn"]
    return arn


def make_msk_esm(sb: Sandbox, **kwargs: Any) -> tuple[str, str]:
    """An MSK ESM; returns (uuid, cluster_arn)."""
    cluster = make_cluster(sb)
    make_function(sb)
    args: dict[str, Any] = {"FunctionName": "t-fn", "EventSourceArn": cluster, "Topics": ["orders"]}
    args["StartingPosition"] = "LATEST"
    args.update(kwargs)
    esm = sb.client("lambda").create_event_source_mapping(**args)
    return esm["UUID"], cluster
