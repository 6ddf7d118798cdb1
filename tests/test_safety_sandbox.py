"""The sandbox refuses what AWS refuses where the safety fixes rely on it, and injects the faults the
safety tests need (one caller's calls slowed, an answer lost after the call took effect, AWS's clock).

Each AWS rule is cited where the sandbox encodes it (remediate/sandbox/patches.py)."""

from __future__ import annotations

import threading
import time
from email.utils import parsedate_to_datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from remediate.sandbox import FaultRule, Sandbox

NO_RETRIES = Config(retries={"max_attempts": 0, "mode": "standard"}, connect_timeout=5, read_timeout=10)


def vpc_with_subnet(sb: Sandbox) -> tuple[str, str]:
    ec2 = sb.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    # Private-DNS endpoints need both VPC DNS attributes on (issue 24, S1).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1a")
    return vpc, subnet["Subnet"]["SubnetId"]


def endpoint(sb: Sandbox, vpc: str, subnet: str, group: str, token: str = "") -> dict[str, Any]:
    made: dict[str, Any] = sb.client("ec2").create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.us-east-1.lambda",
        VpcEndpointType="Interface",
        SubnetIds=[subnet],
        SecurityGroupIds=[group],
        PrivateDnsEnabled=True,
        **({"ClientToken": token} if token else {}),
    )["VpcEndpoint"]
    return made


def code(call: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


def test_a_security_group_an_endpoint_uses_cannot_be_deleted(sandbox: Sandbox) -> None:
    ec2 = sandbox.client("ec2")
    vpc, subnet = vpc_with_subnet(sandbox)
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    made = endpoint(sandbox, vpc, subnet, group)
    assert code(lambda: ec2.delete_security_group(GroupId=group)) == "DependencyViolation"
    ec2.delete_vpc_endpoints(VpcEndpointIds=[made["VpcEndpointId"]])
    ec2.delete_security_group(GroupId=group)  # once the endpoint is gone it can go


def test_a_security_group_another_group_names_cannot_be_deleted(sandbox: Sandbox) -> None:
    ec2 = sandbox.client("ec2")
    vpc, _subnet = vpc_with_subnet(sandbox)
    target = ec2.create_security_group(GroupName="t", Description="t", VpcId=vpc)["GroupId"]
    other = ec2.create_security_group(GroupName="o", Description="o", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_egress(
        GroupId=other,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": target}]}
        ],
    )
    with pytest.raises(ClientError) as caught:
        ec2.delete_security_group(GroupId=target)
    assert caught.value.response["Error"]["Code"] == "DependencyViolation"
    assert f"resource {target} has a dependent object" in caught.value.response["Error"]["Message"]
    ec2.delete_security_group(GroupId=other)  # the group that names it is not itself in use
    ec2.delete_security_group(GroupId=target)


def test_a_duplicate_rule_is_refused(sandbox: Sandbox) -> None:
    ec2 = sandbox.client("ec2")
    vpc, _subnet = vpc_with_subnet(sandbox)
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    peer = ec2.create_security_group(GroupName="p", Description="p", VpcId=vpc)["GroupId"]
    rule = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": peer}]}
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[rule])
    assert code(lambda: ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[rule])) == (
        "InvalidPermission.Duplicate"
    )
    assert code(lambda: ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)) == (
        "InvalidGroup.Duplicate"
    )


def test_an_interface_endpoint_is_pending_before_it_is_available(sandbox: Sandbox) -> None:
    ec2 = sandbox.client("ec2")
    vpc, subnet = vpc_with_subnet(sandbox)
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    made = endpoint(sandbox, vpc, subnet, group)
    assert made["State"] == "pending"
    states = [
        ec2.describe_vpc_endpoints(VpcEndpointIds=[made["VpcEndpointId"]])["VpcEndpoints"][0]["State"]
        for _ in range(sandbox.endpoint_pending_reads + 1)
    ]
    assert states == ["pending"] * sandbox.endpoint_pending_reads + ["available"]


def test_a_client_token_reused_after_deletion_answers_with_the_deleted_endpoint(sandbox: Sandbox) -> None:
    ec2 = sandbox.client("ec2")
    vpc, subnet = vpc_with_subnet(sandbox)
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    first = endpoint(sandbox, vpc, subnet, group, token="tok-1")
    assert endpoint(sandbox, vpc, subnet, group, token="tok-1")["VpcEndpointId"] == first["VpcEndpointId"]
    ec2.delete_vpc_endpoints(VpcEndpointIds=[first["VpcEndpointId"]])
    again = endpoint(sandbox, vpc, subnet, group, token="tok-1")
    assert (again["VpcEndpointId"], again["State"]) == (first["VpcEndpointId"], "deleted")
    assert endpoint(sandbox, vpc, subnet, group, token="tok-2")["VpcEndpointId"] != first["VpcEndpointId"]


