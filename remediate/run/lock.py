"""One run at a time per ESM: an advisory lock kept as a tag on the ESM itself.

The tag lives where every operator and every SSM execution can see it, with no extra table to
deploy: `remediate:lock = RUN_ID@EXPIRY` (epoch seconds). A lock past its expiry is stale (its run
crashed) and is taken over. Tagging is not a conditional write, so after writing the tag we read it
back: if another run's tag won the race, we back off. The window that leaves is milliseconds wide;
the apply itself stays safe even then, because every change re-checks whether it is already done.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from remediate.aws import Aws
from remediate.errors import LockedError

TAG = "remediate:lock"
PERMISSIONS = ("lambda:ListTags", "lambda:TagResource", "lambda:UntagResource")


@dataclass(frozen=True)
class Lock:
    run_id: str
    expires: float

    @classmethod
    def parse(cls, value: str) -> Lock | None:
        run_id, _, expires = value.partition("@")
        try:
            return cls(run_id, float(expires))
        except ValueError:
            return None

    def __str__(self) -> str:
        return f"{self.run_id}@{int(self.expires)}"


def _holder(aws: Aws, esm_arn: str) -> Lock | None:
    tags = aws.call("lambda", "list_tags", Resource=esm_arn).get("Tags", {})
    return Lock.parse(tags[TAG]) if TAG in tags else None


def acquire(aws: Aws, esm_arn: str, run_id: str, ttl: float) -> None:
    """Take the ESM's lock for `run_id`, or raise LockedError naming the run that holds it."""
    now = time.time()
    held = _holder(aws, esm_arn)
    if held is not None and held.run_id != run_id and held.expires > now:
        raise LockedError(
            f"ESM is locked by run {held.run_id} until "
            f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(held.expires))}; "
            "wait for it to finish, or remove the tag remediate:lock if that run is known to be dead"
        )
    mine = Lock(run_id, now + ttl)
    aws.call("lambda", "tag_resource", Resource=esm_arn, Tags={TAG: str(mine)})
    winner = _holder(aws, esm_arn)
    if winner is None or winner.run_id != run_id:
        holder = winner.run_id if winner else "unknown"
        raise LockedError(f"ESM is locked by run {holder} (it took the lock at the same moment)")


def release(aws: Aws, esm_arn: str, run_id: str) -> None:
    """Drop the lock if it is still ours (never another run's)."""
    held = _holder(aws, esm_arn)
    if held is not None and held.run_id == run_id:
        aws.call("lambda", "untag_resource", Resource=esm_arn, TagKeys=[TAG])
