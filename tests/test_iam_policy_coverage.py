"""`remediate iam-policy` is valid IAM JSON and covers every AWS call the tool makes.

`tests/iam_coverage.uncovered` is the check, and the `cli` fixture (tests/conftest.py) applies it to
every CLI run of the whole suite: the calls the sandbox server saw during the run must be allowed by
`iam-policy --mode diagnose` for read-only commands and `--mode apply` for the others.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from remediate.iam_policy import policy_document
from tests.conftest import REMEDIATE
from tests.iam_coverage import uncovered

_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")


@functools.cache
def iam_policy(mode: str) -> dict[str, Any]:
    out = subprocess.run(
        [REMEDIATE, "iam-policy", "--mode", mode], capture_output=True, text=True, check=True, timeout=60
    )
    document: dict[str, Any] = json.loads(out.stdout)
    return document


@pytest.mark.parametrize("mode", ["diagnose", "apply"])
def test_iam_policy_is_valid_iam_json(mode: str) -> None:
    document = iam_policy(mode)
    assert document["Version"] == "2012-10-17"
    assert set(document) == {"Version", "Statement"}
    sids = [s["Sid"] for s in document["Statement"]]
    assert len(sids) == len(set(sids))
    for stmt in document["Statement"]:
        assert set(stmt) == {"Sid", "Effect", "Action", "Resource"}
        # issue 27: without --account every resource is "*" but for secret values (AmazonMSK_* only)
        # and the Deny on privileged roles.
        scoped = stmt["Sid"] in ("RemediateReadSecretValues", "RemediateNeverPrivileged")
        assert stmt["Effect"] == ("Deny" if stmt["Sid"] == "RemediateNeverPrivileged" else "Allow")
        assert (stmt["Resource"] != "*") == scoped
        assert stmt["Action"] == sorted(set(stmt["Action"]))
        assert all(_ACTION.match(a) for a in stmt["Action"]), stmt["Action"]
    assert document == policy_document(mode)


def test_diagnose_policy_reads_only() -> None:
    actions = [a for s in iam_policy("diagnose")["Statement"] for a in s["Action"]]
    # kafka-cluster:Connect is the read MSK's ListTopics requires (issue 21; "Topic Operations");
    # logs:FilterLogEvents reads the mapping's system logs (issue 21, item 3).
    assert all(
        a.split(":")[1].startswith(("Get", "List", "Describe"))
        or a in ("kafka-cluster:Connect", "logs:FilterLogEvents")
        for a in actions
    )


def test_apply_policy_covers_the_policy_writes() -> None:
    policy = iam_policy("apply")
    writes = [
        ("ec2", "ModifyVpcEndpoint"),
        ("iam", "PutRolePolicy"),
        ("iam", "UpdateAssumeRolePolicy"),
        ("kafka", "BatchAssociateScramSecret"),
        ("kafka", "ListScramSecrets"),
    ]
    assert uncovered(writes, policy) == []
    assert uncovered(writes, iam_policy("diagnose")) == [
        "ec2:ModifyVpcEndpoint",
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "kafka:BatchAssociateScramSecret",
    ]


def test_uncovered_reports_an_undeclared_call() -> None:
    policy = iam_policy("apply")
    assert uncovered([("iam", "DeleteRole"), ("sts", "GetCallerIdentity")], policy) == ["iam:DeleteRole"]


def test_readme_shows_the_current_policy() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = readme.split("<!-- iam-policy --mode apply -->\n```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(block) == policy_document("apply")
