"""Issue 23 (audit 2026-12-06, N6): one run at a time on a VPC's shared endpoint work.

The ESM lock keeps two runs off one mapping, but two mappings of one VPC plan the same interface
endpoints and the same endpoint security group: run side by side, the second failed on AWS's own
private-DNS conflict (`InvalidParameter: private-dns-enabled cannot be set because there is already a
conflicting DNS domain`) after it had changed things, and nothing named the first. So a run whose plan
creates endpoints or their group takes this lock before its first change and holds it to its end;
the other run is refused in one line naming the holder, having changed nothing, and its next plan
finds the endpoints made.

It is the ESM lock's protocol (`lock.EsmLock`: claim, read, hold; renewal; expiry on AWS's clock; a
dead holder on this host is dead at once), kept as EC2 tags on the VPC, where every run that works in
it can see them (CreateTags, DescribeTags and DeleteTags on `vpc-...`: "Tag your Amazon EC2 resources",
EC2 User Guide, https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html, whose keys, values
and characters are those the lock already keeps to).
"""

from __future__ import annotations

from typing import Any

from remediate.aws import Aws
from remediate.errors import LockedError
from remediate.run.lock import EsmLock, Holder, Reading, reading

PERMISSIONS = ("ec2:DescribeTags", "ec2:CreateTags", "ec2:DeleteTags")


class VpcLock(EsmLock):
    """The lock of one run on one VPC's endpoint work (the ESM lock's protocol, tags on the VPC)."""

    def __init__(self, aws: Aws, vpc_id: str, esm_uuid: str, run_id: str, ttl: float) -> None:
        super().__init__(aws, vpc_id, esm_uuid, run_id, ttl)
        self.vpc_id = vpc_id

    def _read(self) -> Reading:
        response = self.aws.call(
            "ec2", "describe_tags", Filters=[{"Name": "resource-id", "Values": [self.vpc_id]}]
        )
        tags = {str(t["Key"]): str(t.get("Value", "")) for t in response.get("Tags") or []}
        return reading(response, tags)

    def _tag(self, tags: dict[str, str]) -> dict[str, Any]:
        response: dict[str, Any] = self.aws.call(
            "ec2",
            "create_tags",
            Resources=[self.vpc_id],
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )
        return response

    def _untag(self, keys: list[str]) -> None:
        self.aws.call("ec2", "delete_tags", Resources=[self.vpc_id], Tags=[{"Key": k} for k in keys])

    def _locked(self, holder: Holder, how: str = "") -> LockedError:
        return LockedError(
            f"the endpoint work of VPC {self.vpc_id} is locked by {holder.describe()}{how}, which is "
            f"changing the endpoints this plan would make; nothing was changed. Plan again when that run "
            f"has ended (its lock expires by itself if it stopped)"
        )
