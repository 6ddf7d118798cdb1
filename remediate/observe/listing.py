"""Listing an account's Kafka event source mappings (for `scan`): one paged read per region.

The listing carries each mapping's whole configuration, which seeds observation, so no mapping is read
twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from remediate.aws import Aws
from remediate.errors import InputError
from remediate.observe.builders import esm_from_api

# The IAM action listing adds to observation's reads (declared for `remediate iam-policy`).
PERMISSIONS = ("lambda:ListEventSourceMappings",)


def kafka_mappings(aws: Aws, function: str | None = None) -> Iterator[dict[str, Any]]:
    """Every Kafka/MSK mapping of the region (or of one function), as listed; other sources are skipped.

    The listing carries each mapping's whole configuration: it seeds observation, so no mapping is read
    twice.
    """
    params = {"FunctionName": function} if function else {}
    for raw in aws.read_pages(
        "lambda", "list_event_source_mappings", "EventSourceMappings", "Marker", "NextMarker", **params
    ):
        try:
            esm_from_api(raw)
        except InputError:
            continue  # SQS, Kinesis, DynamoDB...: not ours to diagnose
        yield raw
