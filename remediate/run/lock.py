"""One run at a time per ESM: an advisory lock kept as tags on the ESM itself.

The tags live where every operator and every SSM execution can see them, with no table to deploy.
Tagging is not a conditional write, so the lock cannot be "write if absent". Instead each contender
writes a tag of its own and then reads them all, which is safe whatever the timing:

1. write `remediate:lock:<token> = claim/RUN/HOST/PID/SINCE/EXPIRES` (a key no one else writes);
2. read every lock tag of the ESM:
   - another live `held` tag: that run holds the lock; withdraw (untag ours) and stop;
   - another live `claim` that came first (earlier SINCE, then smaller token): it has priority;
     withdraw and stop, naming it;
   - only later claims: wait for them to withdraw or to take the lock, reading again;
   - nobody else: write our tag as `held`; the lock is ours.

Of two contenders, the one whose read comes later sees the other's tag (each reads after its own
write), so they can never both see nobody; and the tie-break gives the same answer to both. A
contender that waits on a later claim only waits for that run's next read, which settles it.

Expiry is judged on AWS's clock, not on another host's: EXPIRES is computed from the `Date` header
of the holder's own AWS answers, and compared with the `Date` header of the reader's ListTags answer
(an origin server with a clock sends Date on every response, RFC 9110 section 6.6.1). Only when an
answer carries no Date does the local clock stand in, with a margin of 15 minutes, the skew beyond
which AWS already refuses signed requests ("Clock-skew correction", AWS Developer Tools Blog,
https://aws.amazon.com/blogs/developer/clock-skew-correction/). A holder on this machine whose
process is gone is dead at once, whatever its expiry. A live run renews its tag every third of
`lock_ttl` from a background thread, and reads it before every change: if its tag disappeared
(`remediate unlock`) or expired (its renewals failed; another run may hold the lock now), the run
stops before its next write and never revives the tag.

Tag keys and values keep to what AWS allows on Lambda resources, including event source mappings
(https://docs.aws.amazon.com/lambda/latest/dg/tags-esm.html): keys up to 128 characters, values up to
256, of letters, digits, spaces and `+ - = . _ : / @`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from remediate.aws import Aws
from remediate.errors import AwsError, InputError, LockedError, RemediateError
from remediate.log import get_logger

log = get_logger(__name__)

PREFIX = "remediate:lock"
LEGACY_TAG = PREFIX  # the single tag `RUN_ID@EXPIRY` of earlier versions, still honoured
PERMISSIONS = ("lambda:ListTags", "lambda:TagResource", "lambda:UntagResource")
NO_DATE_MARGIN = 900.0  # seconds; see the module docstring
DATE_MARGIN = 2.0  # seconds; the Date header has a resolution of one second
DATE_RESOLUTION = 1.0  # seconds; a holder judges its own expiry a second earlier than others may
CLAIM_WAIT = 30.0  # seconds a contender waits for later claimers to settle
POLL = 0.2
RENEW_FRACTION = 1 / 3
"""The renewer's turn, as a fraction of `lock_ttl`: two turns may fail before the tag expires. The run
itself reads its lock before every change (`check`), so `unlock` stops it before its next write
whatever this fraction; the fraction only bounds how long a lock can be left unrenewed unnoticed."""
_TAG_CHARS = re.compile(r"[^A-Za-z0-9+\-=._:@ ]")


def this_host() -> str:
    return _TAG_CHARS.sub("_", socket.gethostname())[:63] or "unknown"


def aws_now(response: dict[str, Any]) -> tuple[float, bool]:
    """AWS's time from a response's Date header, and whether it came from there."""
    date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    if date:
        with contextlib.suppress(TypeError, ValueError):
            return parsedate_to_datetime(date).timestamp(), True
    return time.time(), False


@dataclass(frozen=True)
class Holder:
    key: str
    state: Literal["claim", "held"]
    run_id: str
    host: str
    pid: int
    since: float
    expires: float

    @classmethod
    def parse(cls, key: str, value: str) -> Holder | None:
        if key == LEGACY_TAG:
            run_id, _, expires = value.partition("@")
            try:
                return cls(key, "held", run_id, "", 0, 0.0, float(expires))
            except ValueError:
                return None
        parts = value.split("/")
        if len(parts) != 6 or parts[0] not in ("claim", "held"):
            return None
        try:
            state: Literal["claim", "held"] = "held" if parts[0] == "held" else "claim"
            return cls(key, state, parts[1], parts[2], int(parts[3]), float(parts[4]), float(parts[5]))
        except ValueError:
            return None

    def value(self) -> str:
        return f"{self.state}/{self.run_id}/{self.host}/{self.pid}/{int(self.since)}/{int(self.expires)}"

    def since_text(self) -> str:
        """When it took the lock, in UTC (issue 23, N25); the legacy tag does not say."""
        return (
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.since)) if self.since else "an unknown time"
        )

    def describe(self) -> str:
        until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expires))
        where = f"host {self.host}, pid {self.pid}, " if self.host else ""
        return f"run {self.run_id} ({where}until {until})"

    def dead_here(self) -> bool:
        """A holder on this machine whose process no longer exists."""
        if not self.host or self.host != this_host() or self.pid <= 0:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def live(self, now: float, exact: bool) -> bool:
        margin = DATE_MARGIN if exact else NO_DATE_MARGIN
        return self.expires + margin > now and not self.dead_here()


@dataclass(frozen=True)
class Reading:
    holders: list[Holder]
    now: float
    exact: bool
    tags: dict[str, str] = field(default_factory=dict)  # every tag of the ESM at the reading

    def live(self, but: str = "") -> list[Holder]:
        return [h for h in self.holders if h.key != but and h.live(self.now, self.exact)]


def read(aws: Aws, esm_arn: str) -> Reading:
    """Every lock tag on the ESM, and AWS's time of the reading."""
    response = aws.call("lambda", "list_tags", Resource=esm_arn)
    return reading(response, dict(response.get("Tags") or {}))


