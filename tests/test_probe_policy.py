"""Issue 22: `iam-policy --mode probe` without `--probe-role` lets its holder pass any role to Lambda.

The policy is still printed (stdout stays the document `aws iam create-policy --policy-document` takes, as
Terraform keeps its plan when it warns), and stderr says loudly what it grants: IAM Access Analyzer's policy
validation reports the same statement as a security warning, PASS_ROLE_WITH_STAR_IN_RESOURCE (IAM user
guide, "IAM Access Analyzer policy check reference")."""

from __future__ import annotations

import json

from tests.conftest import CliRunner


def _pass_role_resource(stdout: str) -> object:
    [statement] = [s for s in json.loads(stdout)["Statement"] if s["Action"] == ["iam:PassRole"]]
    return statement["Resource"]


def test_unscoped_probe_policy_warns_on_stderr_and_still_prints_the_policy(cli: CliRunner) -> None:
    done = cli("iam-policy", "--mode", "probe")
    assert done.returncode == 0, done.stderr
    assert _pass_role_resource(done.stdout) == "*"
    [warning] = [line for line in done.stderr.splitlines() if line.startswith("Warning:")]
    assert "pass ANY role (arn:aws:iam::*:role/*) to Lambda" in warning
    assert "PASS_ROLE_WITH_STAR_IN_RESOURCE" in warning
    assert "--probe-role" in warning


def test_account_scoped_probe_policy_still_warns_for_every_role_of_the_account(cli: CliRunner) -> None:
    done = cli("iam-policy", "--mode", "probe", "--account", "123456789012", "--output", "json")
    assert done.returncode == 0, done.stderr
    assert _pass_role_resource(json.dumps(json.loads(done.stdout)["policy"])) == (
        "arn:aws:iam::123456789012:role/*"
    )
    assert "pass ANY role (arn:aws:iam::123456789012:role/*)" in done.stderr


def test_probe_policy_for_the_mappings_role_does_not_warn(cli: CliRunner) -> None:
    role = "arn:aws:iam::123456789012:role/esm-execution-role"
    done = cli("iam-policy", "--mode", "probe", "--probe-role", role)
    assert done.returncode == 0, done.stderr
    assert _pass_role_resource(done.stdout) == [role]
    assert "Warning" not in done.stderr
    assert "Warning" not in cli("iam-policy", "--mode", "apply").stderr
