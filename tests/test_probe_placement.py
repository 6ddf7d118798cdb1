"""Issue 22: where the probe stands for a mapping in provisioned mode, and what its secret read means there.

Lambda developer guide, "Configuring your self-managed Apache Kafka cluster and network for Lambda"
(https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-cluster-network.html): "AWS PrivateLink VPC
endpoints are required for functions with event source mappings that use the default (on-demand) mode
for event pollers. If your event source mapping uses provisioned mode, you don't need to configure AWS
PrivateLink VPC endpoints"; the MSK page (with-msk-cluster-network.html) alike. The brokers are polled
from the same subnets and security groups in both modes (for MSK the cluster's: "Creating a Lambda event
source mapping for an Amazon MSK event source"), so the probe stands there in both; provisioned pollers
do not read secrets from the VPC, so the probe's own read there is not theirs.
"""

from __future__ import annotations

import time

import pytest

from remediate.facts import Network
from remediate.probe_function import handler as probe
from remediate.probe_request import probe_request
from remediate.sandbox import Sandbox, build_scenario
from tests import factories as f
from tests.conftest import CliRunner
from tests.test_probe_request import msk_facts


def test_provisioned_msk_probe_stands_where_on_demand_pollers_do_but_its_secret_read_is_its_own() -> None:
    on_demand = probe_request(msk_facts())
    provisioned = probe_request(msk_facts(provisioned_pollers=True))
    assert (provisioned.subnet_ids, provisioned.security_group_ids) == (("subnet-a",), ("sg-cluster",))
    assert (provisioned.subnet_ids, provisioned.security_group_ids) == (
        on_demand.subnet_ids,
        on_demand.security_group_ids,
    )
    assert provisioned.event == on_demand.event
    assert (on_demand.pollers_mode, on_demand.secrets_read_like_pollers) == ("on-demand", True)
    assert (provisioned.pollers_mode, provisioned.secrets_read_like_pollers) == ("provisioned", False)


def test_provisioned_mapping_outside_any_vpc_reads_its_secrets_where_the_probe_does() -> None:
    esm = f.esm(
        source_kind="self-managed",
        event_source_arn=None,
        bootstrap_servers=("kafka.example.com:9092",),
        provisioned_pollers=True,
    )
    request = probe_request(f.facts(esm=esm, cluster=None, network=Network(placement="internet")))
    assert (request.subnet_ids, request.pollers_mode, request.secrets_read_like_pollers) == (
        (),
        "provisioned",
        True,
    )


def test_the_plan_of_a_provisioned_mapping_names_the_clusters_place_and_what_differs(
    sandbox: Sandbox, cli: CliRunner
) -> None:
    scn = build_scenario(sandbox, "provisioned-no-nat")
    done = cli("probe", "--esm", scn.esm_uuid)  # no terminal, no --auto-approve: the plan only
    assert done.returncode == 3
    assert f"placement    subnets {', '.join(scn.subnet_ids)}" in done.stderr
    assert "mode         provisioned mode: its pollers reach the brokers from this same place" in done.stderr
    assert "the probe reads the secrets from here" in done.stderr


def test_a_secret_that_cannot_be_read_from_the_vpc_is_a_result_within_bounded_time(
    black_hole: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe, "SECRET_TIMEOUT_S", 0.3)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{black_hole}")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    event = {
        "bootstrap": ["localhost:9"],
        "security_protocol": "SASL_SSL",
        "auth": {"kind": "scram", "mechanism": "SCRAM-SHA-512", "secret_arn": "arn:aws:secretsmanager:x"},
    }
    started = time.monotonic()
    result = probe.handler(event)
    assert time.monotonic() - started < 5
    assert result["complete"] is False
    assert result["secret_error"] == "ReadTimeoutError"
