"""A restored snapshot is the scenario it was taken of: the tool sees the same account, and the copy is
independent of what happens to the sandbox afterwards.

The suite restores scenarios instead of rebuilding them (tests/conftest.py), so these tests build with
the real builder (`scenarios.build.__wrapped__`) and compare what `remediate diagnose` reports from a
fresh build with what it reports from the restored snapshot."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from remediate.sandbox import Sandbox, scenarios
from remediate.sandbox import snapshot as snapshots
from remediate.sandbox.scenarios import scenario_options
from tests.conftest import CliRunner


def _build(sb: Sandbox, name: str) -> Any:
    real = getattr(scenarios.build, "__wrapped__", scenarios.build)
    return real(sb, scenario_options(name))


@pytest.mark.parametrize(
    "name",
    [
        "scram-no-nat",  # KMS key, secret, NAT-less network: endpoints missing
        "mtls-untrusted-client-certificate",  # ACM PCA authorities and their keys
        "cross-account-secret-unreadable",  # a second account's backends
        "destination-sqs-own-key",  # an SQS queue (a model holding a lock of its own)
        "broker-cpu-saturated",  # metric data points
        "broker-logs-sasl",  # broker log events
        "topic-missing",  # topics kept on the cluster by the sandbox
        "sns-offered-in-one-az",  # endpoint-service zones kept on the EC2 backend
    ],
)
def test_a_restored_scenario_diagnoses_as_the_built_one(sandbox: Sandbox, cli: CliRunner, name: str) -> None:
    scn = _build(sandbox, name)
    taken = sandbox.snapshot()
    args = ("diagnose", "--esm", scn.esm_uuid, "--output", "json")
    built = cli(*args)
    sandbox.reset()
    assert snapshots.empty()
    sandbox.restore(taken)
    again = cli(*args)
    assert (again.returncode, again.stdout) == (built.returncode, built.stdout)
    assert sandbox.calls[: len(taken.calls)] == list(taken.calls)


def test_a_snapshot_is_independent_of_the_sandbox_and_of_each_restore(sandbox: Sandbox) -> None:
    scn = _build(sandbox, "healthy-msk")
    taken = sandbox.snapshot()
    lam = sandbox.client("lambda")
    lam.delete_event_source_mapping(UUID=scn.esm_uuid)  # after the snapshot: not in it
    for _ in range(2):  # the first restore's change must not reach the second
        sandbox.reset()
        sandbox.restore(taken)
        esm = lam.get_event_source_mapping(UUID=scn.esm_uuid)
        assert esm["BatchSize"] == 100
        lam.update_event_source_mapping(UUID=scn.esm_uuid, BatchSize=7)


def test_stamped_says_whether_the_state_holds_time_stamped_data(sandbox: Sandbox) -> None:
    _build(sandbox, "healthy-msk")
    assert not sandbox.snapshot().stamped
    sandbox.reset()
    _build(sandbox, "broker-cpu-saturated")  # broker metrics, one point a minute up to now
    assert sandbox.snapshot().stamped


def test_state_that_cannot_be_copied_has_no_snapshot(sandbox: Sandbox) -> None:
    _build(sandbox, "healthy-msk")
    from moto.backends import get_backend

    backend = get_backend("lambda")[sandbox.account_id][sandbox.region]
    backend.remediate_test_generator = (i for i in range(3))  # deepcopy refuses generators
    with pytest.raises(snapshots.SnapshotError):
        sandbox.snapshot()


def test_a_restored_function_can_be_deleted_after_the_originals_are_gone(sandbox: Sandbox) -> None:
    """moto finds a function by ARN through a weak dictionary; the standard library's copy of one keeps
    the original values, which the next reset lets go: DeleteFunction then failed (500, KeyError)."""
    scn = _build(sandbox, "healthy-msk")
    taken = sandbox.snapshot()
    lam = sandbox.client("lambda")
    function_arn = lam.get_event_source_mapping(UUID=scn.esm_uuid)["FunctionArn"]
    for _ in range(2):
        sandbox.reset()
        gc.collect()  # what only the snapshot refers to weakly is gone now
        sandbox.restore(taken)
        lam.delete_function(FunctionName=function_arn)
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_function(FunctionName=function_arn)
