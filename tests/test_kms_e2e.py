"""End to end, issue 15 item 4: a customer managed key whose policy keeps the execution role out.

The expected end state is the documented rule itself, written out here (KMS developer guide, "Default key
policy"; KMS API reference, PutKeyPolicy): after apply, the key policy holds a statement that names the role
as Principal with exactly the KMS action it needs, a Deny that blocked it no longer applies to it, every
statement the user wrote is still there, and rollback restores the previous document exactly.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from remediate.sandbox import Sandbox
from remediate.sandbox.faults import FaultRule
from remediate.sandbox.scenarios import build_scenario
from tests.conftest import CliRunner

# scenario -> (the key's field on the Scenario, the action the role needs on it)
CASES = {
    "kms-secret-key-policy-no-grant": ("kms_key_arn", "kms:Decrypt"),
    "kms-destination-key-policy-denies": ("destination_kms_key_arn", "kms:Decrypt"),
}


def key_policy(sb: Sandbox, key: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        sb.client("kms").get_key_policy(KeyId=key, PolicyName="default")["Policy"]
    )
    return document


def grants_role(document: dict[str, Any], role: str, action: str) -> bool:
    for s in document["Statement"]:
        principal = s.get("Principal")
        names = principal.get("AWS") if isinstance(principal, dict) else None
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        if s["Effect"] == "Allow" and names == role and actions == [action] and s.get("Resource") == "*":
            return bool(s.get("Sid", "").startswith("Remediate"))
    return False


def plan_json(cli: CliRunner, uuid: str) -> dict[str, Any]:
    out = cli("plan", "--esm", uuid, "--output", "json")
    assert out.returncode == 0, out.stderr
    document: dict[str, Any] = json.loads(out.stdout)
    return document


@pytest.mark.parametrize("name", sorted(CASES))
def test_key_policy_fixed_and_rolled_back(name: str, sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, name)
    field, action = CASES[name]
    key = str(getattr(scn, field))
    before = key_policy(sandbox, key)
    plan = plan_json(cli, scn.esm_uuid)
    assert [f["code"] for f in plan["findings"]] == ["KMS_KEY_DENIES"]
    evidence = plan["findings"][0]["evidence"]
    assert evidence["key"] == key
    assert evidence["action"] == action
    assert evidence["principal"] == scn.role_arn
    assert evidence["decision"] == ("deny" if "denies" in name else "implicit")
    assert [c["action"] for c in plan["changes"]][:1] == ["put_key_policy"]
    assert not grants_role(before, scn.role_arn, action)

    applied = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", "--output", "json")
    assert applied.returncode == 0, applied.stderr
    after = key_policy(sandbox, key)
    # Every statement the user wrote is still there (a blocking Deny only gains an exception).
    kept = {s.get("Sid") for s in after["Statement"]}
    assert {s.get("Sid") for s in before["Statement"]} <= kept
    if "denies" in name:
        deny = next(s for s in after["Statement"] if s["Effect"] == "Deny")
        assert scn.role_arn in deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    else:
        assert grants_role(after, scn.role_arn, action)
    again = plan_json(cli, scn.esm_uuid)
    assert again["findings"] == []
    assert again["changes"] == []

    run_id = json.loads(applied.stdout)["run_id"]
    undone = cli("rollback", run_id, "--auto-approve")
    assert undone.returncode == 0, undone.stderr
    assert key_policy(sandbox, key) == before


def test_denied_key_policy_read_is_could_not_check(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "kms-secret-key-policy-no-grant")
    sandbox.faults.add(FaultRule(service="kms", operation="GetKeyPolicy", kind="status", status=403))
    out = cli("diagnose", "--esm", scn.esm_uuid, "--output", "json")
    assert out.returncode == 0, out.stderr
    findings = json.loads(out.stdout)["findings"]
    assert [f["code"] for f in findings] == ["COULD_NOT_CHECK"]
    assert findings[0]["evidence"]["what"] == f"key policy of KMS key {scn.kms_key_arn}"


def test_sandbox_refuses_a_key_policy_that_locks_the_caller_out(sandbox: Sandbox) -> None:
    """PutKeyPolicy: the policy "must allow the principal that is making the PutKeyPolicy request to make a
    subsequent PutKeyPolicy request" unless BypassPolicyLockoutSafetyCheck is set (KMS API reference)."""
    kms = sandbox.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    locked = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{sandbox.account_id}:root"},
                "Action": "kms:Decrypt",
                "Resource": "*",
            }
        ],
    }
    with pytest.raises(kms.exceptions.MalformedPolicyDocumentException):
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(locked))
    kms.put_key_policy(
        KeyId=key, PolicyName="default", Policy=json.dumps(locked), BypassPolicyLockoutSafetyCheck=True
    )
    missing_role = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{sandbox.account_id}:role/nobody"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    with pytest.raises(kms.exceptions.MalformedPolicyDocumentException):
        kms.put_key_policy(
            KeyId=key,
            PolicyName="default",
            Policy=json.dumps(missing_role),
            BypassPolicyLockoutSafetyCheck=True,
        )


def test_scan_reads_each_key_once_for_all_its_mappings(sandbox: Sandbox, cli: CliRunner) -> None:
    """Two mappings on one SCRAM secret: one DescribeKey and one GetKeyPolicy for the scan, both reported."""
    scn = build_scenario(sandbox, "kms-secret-key-policy-no-grant")
    lam = sandbox.client("lambda")
    first = lam.get_event_source_mapping(UUID=scn.esm_uuid)
    sandbox.put_topic(str(scn.cluster_arn), "payments", 3, 3)  # the second mapping's topic exists too
    second = lam.create_event_source_mapping(
        FunctionName=scn.function_name,
        EventSourceArn=str(scn.cluster_arn),
        Topics=["payments"],
        StartingPosition="LATEST",
        SourceAccessConfigurations=first["SourceAccessConfigurations"],
    )["UUID"]
    sandbox.clear_calls()
    out = cli("scan", "--output", "json")
    assert out.returncode == 2, out.stderr
    by_uuid = {m["esm_uuid"]: m for m in json.loads(out.stdout)["mappings"]}
    for uuid in (scn.esm_uuid, second):
        assert [f["code"] for f in by_uuid[uuid]["findings"]] == ["KMS_KEY_DENIES"]
    operations = [op for _, op in sandbox.calls]
    assert operations.count("DescribeKey") == 1
    assert operations.count("GetKeyPolicy") == 1
