"""The mapping's topics, from MSK's topic APIs (issue 21, item 2): a missing topic is named, never blamed on
the brokers, and a topic with a single replica is a warning.

MSK developer guide, "Topic Operations" (the requirements of ListTopics: Provisioned, Kafka 3.6.0 or later,
ACTIVE, kafka-cluster:Connect and kafka-cluster:DescribeTopic) and "Patching impact" (a topic with
replication factor 1 is unavailable while its broker is patched, so its consumers stall).
"""

from __future__ import annotations

import difflib
from collections import Counter

from remediate import kafka
from remediate.checks.base import check
from remediate.error_text import hints_for
from remediate.evidence import CouldNotCheck, TopicNotFound, TopicReplicationFactorOne
from remediate.facts import Facts, Topic
from remediate.findings import Finding

_SEPARATORS = ("-", "_", ".")


def near_misses(wanted: str, names: list[str]) -> tuple[str, ...]:
    """Existing names a person may have meant: the same name in another case, the name with another
    suffix after '-', '_' or '.', or a close spelling."""
    out: list[str] = []
    low = wanted.lower()
    for name in names:
        other = name.lower()
        longer, shorter = (other, low) if len(other) >= len(low) else (low, other)
        if longer.startswith(shorter) and longer[len(shorter) : len(shorter) + 1] in ("", *_SEPARATORS):
            out.append(name)
    out += difflib.get_close_matches(wanted, names, n=3, cutoff=0.8)
    return tuple(dict.fromkeys(n for n in out if n != wanted))


def _common(values: list[int | None]) -> int | None:
    found = Counter(v for v in values if v is not None).most_common(1)
    return found[0][0] if found else None


@check("topics", "TOPIC_NOT_FOUND", "TOPIC_REPLICATION_FACTOR_ONE", "COULD_NOT_CHECK")
def topics(facts: Facts) -> list[Finding]:
    """The mapping's topics against the cluster's: missing ones (with near misses), single-replica ones."""
    seen, cluster = facts.topics, facts.cluster
    if seen is None or cluster is None:
        return []
    if cluster.state != kafka.CLUSTER_ACTIVE:
        return []  # CLUSTER_NOT_ACTIVE says so; the topic APIs answer only for an ACTIVE cluster
    name = cluster.name or cluster.arn
    failing = bool(hints_for(facts.esm.last_processing_result, facts.esm.state_transition_reason))
    if seen.not_applicable or seen.unread:
        if not failing:
            return []  # nothing to explain: the gap is not worth a finding on a healthy trigger
        reason = seen.not_applicable or "; ".join(seen.unread)
        what = f"whether the mapping's topics exist on MSK cluster {name}"
        return [
            Finding(
                code="COULD_NOT_CHECK",
                summary=f"could not check {what}: {reason}",
                evidence=CouldNotCheck(what=what, reason=reason),
            )
        ]
    by_name: dict[str, Topic] = {t.name: t for t in seen.topics}
    names = sorted(by_name)
    found: list[Finding] = []
    missing = tuple(t for t in facts.esm.topics if t not in by_name)
    if missing:
        misses = tuple(dict.fromkeys(m for t in missing for m in near_misses(t, names)))
        near = f"; near misses: {', '.join(misses)}" if misses else "; no topic with a similar name"
        found.append(
            Finding(
                code="TOPIC_NOT_FOUND",
                summary=f"topic {', '.join(missing)} does not exist on MSK cluster {name} "
                f"({len(names)} topics listed){near}: the pollers cannot fetch its metadata, whatever the "
                "brokers' load",
                evidence=TopicNotFound(
                    cluster=cluster.arn,
                    missing=missing,
                    near_misses=misses,
                    topic_count=len(names),
                    sibling_partitions=_common([t.partition_count for t in seen.topics]),
                    sibling_replication_factor=_common([t.replication_factor for t in seen.topics]),
                ),
            )
        )
    for topic in facts.esm.topics:
        t = by_name.get(topic)
        if t is not None and t.replication_factor == 1:
            found.append(
                Finding(
                    code="TOPIC_REPLICATION_FACTOR_ONE",
                    summary=f"topic {topic} on MSK cluster {name} has replication factor 1: while MSK "
                    "patches or restarts its broker the partitions are offline and the mapping's consumers "
                    "stall",
                    evidence=TopicReplicationFactorOne(
                        cluster=cluster.arn,
                        topic=topic,
                        replication_factor=1,
                        partition_count=t.partition_count,
                    ),
                )
            )
    return found
