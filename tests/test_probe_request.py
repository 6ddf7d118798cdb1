"""What `remediate probe` asks its function to measure and where it places it, from `Facts` (pure)."""

from __future__ import annotations

import json

import pytest

from remediate.facts import Network, SourceAccess
from remediate.probe_request import NotProbeable, probe_request
from tests import factories as f

IAM_BROKERS = "b-1.orders.kafka.us-east-1.amazonaws.com:9098,b-2.orders.kafka.us-east-1.amazonaws.com:9098"
SCRAM_ARN = f"arn:aws:secretsmanager:{f.REGION}:{f.ACCOUNT}:secret:AmazonMSK_orders-AbCdEf"


def msk_facts(**esm_over: object) -> object:
    cluster = f.facts().cluster
    assert cluster is not None
    cluster = cluster.model_copy(
        update={
            "bootstrap_brokers": {
                "BootstrapBrokerStringSaslIam": IAM_BROKERS,
                "BootstrapBrokerStringSaslScram": IAM_BROKERS.replace("9098", "9096"),
            }
        }
    )
    return f.facts(cluster=cluster, esm=f.esm(**esm_over))


def test_msk_iam_probe_stands_in_the_clusters_subnets_and_groups_as_the_functions_role() -> None:
    request = probe_request(msk_facts())
    assert request.subnet_ids == ("subnet-a",)
    assert request.security_group_ids == ("sg-cluster",)
    assert request.role_arn == f.ROLE_ARN
    assert request.event["bootstrap"] == IAM_BROKERS.split(",")
    assert request.event["security_protocol"] == "SASL_SSL"
    assert request.event["auth"]["mechanism"] == "AWS_MSK_IAM"
    assert "secret_arn" not in request.event["auth"]
    assert request.event["topics"] == ["orders"]
    assert request.event["group"] == f.UUID  # no ConsumerGroupId: the mapping's UUID


def test_msk_scram_names_the_secret_by_arn_only() -> None:
    request = probe_request(
        msk_facts(
            source_access=(SourceAccess(type="SASL_SCRAM_512_AUTH", uri=SCRAM_ARN),),
            consumer_group_id="orders-consumers",
        )
    )
    assert request.event["security_protocol"] == "SASL_SSL"
    assert request.event["auth"] == {
        "kind": "scram",
        "mechanism": "SCRAM-SHA-512",
        "secret_arn": SCRAM_ARN,
        "ca_secret_arn": None,
    }
    assert request.event["bootstrap"][0].endswith(":9096")
    assert request.event["group"] == "orders-consumers"
    json.dumps(request.event)  # the Invoke payload


def test_self_managed_placement_is_the_mappings_vpc_subnets_and_security_groups() -> None:
    ca_arn = f"arn:aws:secretsmanager:{f.REGION}:{f.ACCOUNT}:secret:kafka-ca-1"
    esm = f.esm(
        source_kind="self-managed",
        event_source_arn=None,
        bootstrap_servers=("kafka-1.internal:9096", "kafka-2.internal:9096"),
        source_access=(
            SourceAccess(type="SASL_SCRAM_256_AUTH", uri=SCRAM_ARN),
            SourceAccess(type="SERVER_ROOT_CA_CERTIFICATE", uri=ca_arn),
            SourceAccess(type="VPC_SUBNET", uri="subnet:subnet-a"),
            SourceAccess(type="VPC_SECURITY_GROUP", uri="security_group:sg-cluster"),
        ),
    )
    network = f.network().model_copy(update={"placement": "source-access"})
    request = probe_request(f.facts(esm=esm, cluster=None, network=network))
    assert request.event["bootstrap"] == ["kafka-1.internal:9096", "kafka-2.internal:9096"]
    assert request.event["security_protocol"] == "SASL_SSL"
    assert request.event["auth"]["mechanism"] == "SCRAM-SHA-256"
    assert request.event["auth"]["ca_secret_arn"] == ca_arn
    assert (request.subnet_ids, request.security_group_ids) == (("subnet-a",), ("sg-cluster",))


def test_self_managed_without_vpc_access_probes_from_outside_any_vpc() -> None:
    esm = f.esm(
        source_kind="self-managed", event_source_arn=None, bootstrap_servers=("kafka.example.com:9092",)
    )
    request = probe_request(f.facts(esm=esm, cluster=None, network=Network(placement="internet")))
    assert (request.subnet_ids, request.security_group_ids) == ((), ())
    assert request.event["security_protocol"] == "PLAINTEXT"


def test_a_mapping_without_a_read_function_cannot_be_probed() -> None:
    with pytest.raises(NotProbeable, match="execution role"):
        probe_request(f.facts(function=None))
