"""Issue 27, item 7: every fix the engine knows, including those other issues added, runs from the runbook.

The runbook's `apply` step runs the same engine, so a fix is carried when (a) the role the templates create
may call what it calls, and (b) it comes before the mapping's restart, which the runbook makes natively
after `apply` (a change ordered after it is refused by `apply`).
"""

from __future__ import annotations

from typing import Any

import pytest

from remediate import actions
from remediate.ssm.cloudformation import account_template, member_template
from remediate.ssm.handlers import RESTART_ACTION
from tests.cfn_eval import role_policies

PARAMS = {
    "AWS::AccountId": "111122223333",
    "AWS::Region": "eu-west-1",
    "RoleName": "RemediateAutomation",
    "Bucket": "remediate-state",
    "AdminAccountId": "444455556666",
    "RoleRegion": "eu-west-1",
    "FixableRolePath": "/service-role/",
    "FixableRoleTag": "payments",
    "FixableKeyArns": ["arn:aws:kms:eu-west-1:111122223333:key/0b5d8e0e-3e9e-4d32-9bd0-27d3a3b8f2a1"],
}


def _allowed(template: dict[str, Any]) -> set[str]:
    named: set[str] = set()
    for doc in role_policies(template, PARAMS).values():
        for stmt in doc["Statement"]:
            if stmt["Effect"] == "Allow":
                named |= {stmt["Action"]} if isinstance(stmt["Action"], str) else set(stmt["Action"])
    return named


@pytest.mark.parametrize("template", [account_template(), member_template()], ids=["account", "member"])
def test_the_runbook_role_may_make_every_fix(template: dict[str, Any]) -> None:
    allowed = _allowed(template)
    missing = {
        name: sorted(set(action.permissions) - allowed)
        for name, action in actions.registry().items()
        if set(action.permissions) - allowed
    }
    assert missing == {}


def test_every_fix_comes_before_the_native_restart() -> None:
    registry = actions.registry()
    restart = registry[RESTART_ACTION].order
    late = sorted(
        name for name, action in registry.items() if name != RESTART_ACTION and action.order >= restart
    )
    assert late == []
