"""Mappings that process one topic twice (issue 25, item 7), found in a scan's listing with no extra call.

Lambda refuses a second mapping with the same function, event source and topic (CreateEventSourceMapping:
ResourceConflictException, "... already exists. Please update or delete the existing mapping with UUID ...";
failure-classes row 9), but not one on a qualifier (version or alias) of the same function: both
mappings then invoke the same code and each reads every record of the topic under its own consumer group.
So a duplicate here is the same unqualified function, the same source and the same topic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from remediate.facts import Esm


def stream_of(esm: Esm) -> tuple[str, str, str] | None:
    """(unqualified function ARN, source, topic) of a mapping; None when it names no topic.

    The source is the MSK cluster's ARN, or the sorted bootstrap servers of a self-managed cluster (their
    order does not change the cluster). A function ARN has 7 colon-separated parts; an 8th is a qualifier.
    """
    if not esm.topics:
        return None
    source = esm.event_source_arn or ",".join(sorted(esm.bootstrap_servers))
    return ":".join(esm.function_arn.split(":")[:7]), source, esm.topics[0]


@dataclass(frozen=True)
class Duplicate:
    """Mappings of one region that read the same topic into the same function."""

    function: str
    source: str
    topic: str
    esm_uuids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "source": self.source,
            "topic": self.topic,
            "esm_uuids": list(self.esm_uuids),
        }

    def text(self) -> str:
        return (
            f"{self.topic} is read twice into {self.function.rsplit(':', 1)[-1]}: ESMs "
            f"{', '.join(self.esm_uuids)} (same function, source {self.source}); keep one"
        )


class Listed(Protocol):
    """What a scan keeps of each mapping (fleet.ScanResult)."""

    @property
    def region(self) -> str: ...
    @property
    def esm_uuid(self) -> str: ...
    @property
    def stream(self) -> tuple[str, str, str] | None: ...


def duplicates(mappings: Sequence[Listed]) -> list[Duplicate]:
    """The groups of mappings of one region with the same stream, in a stable order."""
    groups: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
    for m in mappings:
        if m.stream is not None:
            groups[(m.region, *m.stream)].append(m.esm_uuid)
    return [
        Duplicate(function=function, source=source, topic=topic, esm_uuids=tuple(sorted(uuids)))
        for (_, function, source, topic), uuids in sorted(groups.items())
        if len(uuids) > 1
    ]
