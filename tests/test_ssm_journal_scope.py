"""Issue 27, D8: in a shared bucket each account's journals are its own and unaltered.

`rollback` replays a journal's `before` values into the account it runs in, so a journal rewritten by
someone else (another member account of the Organization, or a hand edit) must never be replayed. The
runbook keeps journals under `remediate/journals/ACCOUNT/` with their sha256 stored with the object;
the CLI checks it before it resumes or rolls back. The Organization's bucket policy gives each account
its own prefix only (`${aws:PrincipalAccount}`), evaluated here as IAM substitutes the variable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from remediate.policy import Principal, Request, evaluate
from remediate.sandbox import Sandbox, build_scenario
from remediate.ssm.cloudformation import admin_template
from remediate.ssm.document import Deploy, runbook
from remediate.ssm.runner import Runner, answer_all
from tests.cfn_eval import Resolver
from tests.conftest import CliRunner

BUCKET = "remediate-state"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/automation"


def _applied(sb: Sandbox, env: dict[str, str]) -> tuple[Any, str]:
    scn = build_scenario(sb, "broker-timeout")
    sb.client("s3").create_bucket(Bucket=BUCKET)
    doc = runbook(Deploy(approvers=["alice"], bucket=BUCKET))
    runner = Runner(doc, approver=answer_all(True), env=env, region="us-east-1", poll_seconds=0.01)
    execution = runner.run({"AutomationAssumeRole": ROLE, "EsmId": scn.esm_uuid, "Mode": "Apply"})
    assert execution.status == "Success", execution.failure
    return scn, str(execution.outputs["plan.RunId"])


def test_a_journal_changed_after_the_run_is_not_rolled_back(
    sandbox: Sandbox, cli_env: dict[str, str], cli: CliRunner, tmp_path: Path
) -> None:
    scn, run_id = _applied(sandbox, cli_env)
    s3 = sandbox.client("s3")
    key = f"remediate/journals/{ACCOUNT}/{run_id}.jsonl"
    stored = s3.get_object(Bucket=BUCKET, Key=key)
    original = stored["Body"].read()
    assert set(stored["Metadata"]) == {"sha256"}
    # Someone rewrites what rollback would restore (BatchSize 500 -> 7) and keeps the old metadata.
    forged = original.replace(b'"BatchSize": 500', b'"BatchSize": 7')
    assert forged != original
    s3.put_object(Bucket=BUCKET, Key=key, Body=forged, Metadata=stored["Metadata"])

    env = {"REMEDIATE_STATE_DIR": str(tmp_path / "elsewhere"), "REMEDIATE_JOURNAL_BUCKET": BUCKET}
    refused = cli("rollback", run_id, "--auto-approve", env=env)
    assert refused.returncode == 1, refused.stderr
    assert f"the journal s3://{BUCKET}/{key} does not match the sha256" in refused.stderr
    assert sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"] == 1

    # The journal as the run wrote it (bytes and digest) is rolled back.
    s3.put_object(Bucket=BUCKET, Key=key, Body=original, Metadata=stored["Metadata"])
    done = cli("rollback", run_id, "--auto-approve", env=env)
    assert done.returncode == 0, done.stderr
    assert sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"] == 500


def test_a_journal_stored_without_its_digest_is_refused(
    sandbox: Sandbox, cli_env: dict[str, str], cli: CliRunner, tmp_path: Path
) -> None:
    scn, run_id = _applied(sandbox, cli_env)
    s3 = sandbox.client("s3")
    key = f"remediate/journals/{ACCOUNT}/{run_id}.jsonl"
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    env = {"REMEDIATE_STATE_DIR": str(tmp_path / "elsewhere"), "REMEDIATE_JOURNAL_BUCKET": BUCKET}
    refused = cli("apply", "--resume", run_id, env=env)
    assert refused.returncode == 1
    assert "(none)" in refused.stderr
    assert sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"] == 1


MEMBER_A, MEMBER_B, OUTSIDER = "111122223333", "444455556666", "777788889999"
ORG = "o-a1b2c3d4e5"


def _bucket_policy() -> dict[str, Any]:
    template = admin_template()
    params = {"AWS::AccountId": "999900001111", "Bucket": BUCKET, "StateBucketOrganizationId": ORG}
    resolve = Resolver(template, params)
    assert resolve.conditions["HasStateBucketPolicy"]
    policy: dict[str, Any] = resolve(
        template["Resources"]["StateBucketPolicy"]["Properties"]["PolicyDocument"]
    )
    return policy


def _decision(policy: dict[str, Any], account: str, action: str, key: str, org: str = ORG) -> str:
    """IAM's decision for a caller of `account`, substituting `${aws:PrincipalAccount}` as IAM does
    (IAM user guide, "IAM policy elements: Variables and tags")."""
    resolved = json.loads(json.dumps(policy).replace("${aws:PrincipalAccount}", account))
    request = Request(
        action=action,
        resource=f"arn:aws:s3:::{BUCKET}/{key}",
        principal=Principal("AWS", f"arn:aws:iam::{account}:role/Remediate-AutomationExecutionRole"),
        context={"aws:principalorgid": (org,), "aws:principalaccount": (account,)},
    )
    return str(evaluate(resolved, request).decision)


def test_the_org_bucket_policy_gives_each_account_only_its_own_prefix() -> None:
    policy = _bucket_policy()
    for prefix in ("journals", "plans"):
        for action in ("s3:PutObject", "s3:GetObject"):
            own = f"remediate/{prefix}/{MEMBER_A}/r-1.jsonl"
            other = f"remediate/{prefix}/{MEMBER_B}/r-1.jsonl"
            assert _decision(policy, MEMBER_A, action, own) == "allow", (prefix, action)
            assert _decision(policy, MEMBER_A, action, other) != "allow", (prefix, action)
            assert (
                _decision(policy, OUTSIDER, action, f"remediate/{prefix}/{OUTSIDER}/x", "o-other00000")
                != "allow"
            )
    report = f"remediate/reports/{MEMBER_A}/eu-west-1/x.json"
    assert _decision(policy, MEMBER_A, "s3:PutObject", report) == "allow"
    assert _decision(policy, MEMBER_B, "s3:PutObject", report) != "allow"
    assert _decision(policy, MEMBER_A, "s3:GetObject", report) != "allow"


def test_the_bucket_policy_is_written_only_when_asked() -> None:
    template = admin_template()
    resolve = Resolver(template, {"AWS::AccountId": "999900001111", "Bucket": BUCKET})
    assert not resolve.conditions["HasStateBucketPolicy"]
    assert template["Resources"]["StateBucketPolicy"]["Condition"] == "HasStateBucketPolicy"
