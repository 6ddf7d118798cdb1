"""Unit and property tests (issue 21, item 1): a connection error's summary never contradicts its evidence.

The oracle below states the documented limits itself (MSK developer guide: "Best practices for Standard
brokers", CPU user + system under 60%, act on KafkaDataLogsDiskUsed at 85%; "Amazon MSK quota", 3000
connections per broker under IAM access control; "Amazon MSK metrics for monitoring Standard brokers with
CloudWatch", UnderReplicatedPartitions, OfflinePartitionsCount, one active controller); it does not call the
code under test to decide what is trouble.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from remediate.checks import run_check
from remediate.evidence import BrokerTimeout, ConnectionUnexplained
from remediate.facts import BrokerHealth, BrokerStats, ClusterAuth, Facts
from tests import factories

CONNECTION = "PROBLEM: Connection error. Please check your event source connection configuration."


def _value(high: float) -> st.SearchStrategy[float | None]:
    return st.none() | st.floats(min_value=0, max_value=high, allow_nan=False).map(lambda v: round(v, 1))


brokers = st.lists(
    st.builds(
        BrokerStats,
        broker_id=st.sampled_from(["1", "2", "3"]),
        cpu_percent=_value(100),
        disk_used_percent=_value(100),
        heap_after_gc_percent=_value(100),
        memory_used_bytes=_value(8e9),
        connections=_value(3500),
        under_replicated_partitions=st.none() | st.sampled_from([0.0, 0.0, 0.0, 1.0, 40.0]),
    ),
    max_size=3,
)


@st.composite
def connection_facts(draw: st.DrawFn) -> Facts:
    f = factories.facts(esm=factories.esm(last_processing_result=CONNECTION, batch_size=500))
    assert f.cluster is not None
    iam = draw(st.booleans())
    cluster = f.cluster.model_copy(update={"auth": ClusterAuth(iam=iam, scram=not iam)})
    health = BrokerHealth(
        cluster_arn=cluster.arn,
        window_minutes=60,
        brokers=tuple(draw(brokers)),
        active_controllers=draw(st.none() | st.sampled_from([0.0, 1.0, 1.0])),
        offline_partitions=draw(st.none() | st.sampled_from([0.0, 0.0, 3.0])),
    )
    return f.model_copy(update={"cluster": cluster, "broker_health": health})


def trouble_measured(f: Facts) -> bool:
    """The oracle: some documented limit crossed in the window."""
    bh, cluster = f.broker_health, f.cluster
    assert bh is not None
    assert cluster is not None
    for b in bh.brokers:
        if b.cpu_percent is not None and b.cpu_percent >= 60:
            return True
        if b.disk_used_percent is not None and b.disk_used_percent >= 85:
            return True
        if cluster.auth.iam and b.connections is not None and b.connections >= 0.9 * 3000:
            return True
        if b.under_replicated_partitions:
            return True
    return bool(bh.offline_partitions) or bh.active_controllers == 0.0


@given(connection_facts())
def test_a_summary_never_contradicts_its_evidence(f: Facts) -> None:
    [found] = run_check("broker_timeout", f)
    summary = found.summary.lower()
    if trouble_measured(f):
        assert found.code == "BROKER_TIMEOUT"
        assert isinstance(found.evidence, BrokerTimeout)
        assert found.evidence.trouble
        for sign in found.evidence.trouble:
            assert sign.lower() in summary
    else:
        assert found.code == "CONNECTION_UNEXPLAINED"
        assert isinstance(found.evidence, ConnectionUnexplained)
        for word in ("overload", "saturated", "full", "exhausted", "batch size 1", "trouble:"):
            assert word not in summary
        assert found.evidence.next_steps
    # Every number the summary quotes is one of the evidence's numbers (nothing invented).
    ev = found.evidence.model_dump()
    measured = {v for k, v in ev.items() if isinstance(v, float)}
    quoted = re.findall(r"(?:cpu|disk|connections|partitions|controllers?)[^\d;,(]*?(\d+(?:\.\d+)?)", summary)
    for number in quoted:
        assert float(number) in measured or float(number) in {0.0, 1.0, 60.0, 85.0, 3000.0}


def test_trouble_names_its_limit() -> None:
    f = factories.facts(
        esm=factories.esm(last_processing_result=CONNECTION),
        broker_health=BrokerHealth(
            cluster_arn=factories.CLUSTER_ARN,
            window_minutes=60,
            brokers=(BrokerStats(broker_id="1", cpu_percent=72.0, disk_used_percent=91.0),),
        ),
    )
    [found] = run_check("broker_timeout", f)
    assert isinstance(found.evidence, BrokerTimeout)
    assert found.evidence.trouble == (
        "data-log disk at 91% (limit 85%)",
        "CPU (user + system) at 72% (keep under 60%)",
    )


def test_no_metrics_read_is_not_evidence_of_health() -> None:
    """Metrics not read (metrics_window 0) are listed as not measured, and nothing is concluded from them."""
    f = factories.facts(esm=factories.esm(last_processing_result=CONNECTION), broker_health=None)
    [found] = run_check("broker_timeout", f)
    assert isinstance(found.evidence, ConnectionUnexplained)
    assert found.evidence.not_measured[0].startswith("broker metrics not read")
    assert not any("broker overload" in r for r in found.evidence.ruled_out)
