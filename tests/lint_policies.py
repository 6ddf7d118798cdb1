"""parliament on the generated IAM policies, and the one place where remaining findings are suppressed.

parliament imports `pkg_resources`, which current setuptools no longer ships; it only uses it to find its
own data files, so a stand-in that answers from `importlib.resources` is installed before importing it.
"""

from __future__ import annotations

import importlib.resources
import json
import sys
import types
from typing import Any

SEVERITIES = ["MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]

SUPPRESSED: dict[str, str] = {
    "PERMISSIONS_MANAGEMENT_ACTIONS": (
        "the fixes this tool exists to make include editing a function role's inline policy "
        "(iam:PutRolePolicy, iam:DeleteRolePolicy, iam:UpdateAssumeRolePolicy); the deployed roles get them "
        "only on the roles the deployer names (path or remediate:fixable tag), every policy denies them on "
        "privileged roles and on itself; tests/test_ssm_escalation.py proves none reaches one"
    ),
    "CREDENTIALS_EXPOSURE": (
        "secretsmanager:GetSecretValue reads the Kafka client secrets an ESM uses so their format can be "
        "checked in memory, only AmazonMSK_* and the secrets the deployer names; values are never written, "
        "logged or returned (docs/contract.md)"
    ),
}
"""Findings of parliament's community auditors that the tool's purpose requires, and why."""


def _parliament() -> Any:
    if "pkg_resources" not in sys.modules:
        shim = types.ModuleType("pkg_resources")
        files = importlib.resources.files
        shim.resource_filename = lambda package, name: str(files(package) / name)  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = shim
    import parliament

    if "PRIVILEGE_ESCALATION" not in parliament.config:  # the community auditors' severities
        overrides = importlib.resources.files("parliament") / "community_auditors" / "config_override.yaml"
        parliament.override_config(str(overrides))
    return parliament


def findings(policy: dict[str, Any], minimum: str = "MEDIUM") -> list[str]:
    """parliament's findings at `minimum` or above (community auditors included), minus SUPPRESSED."""
    parliament = _parliament()
    result = parliament.analyze_policy_string(json.dumps(policy), include_community_auditors=True)
    out = []
    for finding in result.findings:
        parliament.enhance_finding(finding)
        if finding.issue in SUPPRESSED:
            continue
        if SEVERITIES.index(finding.severity) >= SEVERITIES.index(minimum):
            out.append(f"{finding.severity} {finding.issue}: {finding.detail}")
    return out


def all_findings(policy: dict[str, Any]) -> list[str]:
    """Every finding, nothing suppressed (to show a suppression is still needed)."""
    parliament = _parliament()
    result = parliament.analyze_policy_string(json.dumps(policy), include_community_auditors=True)
    return [parliament.enhance_finding(f).issue for f in result.findings]