def held_now(aws: Aws, esm_arn: str) -> Holder | None:
    """The run holding the ESM's lock now, for `plan` to report as Terraform's plan reports a held state
    lock (issue 23, operator-hunt N25); None when no live run holds it, or when the role may not read
    the tags (lambda:ListTags denied: the plan does not depend on it, so that is silent)."""
    from remediate.aws import ACCESS_DENIED_CODES

    try:
        found = read(aws, esm_arn)
    except AwsError as exc:
        if exc.code in ACCESS_DENIED_CODES:
            return None
        raise
    return next((h for h in found.live() if h.state == "held"), None)


def reading(response: dict[str, Any], tags: dict[str, str]) -> Reading:
    """The lock tags among `tags`, read in `response` (whose Date is AWS's time of the reading)."""
    now, exact = aws_now(response)
    holders = []
    for key, value in sorted(tags.items()):
        if key == LEGACY_TAG or key.startswith(PREFIX + ":"):
            holder = Holder.parse(key, value)
            if holder is not None:
                holders.append(holder)
    return Reading(holders, now, exact, tags)


def esm_arn(aws: Aws, esm_id: str) -> tuple[str, str]:
    """The UUID and ARN of the ESM given as either (the lock lives on the ARN)."""
    from remediate.observe.reads import parse_esm_id

    uuid = parse_esm_id(esm_id)
    try:
        raw = aws.call("lambda", "get_event_source_mapping", UUID=uuid)
    except AwsError as exc:  # issue 23 (operator-hunt N14): worded as diagnose and plan word it
        if exc.code == "ResourceNotFoundException":
            raise InputError(f"no event source mapping {uuid} in {aws.region}") from None
        raise
    return uuid, str(raw["EventSourceMappingArn"])


def way_out(esm: str) -> str:
    return f"if that run is no longer running: remediate unlock --esm {esm}"


