"""A diagnosis's first read, which everything else waits for: the mapping (GetEventSourceMapping).

Kept apart from `reads.py`, and light to import, so the command line can send it as soon as it has an
AWS session and load the engine (the fact models, checks and playbooks) while it is on the wire (issue 26:
start-up before the first request). `reads.read_esm` later makes the same cached read and gets its answer.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from remediate.errors import InputError

if TYPE_CHECKING:
    from remediate.aws import Aws

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_ESM_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):event-source-mapping:(.+)$")


def parse_esm_id(esm_id: str) -> str:
    """The UUID of an ESM given as a UUID or an ARN; InputError for anything else."""
    value = esm_id.strip()
    match = _ESM_ARN.match(value)
    if match:
        value = match.group(3)
    if not _UUID.match(value):
        raise InputError(f"{esm_id!r} is not an event source mapping UUID or ARN")
    return value.lower()


# The services a diagnosis reads after its mapping, in the order its chain of reads first needs them.
AHEAD = ("kafka", "iam", "cloudwatch", "ec2", "route53", "service-quotas")


def services_ahead(metrics: bool) -> tuple[str, ...]:
    """The clients to build while the mapping is read (CloudWatch only when metrics are read)."""
    return AHEAD if metrics else tuple(s for s in AHEAD if s != "cloudwatch")


def start(aws: Aws, esm_id: str, *, metrics: bool) -> None:
    """Send the mapping's read now, in the background, and build the other clients meanwhile; a bad id
    is left for `read_esm` to refuse."""
    try:
        uuid = parse_esm_id(esm_id)
    except InputError:
        return
    aws.client("lambda")  # here, not on the read's thread: the imports that follow would slow it down
    aws.prefetch("lambda", "get_event_source_mapping", UUID=uuid)
    aws.prepare(services_ahead(metrics))
