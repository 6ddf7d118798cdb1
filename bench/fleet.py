"""A sandbox fleet for the benchmarks: many mappings on a few clusters in a few VPCs, a third of them broken,
and as many security groups per VPC as asked for.

Everything is made through the sandbox's AWS API; only a mapping's status (what AWS alone decides) is set
directly. The fleet: one healthy baseline scenario per VPC (network, security groups, role, cluster), more
clusters in the same VPCs, one function per `per_function` mappings, and every third mapping broken
(alternately brokers timing out and disabled, which the shipped playbooks detect). Every cluster's brokers
and every function publish healthy metrics (`seed_metrics`), so a scan with metrics on reads real data
points and finds nothing more.
"""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass

from remediate.sandbox import Sandbox, build_scenario
from remediate.sandbox.scenarios import CONNECTION_ERROR


@dataclass(frozen=True)
class Fleet:
    broken: dict[str, str]  # ESM UUID -> the finding code it must get
    healthy: frozenset[str]
    clusters: int
    functions: int
    vpc_ids: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.broken) + len(self.healthy)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def build_fleet(
    sb: Sandbox, esms: int, *, clusters: int = 10, vpcs: int = 3, per_function: int = 10
) -> Fleet:
    kafka, lam = sb.client("kafka"), sb.client("lambda")
    bases = [build_scenario(sb, "healthy-msk", name=f"bench-vpc{v}", auth="none") for v in range(vpcs)]
    for base in bases:
        # The scenario opens the plaintext port (9092); the engine checks the TLS port (9094) of a
        # TLS_PLAINTEXT cluster. Open both, so the healthy mappings are healthy whichever is used.
        group = base.security_group_ids[0]
        sb.client("ec2").authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 9094,
                    "ToPort": 9094,
                    "UserIdGroupPairs": [{"GroupId": group}],
                }
            ],
        )
    cluster_arns: list[tuple[str, str]] = []  # (cluster ARN, role ARN of its VPC)
    for c in range(clusters):
        base = bases[c % vpcs]
        if c < vpcs:
            assert base.cluster_arn is not None
            cluster_arns.append((base.cluster_arn, base.role_arn))
            continue
        arn = kafka.create_cluster_v2(
            ClusterName=f"bench-cluster{c}",
            Provisioned={
                "BrokerNodeGroupInfo": {
                    "InstanceType": "kafka.m5.large",
                    "ClientSubnets": list(base.subnet_ids),
                    "SecurityGroups": list(base.security_group_ids),
                },
                "KafkaVersion": "3.6.0",
                "NumberOfBrokerNodes": 3,
                "ClientAuthentication": {"Unauthenticated": {"Enabled": True}},
                "EncryptionInfo": {
                    "EncryptionInTransit": {"ClientBroker": "TLS_PLAINTEXT", "InCluster": True}
                },
            },
        )["ClusterArn"]
        cluster_arns.append((arn, base.role_arn))
    for arn, _role in cluster_arns:  # the mappings' topics exist (ListTopics reads them, issue 21)
        for t in range(per_function):
            sb.put_topic(arn, f"topic{t}", 3, 3)
    healthy = {b.esm_uuid for b in bases}  # the baseline scenarios' own mappings are part of the fleet
    broken: dict[str, str] = {}
    code = _zip()
    functions = math.ceil(max(esms - vpcs, 0) / per_function)
    made = len(healthy)
    for f in range(functions):
        cluster_arn, role_arn = cluster_arns[f % clusters]
        name = f"bench-fn{f}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler="index.handler",
            Code={"ZipFile": code},
        )
        for t in range(per_function):
            if made >= esms:
                break
            uuid = lam.create_event_source_mapping(
                FunctionName=name,
                EventSourceArn=cluster_arn,
                Topics=[f"topic{t}"],
                StartingPosition="LATEST",
                BatchSize=100,
            )["UUID"]
            made += 1
            if made % 3 == 0:
                if made % 6 == 0:
                    sb.set_esm_status(uuid, state="Disabled")
                    broken[uuid] = "ESM_DISABLED"
                else:
                    sb.set_esm_status(uuid, last_processing_result=CONNECTION_ERROR)
                    # Healthy broker metrics (HEALTHY_BROKER): not explained, not blamed on the brokers.
                    broken[uuid] = "CONNECTION_UNEXPLAINED"
            else:
                healthy.add(uuid)
    vpc_ids = tuple(str(b.vpc_id) for b in bases)
    names = [f"bench-fn{f}" for f in range(functions)] + [str(b.function_name) for b in bases]
    seed_metrics(sb, [arn for arn, _ in cluster_arns], names)
    return Fleet(broken, frozenset(healthy), clusters, functions + vpcs, vpc_ids)


HEALTHY_BROKER = {"CpuUser": (22.0, 25.0), "CpuSystem": (4.0, 5.0), "KafkaDataLogsDiskUsed": (35.0,)}
HEALTHY_FUNCTION = {"Invocations": (40.0, 55.0), "Errors": (1.0,)}


def seed_metrics(sb: Sandbox, cluster_arns: list[str], functions: list[str]) -> None:
    """Healthy data points for every broker (3 per cluster) and every function, as the services publish."""
    for arn in cluster_arns:
        name = arn.split(":", 5)[-1].split("/")[1]
        for broker in ("1", "2", "3"):
            for metric, values in HEALTHY_BROKER.items():
                sb.put_metrics("AWS/Kafka", metric, {"Cluster Name": name, "Broker ID": broker}, list(values))
    for fn in functions:
        for metric, values in HEALTHY_FUNCTION.items():
            sb.put_metrics("AWS/Lambda", metric, {"FunctionName": fn}, list(values))


def groups_in(sb: Sandbox, vpc_id: str) -> list[str]:
    ec2 = sb.client("ec2")
    found = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
    return [g["GroupId"] for g in found]


def grow_groups(sb: Sandbox, fleet: Fleet, per_vpc: int) -> int:
    """Add security groups until each VPC holds `per_vpc` (or what it already has, if more); return the
    smallest count. Each new group admits the previous one on 443 and a /16 on 22, as application tiers
    do, so groups reference groups the way real VPCs' do."""
    ec2 = sb.client("ec2")
    counts = []
    for vpc_id in fleet.vpc_ids:
        ids = groups_in(sb, vpc_id)
        while len(ids) < per_vpc:
            gid = ec2.create_security_group(
                GroupName=f"bench-tier{len(ids)}-{vpc_id}", Description="bench tier", VpcId=vpc_id
            )["GroupId"]
            ec2.authorize_security_group_ingress(
                GroupId=gid,
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 443,
                        "ToPort": 443,
                        "UserIdGroupPairs": [{"GroupId": ids[-1]}],
                    },
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 22,
                        "ToPort": 22,
                        "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
                    },
                ],
            )
            ids.append(gid)
        counts.append(len(ids))
    return min(counts)