class EsmLock:
    """The lock of one run on one ESM: acquire, renew in the background, release."""

    def __init__(self, aws: Aws, esm_arn: str, esm_uuid: str, run_id: str, ttl: float) -> None:
        self.aws = aws
        self.esm_arn = esm_arn
        self.esm_uuid = esm_uuid
        self.run_id = run_id
        self.ttl = ttl
        self.key = f"{PREFIX}:{secrets.token_hex(6)}"
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._since = 0.0
        self._held = False
        self.tags: dict[str, str] = {}  # the ESM's tags as read when the lock was taken
        self.expired = False  # lost by expiry (its renewals failed), not removed

    def _me(self, state: Literal["claim", "held"], now: float) -> Holder:
        return Holder(self.key, state, self.run_id, this_host(), os.getpid(), self._since, now + self.ttl)

    # -- where the tags live: the ESM (VpcLock keeps them on a VPC) ----------------------------------
    def _read(self) -> Reading:
        return read(self.aws, self.esm_arn)

    def _tag(self, tags: dict[str, str]) -> dict[str, Any]:
        response: dict[str, Any] = self.aws.call("lambda", "tag_resource", Resource=self.esm_arn, Tags=tags)
        return response

    def _untag(self, keys: list[str]) -> None:
        self.aws.call("lambda", "untag_resource", Resource=self.esm_arn, TagKeys=keys)

    def _write(self, state: Literal["claim", "held"], now: float) -> float:
        return aws_now(self._tag({self.key: self._me(state, now).value()}))[0]

    def _withdraw(self) -> None:
        with contextlib.suppress(RemediateError):
            self._untag([self.key])

    def _locked(self, holder: Holder, how: str = "") -> LockedError:
        same = " (that same run is already being applied)" if holder.run_id == self.run_id else ""
        return LockedError(
            f"ESM {self.esm_uuid} is locked by {holder.describe()}{how}{same}; {way_out(self.esm_uuid)}"
        )

    def acquire(self) -> None:
        """Take the lock, or raise LockedError naming who holds it and how to get out."""
        first = self._read()
        held = [h for h in first.live() if h.state == "held"]
        if held:  # the common case: someone is applying; do not even write a claim
            raise self._locked(held[0])
        self._since = first.now
        deadline = time.monotonic() + CLAIM_WAIT
        try:
            self._write("claim", first.now)
            while True:
                reading = self._read()
                others = reading.live(but=self.key)
                holder = next((h for h in others if h.state == "held"), None)
                if holder is not None:
                    raise self._locked(holder)
                mine = (self._since, self.key)
                earlier = [h for h in others if (h.since, h.key) < mine]
                if earlier:
                    raise self._locked(earlier[0], ", taking it at the same moment")
                if not others:
                    break
                if time.monotonic() > deadline:
                    raise self._locked(others[0], ", still taking it")
                time.sleep(POLL)
            self._write("held", reading.now)
        except BaseException:
            self._withdraw()
            raise
        self._held = True
        self.tags = reading.tags
        stale = [h.key for h in reading.holders if h.key != self.key and h not in others]
        if stale:  # tags of dead runs: keep the ESM's 50 tags for its owners
            with contextlib.suppress(RemediateError):
                self._untag(stale)
        log.info("lock.acquired", key=self.key, removed_stale=stale)

    # -- renewal ------------------------------------------------------------------------------------
    def start_renewing(self) -> None:
        if self._renewer is None and self._held:
            self._renewer = threading.Thread(target=self._renew_loop, name="lock-renewer", daemon=True)
            self._renewer.start()

    def _judge(self, reading: Reading) -> Holder | None:
        """Our tag in `reading` while it still holds the lock; None (and `lost` set) once it was removed
        (`remediate unlock`) or has expired by AWS's clock: another run may hold the lock then, so this
        one must neither write nor renew (a renewal would revive a lock someone else took)."""
        mine = next((h for h in reading.holders if h.key == self.key), None)
        if mine is None or mine.expires + DATE_RESOLUTION <= reading.now:
            self.expired = mine is not None
            log.warning("lock.lost", key=self.key, expired=self.expired)
            self.lost.set()
            return None
        return mine

    def _renew_loop(self) -> None:
        interval = max(self.ttl * RENEW_FRACTION, 0.5)
        while not self._stop.wait(interval):
            try:
                reading = self._read()
                if self._judge(reading) is None:
                    return
                self._write("held", reading.now)
            except RemediateError as exc:  # try again at the next interval; the lock has time left
                log.warning("lock.renew_failed", error=str(exc))

    def check(self) -> None:
        """Read the lock now (before each change): if our tag is gone (`remediate unlock`) or expired,
        mark it lost, so the run stops before its next write rather than at the renewer's next turn.
        A tag whose renewal is overdue (less than 1 - RENEW_FRACTION of `lock_ttl` left: the renewer's
        last turn failed) is renewed here first, so the change starts with its lock's life ahead of it.
        A failed read or renewal leaves the decision to the renewer: the lock has time left."""
        if not self._held or self.lost.is_set():
            return
        try:
            reading = self._read()
            mine = self._judge(reading)
            if mine is not None and mine.expires - reading.now < self.ttl * (1 - RENEW_FRACTION):
                self._write("held", reading.now)
        except RemediateError as exc:
            log.warning("lock.check_failed", error=str(exc))

    # -- release ------------------------------------------------------------------------------------
    def release(self) -> None:
        """Stop renewing and drop our tag (never another run's). Raises what the untag raised."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=30)
        if self._held and not self.lost.is_set():
            try:
                self._untag([self.key])
            except AwsError as exc:  # issue 25: the run deleted the mapping (a stray), and its tags with it
                if exc.code != "ResourceNotFoundException":
                    raise
        self._held = False

    def hand_over(self) -> None:
        """Stop renewing but keep the tag: the SSM runbook's native steps go on under this lock, and
        its `finalize` or `cleanup` step releases it with `release_run` (the TTL covers the wait)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=30)


def release_run(aws: Aws, esm_arn: str, run_id: str) -> None:
    """Drop every lock tag that run `run_id` holds on the ESM (never another run's): the SSM steps
    after a handover run in other processes, which know the run but not the tag's key."""
    keys = [h.key for h in read(aws, esm_arn).holders if h.run_id == run_id]
    if keys:
        aws.call("lambda", "untag_resource", Resource=esm_arn, TagKeys=keys)


def unlock(aws: Aws, esm_arn: str, keys: list[str]) -> None:
    """Remove the given lock tags (`remediate unlock`, after the operator said yes)."""
    if keys:
        aws.call("lambda", "untag_resource", Resource=esm_arn, TagKeys=keys)
