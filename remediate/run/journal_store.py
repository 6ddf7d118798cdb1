"""A durable copy of a run's journal in S3, for runs whose own disk does not outlive them.

An SSM `aws:executeScript` step writes to a temporary directory that is gone when the step ends, so
the journal of a runbook's apply would be lost with it, and with it `apply --resume` and `rollback`.
Here each journal line, once written and fsynced locally by `Journal.record`, is followed by an upload
of the whole journal (S3 has no append; a journal is a few kilobytes) to
`s3://BUCKET/remediate/journals/ACCOUNT/RUN_ID.jsonl`, before the mutation it announces is made. The
CLI reads it back with `fetch` when the journal is not in its own state directory (setting
`journal_bucket`). The local journal stays the one format and the one reader (`RunRecord`).

issue 27, D8: an Organization shares one bucket, and `rollback` replays a journal's `before` values
(trust policies, key policies, group rules) into the account it runs in, so a journal must be that
account's own and unaltered:
- the key names the account of the credentials that write and read it (STS GetCallerIdentity), the
  prefix a bucket policy can give each member alone (`${aws:PrincipalAccount}` in its Resource: IAM
  user guide, "IAM policy elements: Variables and tags", global condition keys as policy variables);
- each upload carries the journal's sha256 as object metadata (stored with the object, in the same
  request, so a journal and its digest never disagree by a torn write), and a journal read back is used
  only when its bytes match it: one edited after remediate wrote it is refused, not replayed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from remediate.aws import Aws
from remediate.errors import AwsError, InputError
from remediate.run.journal import Journal, check_run_id

KEY_PREFIX = "remediate/journals/"
PERMISSIONS = ("s3:GetObject",)
"""`rollback` and `apply --resume` read a runbook's journal from `journal_bucket` (its own account's)."""
DIGEST_METADATA = "sha256"
"""The object metadata key (x-amz-meta-sha256) holding the journal's hex sha256."""
_ACCOUNT = re.compile(r"^\d{12}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
"""S3 bucket names: 3 to 63 lowercase letters, digits, dots and hyphens (S3 user guide, bucket naming)."""


class JournalStore(Protocol):
    """Where a journal's durable copy lives."""

    def put(self, run_id: str, data: bytes) -> None: ...

    def get(self, run_id: str) -> bytes | None: ...


def check_bucket(bucket: str) -> str:
    if not _BUCKET.match(bucket):
        raise InputError(f"{bucket!r} is not an S3 bucket name")
    return bucket


def caller_account(aws: Aws) -> str:
    """The account of the credentials (the one whose prefix they may write)."""
    account = str(aws.call("sts", "get_caller_identity").get("Account", ""))
    if not _ACCOUNT.match(account):
        raise InputError(f"STS named no 12-digit account for these credentials ({account!r})")
    return account


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class S3JournalStore:
    """`s3://BUCKET/remediate/journals/ACCOUNT/RUN_ID.jsonl`, written whole after every journal line,
    with its sha256 in the object's metadata."""

    def __init__(self, aws: Aws, bucket: str) -> None:
        self.aws = aws
        self.bucket = check_bucket(bucket)
        self._account = ""

    @property
    def account(self) -> str:
        if not self._account:
            self._account = caller_account(self.aws)
        return self._account

    def key(self, run_id: str) -> str:
        return f"{KEY_PREFIX}{self.account}/{check_run_id(run_id)}.jsonl"

    def put(self, run_id: str, data: bytes) -> None:
        self.aws.call(
            "s3",
            "put_object",
            Bucket=self.bucket,
            Key=self.key(run_id),
            Body=data,
            ContentType="text/plain",
            Metadata={DIGEST_METADATA: digest(data)},
        )

    def get(self, run_id: str) -> bytes | None:
        """The stored journal, checked against its digest; None when there is none."""
        key = self.key(run_id)
        try:
            response: dict[str, Any] = self.aws.call("s3", "get_object", Bucket=self.bucket, Key=key)
        except AwsError as exc:
            if exc.code in ("NoSuchKey", "404"):
                return None
            raise
        body: bytes = response["Body"].read()
        stored = str((response.get("Metadata") or {}).get(DIGEST_METADATA, ""))
        if stored != digest(body):
            raise InputError(
                f"the journal s3://{self.bucket}/{key} does not match the sha256 remediate stored with it "
                f"({'none' if not stored else stored[:12] + '...'}): it was changed after the run wrote it; "
                "refusing to resume or roll back from it"
            )
        return body


class MirroredJournal(Journal):
    """A `Journal` whose every line also reaches the store before `record` returns."""

    def __init__(self, state_dir: Path, run_id: str, store: JournalStore) -> None:
        super().__init__(state_dir, run_id)
        self.store = store

    def record(self, event: str, **fields: Any) -> None:
        super().record(event, **fields)
        self.store.put(self.run_id, self.path.read_bytes())


def mirrored(store: JournalStore) -> Callable[[Path, str], Journal]:
    """A `Run.journal_factory` that mirrors every journal of the run to `store`."""

    def factory(state_dir: Path, run_id: str) -> Journal:
        return MirroredJournal(state_dir, run_id, store)

    return factory


def restore(store: JournalStore, state_dir: Path, run_id: str) -> bool:
    """Copy the stored journal into `state_dir` (where `Journal` reads it); False if there is none."""
    data = store.get(run_id)
    if data is None:
        return False
    path = Journal(state_dir, check_run_id(run_id)).path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def local_or_stored(state_dir: Path, run_id: str, aws: Callable[[], Aws], bucket: str | None) -> Journal:
    """The run's journal: the local one if present, else the copy in `bucket` fetched into `state_dir`.

    A local journal always wins: it is the one this machine wrote, and a resumed run appends to it.
    """
    journal = Journal(state_dir, check_run_id(run_id))
    if not journal.path.exists() and bucket:
        store = S3JournalStore(aws(), bucket)
        if not restore(store, state_dir, run_id):
            raise InputError(
                f"no journal for run {run_id} in {state_dir} or s3://{bucket}/{store.key(run_id)}"
            )
    return journal
