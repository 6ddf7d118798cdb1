"""Issue 23 (audit 2026-12-06, N2b/N2c): a run records what it relies on that another run made.

A run killed after its endpoints were made leaves them for the next run of the same mapping (on this
host or another), which finds them in effect, plans nothing for them and verifies its fix on them.
The killed run's journal still says it made them, so rolling it back (the command its interrupt
printed) would delete them under the later run's verified fix. `dependants.Dependants` protects other
*mappings*; this protects a later run of the *same* mapping, which no listing of mappings can see.

So a verified apply tags each endpoint of its mapping's VPC, and each endpoint security group, that
carries another run's `remediate:run-id`, with `remediate:dependant:RUN_ID = ESM_UUID` (EC2 tags:
keys up to 128 characters, values up to 256, "Tag your Amazon EC2 resources", EC2 User Guide,
https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html). A rollback keeps a resource
that carries such a tag of another run whose mapping still exists, and says which run and why; the
rollback of the dependant run removes its tags again, so the resource can then go with its maker.
A resource whose tags cannot be read is kept: keeping is always safe, deleting what a fix needs is not.
"""

from __future__ import annotations

import contextlib
from typing import Any

from remediate.actions.security_group import RUN_TAG
from remediate.aws import Aws
from remediate.errors import AwsError, RemediateError
from remediate.log import get_logger

log = get_logger(__name__)

PREFIX = "remediate:dependant:"
PERMISSIONS = ("ec2:DescribeVpcEndpoints", "ec2:DescribeSecurityGroups", "ec2:CreateTags", "ec2:DeleteTags")


def _tags(resource: dict[str, Any]) -> dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value", "")) for t in resource.get("Tags") or []}


def _shared(aws: Aws, vpc_id: str) -> list[tuple[str, dict[str, str]]]:
    """The live endpoints of the VPC that a remediate run made, and their groups a run made: (id, tags)."""
    endpoints = aws.call("ec2", "describe_vpc_endpoints", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    found: list[tuple[str, dict[str, str]]] = []
    groups: set[str] = set()
    for endpoint in endpoints.get("VpcEndpoints") or []:
        tags = _tags(endpoint)
        if RUN_TAG in tags and str(endpoint.get("State", "")).lower() not in ("deleting", "deleted"):
            found.append((str(endpoint["VpcEndpointId"]), tags))
            groups.update(str(g["GroupId"]) for g in endpoint.get("Groups") or [])
    if groups:
        described = aws.call("ec2", "describe_security_groups", GroupIds=sorted(groups))
        tagged = [(str(g["GroupId"]), _tags(g)) for g in described.get("SecurityGroups") or []]
        found += [(gid, tags) for gid, tags in tagged if RUN_TAG in tags]
    return found


def record(aws: Aws, vpc_id: str | None, run_id: str, esm_uuid: str) -> list[str]:
    """After a verified apply: tag what other runs made in the mapping's VPC as relied on by this run.
    Returns the ids tagged. Best effort: a failure is logged, not raised over a verified fix (a
    rollback of the other run then deletes them, as before this record existed)."""
    if not vpc_id:
        return []
    try:
        others = [rid for rid, tags in _shared(aws, vpc_id) if tags[RUN_TAG] != run_id]
        if others:
            tag = {"Key": PREFIX + run_id, "Value": esm_uuid}
            aws.call("ec2", "create_tags", Resources=others, Tags=[tag])
    except RemediateError as exc:
        log.warning("reliance.record_failed", error=str(exc))
        return []
    return others


def release(aws: Aws, vpc_id: str | None, run_id: str) -> None:
    """After `run_id` was rolled back: it relies on nothing any more; drop its tags (best effort)."""
    if not vpc_id:
        return
    with contextlib.suppress(RemediateError):
        mine = [rid for rid, tags in _shared(aws, vpc_id) if PREFIX + run_id in tags]
        if mine:
            aws.call("ec2", "delete_tags", Resources=mine, Tags=[{"Key": PREFIX + run_id}])


def _read_tags(aws: Aws, action: str, resource_id: str) -> dict[str, str] | None:
    try:
        if action == "create_vpc_endpoint":
            found = aws.call("ec2", "describe_vpc_endpoints", VpcEndpointIds=[resource_id])["VpcEndpoints"]
        else:
            found = aws.call("ec2", "describe_security_groups", GroupIds=[resource_id])["SecurityGroups"]
    except AwsError as exc:
        if exc.code in ("InvalidVpcEndpointId.NotFound", "InvalidGroup.NotFound"):
            return {}
        return None
    return _tags(found[0]) if found else {}


def _mapping_exists(aws: Aws, uuid: str) -> bool:
    try:
        aws.call("lambda", "get_event_source_mapping", UUID=uuid)
    except AwsError as exc:
        return exc.code != "ResourceNotFoundException"
    return True


def relied_on_by(aws: Aws, action: str, resource_id: str, undone_run: str) -> list[str]:
    """The other runs (`RUN (ESM UUID)`) whose live mapping relies on `resource_id`, which the rollback of
    `undone_run` would delete; `["a run (its tags could not be read)"]` when that cannot be told."""
    tags = _read_tags(aws, action, resource_id)
    if tags is None:
        return ["a run (its tags could not be read)"]
    relying = []
    for key, esm in sorted(tags.items()):
        run = key.removeprefix(PREFIX)
        if key.startswith(PREFIX) and run != undone_run and _mapping_exists(aws, esm):
            relying.append(f"{run} (ESM {esm})")
    return relying
