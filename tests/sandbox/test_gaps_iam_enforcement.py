"""Issue 27: the CLI under moto's IAM enforcement with exactly the policies `iam-policy` prints.

Each user's only policy is the generated one; every request the CLI makes is authorized by moto against
it (`remediate.sandbox.iam_enforcement`, which closes the moto gaps it names). No request may be refused;
and the same run with one needed action removed is refused (the negative control: enforcement is live).
"""

from __future__ import annotations

import json
from typing import Any

from remediate.iam_policy import policy_document
from remediate.sandbox import Sandbox, build_scenario
from remediate.sandbox.iam_enforcement import enforced
from tests.conftest import CliRunner


def _user(sb: Sandbox, name: str, policy: dict[str, Any]) -> dict[str, str]:
    iam = sb.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="remediate", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    # Long-term keys of the user: no session token (the sandbox's own credentials carry one).
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_SESSION_TOKEN": "",
    }


def _without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    statements = [
        {**s, "Action": [a for a in s["Action"] if a != action]} if isinstance(s["Action"], list) else s
        for s in policy["Statement"]
    ]
    return {**policy, "Statement": statements}


def test_diagnose_and_apply_run_with_exactly_the_generated_policies(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    reader = _user(sandbox, "remediate-diagnose", policy_document("diagnose"))
    applier = _user(sandbox, "remediate-apply", policy_document("apply"))
    with enforced() as denied:
        diagnosed = cli("diagnose", "--esm", scn.esm_uuid, env=reader)
        assert denied == [], diagnosed.stdout
        applied = cli("apply", "--esm", scn.esm_uuid, "--auto-approve", env=applier)
        assert denied == [], applied.stderr
    assert diagnosed.returncode == 0, diagnosed.stderr
    assert "BROKER_TIMEOUT" in diagnosed.stdout
    assert "COULD_NOT_CHECK" not in diagnosed.stdout
    assert applied.returncode == 0, applied.stderr
    assert sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"] == 1


def test_a_policy_missing_a_needed_action_is_refused(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "broker-timeout")
    short = _user(
        sandbox, "remediate-short", _without(policy_document("diagnose"), "kafka:DescribeClusterV2")
    )
    with enforced() as denied:
        cli("diagnose", "--esm", scn.esm_uuid, env=short)
        assert [a for a, _ in denied] == ["kafka:DescribeClusterV2"]