def client_as(sb: Sandbox, service: str, key: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id=key, aws_secret_access_key="testing", region_name=sb.region
    )
    return session.client(service, endpoint_url=sb.endpoint_url, config=NO_RETRIES)  # type: ignore[call-overload]


def test_a_fault_can_be_aimed_at_one_caller(sandbox: Sandbox) -> None:
    rule = sandbox.faults.add(FaultRule(service="lambda", kind="status", status=503, caller="RACER-A"))
    assert code(lambda: client_as(sandbox, "lambda", "RACER-A").list_functions()) == "ServiceUnavailable"
    client_as(sandbox, "lambda", "RACER-B").list_functions()
    assert sandbox.faults.fired(rule) == 1


def test_a_response_latency_delays_the_answer_not_the_effect(sandbox: Sandbox) -> None:
    """A slow answer: the write has taken effect while its caller still waits."""
    ec2 = sandbox.client("ec2")
    vpc, _subnet = vpc_with_subnet(sandbox)
    sandbox.faults.add(
        FaultRule(service="ec2", operation="CreateSecurityGroup", kind="latency", latency=3, phase="response")
    )
    slow = threading.Thread(
        target=lambda: client_as(sandbox, "ec2", "testing").create_security_group(
            GroupName="late", Description="late", VpcId=vpc
        )
    )
    slow.start()
    filters = [{"Name": "group-name", "Values": ["late"]}, {"Name": "vpc-id", "Values": [vpc]}]
    seen = []
    while slow.is_alive() and not seen:
        seen = ec2.describe_security_groups(Filters=filters)["SecurityGroups"]
    assert seen
    assert slow.is_alive(), "the group should exist before its creator has its answer"
    slow.join()


def test_a_held_request_waits_at_the_door_until_released(sandbox: Sandbox) -> None:
    """The nth matching call is held before the backend (it has not taken effect), the others pass;
    once released it takes effect, and `handled` says so. A cleared fault set lets a held call go."""
    ec2 = sandbox.client("ec2")
    vpc, _subnet = vpc_with_subnet(sandbox)
    hold = sandbox.faults.hold([("ec2", "CreateSecurityGroup")], nth=2)
    ec2.create_security_group(GroupName="first", Description="first", VpcId=vpc)  # the 1st passes
    held = threading.Thread(
        target=lambda: client_as(sandbox, "ec2", "testing").create_security_group(
            GroupName="second", Description="second", VpcId=vpc
        )
    )
    held.start()
    assert hold.arrived.wait(30)
    filters = [{"Name": "group-name", "Values": ["second"]}, {"Name": "vpc-id", "Values": [vpc]}]
    assert ec2.describe_security_groups(Filters=filters)["SecurityGroups"] == []  # not yet done
    assert held.is_alive()
    assert not hold.handled.is_set()
    hold.release()
    held.join(30)
    assert hold.handled.is_set()
    assert len(ec2.describe_security_groups(Filters=filters)["SecurityGroups"]) == 1
    ec2.create_security_group(GroupName="third", Description="third", VpcId=vpc)  # a hold holds once

    again = sandbox.faults.hold([("ec2", "CreateSecurityGroup")])
    late = threading.Thread(
        target=lambda: client_as(sandbox, "ec2", "testing").create_security_group(
            GroupName="fourth", Description="fourth", VpcId=vpc
        )
    )
    late.start()
    assert again.arrived.wait(30)
    sandbox.faults.clear()
    late.join(30)
    assert again.handled.is_set()
    assert not late.is_alive()


def test_a_lost_answer_takes_effect(sandbox: Sandbox) -> None:
    ec2 = sandbox.client("ec2")
    vpc, _subnet = vpc_with_subnet(sandbox)
    sandbox.faults.add(
        FaultRule(service="ec2", operation="CreateSecurityGroup", kind="reset", phase="response", times=1)
    )
    with pytest.raises((ConnectionClosedError, EndpointConnectionError, ConnectionError)):
        client_as(sandbox, "ec2", "testing").create_security_group(GroupName="x", Description="x", VpcId=vpc)
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["x"]}])["SecurityGroups"]
    assert len(groups) == 1


def test_the_date_header_is_aws_clock(sandbox: Sandbox) -> None:
    sandbox.clock_offset = 7200
    headers = sandbox.client("lambda").list_functions()["ResponseMetadata"]["HTTPHeaders"]
    assert parsedate_to_datetime(headers["date"]).timestamp() - time.time() > 7000
