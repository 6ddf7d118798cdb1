"""The mark a restart leaves on the mapping while it is off, so the tool's own disable is known later.

Restarting the pollers is disable, wait, enable. Between the two the trigger is off, and AWS records
the tool's disable exactly like a person's (StateTransitionReason "User action"), so a run that dies
there (a kill, a lost answer, an ESM that never settles, a disable that lands late) would leave a
trigger that every later run leaves off as someone's decision. Before the disable the run therefore
tags the mapping `remediate:restarting = RUN_ID/SINCE` (SINCE: AWS's time of the tag write, from the
answer's Date header), next to its lock tags, and removes the tag once the mapping is Enabled again.

A disabled mapping carrying the mark was disabled by remediate when its last change (LastModified)
came within `window` seconds after SINCE: a plain re-run, `apply --resume` and `rollback` then enable
it again. A later change is someone else's (a person disabled it after the restart), and the mark is
not trusted; a mark found on an Enabled mapping is a restart whose enable landed, and is removed.

The tag keeps to AWS's limits for tags on event source mappings (Lambda developer guide, "Using tags
on event source mappings", https://docs.aws.amazon.com/lambda/latest/dg/tags-esm.html: keys up to 128
characters, values up to 256, letters, digits, spaces and `+ - = . _ : / @`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from remediate.aws import Aws

TAG = "remediate:restarting"
PERMISSIONS = ("lambda:ListTags", "lambda:TagResource", "lambda:UntagResource")
SKEW = 5.0  # seconds: LastModified and the Date header are both AWS's clock, to the second


@dataclass(frozen=True)
class Mark:
    run_id: str
    since: float

    def explains(self, last_modified: str | None, window: float) -> bool:
        """Whether the mapping's last change is this restart's disable (made within `window` of the
        mark); with no LastModified to compare, the mark is all there is, and is believed."""
        if not last_modified:
            return True
        try:
            changed = datetime.fromisoformat(last_modified).timestamp()
        except ValueError:
            return True
        return self.since - SKEW <= changed <= self.since + window


def parse(tags: dict[str, str]) -> Mark | None:
    value = tags.get(TAG)
    if not value:
        return None
    run_id, _, since = value.partition("/")
    with contextlib.suppress(ValueError):
        return Mark(run_id, float(since))
    return None


def mark(aws: Aws, esm_arn: str, run_id: str, now: float) -> None:
    """Say, on the mapping, that run `run_id` is about to disable it for a restart (`now`: AWS's time)."""
    aws.call("lambda", "tag_resource", Resource=esm_arn, Tags={TAG: f"{run_id}/{int(now)}"})


def read(aws: Aws, esm_arn: str) -> Mark | None:
    """The mark on the mapping, if any."""
    return parse(aws.call("lambda", "list_tags", Resource=esm_arn).get("Tags") or {})


def clear(aws: Aws, esm_arn: str) -> None:
    """Remove the mark: the mapping is Enabled again."""
    aws.call("lambda", "untag_resource", Resource=esm_arn, TagKeys=[TAG])


def enable_command(esm_uuid: str) -> str:
    """The single AWS CLI command that turns the trigger back on."""
    return f"aws lambda update-event-source-mapping --uuid {esm_uuid} --enabled"
