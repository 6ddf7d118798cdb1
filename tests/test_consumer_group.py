"""Unit tests of the consumer-group check on `Facts` fixtures, and of how the listing becomes peers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from remediate.checks.consumer_group import consumer_group_shared
from remediate.facts import PeerMapping
from remediate.observe.reads import _by_group, _parsed, _peers
from tests import factories

OTHER = "7d9a1f3e-2b4c-4d5e-8f60-718293a4b5c6"


def peer(group: str, topics: tuple[str, ...] = ("orders",), uuid: str = OTHER) -> PeerMapping:
    return PeerMapping(
        uuid=uuid, function_arn=factories.FUNCTION_ARN + "-other", group_id=group, topics=topics
    )


def test_a_peer_in_the_group_on_the_topic_is_reported() -> None:
    facts = factories.facts(esm=factories.esm(consumer_group_id="shared"), peers=(peer("shared"),))
    (finding,) = consumer_group_shared(facts)
    assert finding.code == "CONSUMER_GROUP_SHARED"
    assert finding.evidence.model_dump() == {
        "group_id": "shared",
        "configured": True,
        "source": factories.CLUSTER_ARN,
        "topics": ("orders",),
        "peers": (OTHER,),
        "peer_functions": (factories.FUNCTION_ARN + "-other",),
    }


def test_another_topic_or_group_is_not_shared() -> None:
    esm = factories.esm(consumer_group_id="shared")
    assert consumer_group_shared(factories.facts(esm=esm, peers=(peer("shared", ("payments",)),))) == []
    assert consumer_group_shared(factories.facts(esm=esm, peers=(peer("other"),))) == []
    assert consumer_group_shared(factories.facts(esm=esm, peers=None)) == []


def test_a_peer_configured_with_this_mappings_uuid_shares_its_default_group() -> None:
    """Without ConsumerGroupId the group is the mapping's UUID (Lambda's default)."""
    facts = factories.facts(peers=(peer(factories.UUID),))
    (finding,) = consumer_group_shared(facts)
    assert finding.evidence.model_dump()["configured"] is False


def _raw(
    uuid: str, group: str | None, *, arn: str = factories.CLUSTER_ARN, topics: tuple[str, ...] = ("orders",)
):  # type: ignore[no-untyped-def]
    raw = {"UUID": uuid, "FunctionArn": factories.FUNCTION_ARN, "EventSourceArn": arn, "Topics": list(topics)}
    if group:
        raw["AmazonManagedKafkaEventSourceConfig"] = {"ConsumerGroupId": group}
    return raw


def test_the_listing_keeps_only_this_sources_mappings_in_this_group() -> None:
    esm = factories.esm(consumer_group_id="shared")
    other_cluster = factories.CLUSTER_ARN.replace("orders", "payments")
    raws = [
        _raw(factories.UUID, "shared"),  # itself
        _raw(OTHER, "shared"),
        _raw("11111111-2222-4333-8444-555555555555", "another"),
        _raw("66666666-7777-4888-9999-aaaaaaaaaaaa", "shared", arn=other_cluster),
        {"UUID": "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff", "EventSourceArn": "arn:aws:sqs:us-east-1:1:q"},
    ]
    assert [p.uuid for p in _peers(esm, _by_group(_parsed(raws)))] == [OTHER]


def test_self_managed_peers_share_a_broker_host() -> None:
    esm = factories.esm(
        source_kind="self-managed",
        event_source_arn=None,
        bootstrap_servers=("b1.example:9092",),
        consumer_group_id="g",
    )
    raw = {
        "UUID": OTHER,
        "FunctionArn": factories.FUNCTION_ARN,
        "SelfManagedEventSource": {
            "Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["b2.example:9092", "b1.example:9092"]}
        },
        "SelfManagedKafkaEventSourceConfig": {"ConsumerGroupId": "g"},
        "Topics": ["orders"],
    }
    far = {
        **raw,
        "UUID": "11111111-2222-4333-8444-555555555555",
        "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["b9.example:9092"]}},
    }
    assert [p.uuid for p in _peers(esm, _by_group(_parsed([raw, far])))] == [OTHER]


names = st.sampled_from(["a", "b", "c"])


@settings(deadline=None)  # the machine is shared: a timing is no property
@given(
    group=names,
    topics=st.lists(names, min_size=1, max_size=3, unique=True),
    peers=st.lists(st.tuples(names, st.lists(names, min_size=1, max_size=3, unique=True)), max_size=4),
)
def test_reported_exactly_when_some_peer_shares_group_and_topic(
    group: str, topics: list[str], peers: list[tuple[str, list[str]]]
) -> None:
    esm = factories.esm(consumer_group_id=group, topics=tuple(topics))
    listed = tuple(
        peer(g, tuple(t), uuid=f"{n:08d}-0000-4000-8000-000000000000") for n, (g, t) in enumerate(peers)
    )
    found = consumer_group_shared(factories.facts(esm=esm, peers=listed))
    expected = [p for p in listed if p.group_id == group and set(p.topics) & set(topics)]
    assert len(found) == (1 if expected else 0)
    if found:
        assert found[0].evidence.model_dump()["peers"] == tuple(p.uuid for p in expected)
