"""End to end, issue 15 item 5: the mapping's schema registry, through the real CLI against the sandbox."""

from __future__ import annotations

import json
from typing import Any

from remediate.sandbox import Sandbox
from remediate.sandbox.scenarios import build_scenario
from tests.conftest import CliRunner


def plan_json(cli: CliRunner, uuid: str) -> dict[str, Any]:
    out = cli("plan", "--esm", uuid, "--output", "json")
    assert out.returncode == 0, out.stderr
    document: dict[str, Any] = json.loads(out.stdout)
    return document


def role_statements(sb: Sandbox, role: str) -> list[dict[str, Any]]:
    iam = sb.client("iam")
    out: list[dict[str, Any]] = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        statements = document["Statement"]
        out += statements if isinstance(statements, list) else [statements]
    return out


def allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    def listed(value: Any) -> list[Any]:
        return value if isinstance(value, list) else [value]

    return any(
        s["Effect"] == "Allow" and action in listed(s["Action"]) and resource in listed(s["Resource"])
        for s in statements
    )


def test_glue_registry_denied_is_granted_in_the_role(sandbox: Sandbox, cli: CliRunner) -> None:
    """The role gets glue:GetRegistry on the registry and glue:GetSchemaVersion on its schemas, exactly."""
    scn = build_scenario(sandbox, "schema-registry-glue-denied")
    registry = str(scn.schema_registry_arn)
    schemas = registry.replace(":registry/", ":schema/") + "/*"
    plan = plan_json(cli, scn.esm_uuid)
    assert sorted(f["code"] for f in plan["findings"]) == sorted(scn.expected_findings)
    denied = next(f for f in plan["findings"] if f["code"] == "SCHEMA_REGISTRY_DENIED")
    assert denied["evidence"]["registry"] == registry
    assert {(r["action"], r["resource"]) for r in denied["evidence"]["missing"]} == {
        ("glue:GetRegistry", registry),
        ("glue:GetSchemaVersion", schemas),
    }
    assert not allows(role_statements(sandbox, scn.role_name), "glue:GetRegistry", registry)
    applied = cli("apply", "--esm", scn.esm_uuid, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    statements = role_statements(sandbox, scn.role_name)
    assert allows(statements, "glue:GetRegistry", registry)
    assert allows(statements, "glue:GetSchemaVersion", schemas)
    again = plan_json(cli, scn.esm_uuid)
    assert again["findings"] == []
    assert again["changes"] == []


def test_missing_glue_registry_is_unreachable_with_manual_steps(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "schema-registry-glue-missing")
    plan = plan_json(cli, scn.esm_uuid)
    assert [f["code"] for f in plan["findings"]] == ["SCHEMA_REGISTRY_UNREACHABLE"]
    assert plan["findings"][0]["evidence"]["cause"] == "not-found"
    assert plan["changes"] == []
    assert "aws glue create-registry" in plan["manual_steps"][0]["text"]


def test_confluent_registry_that_resolves_nowhere(sandbox: Sandbox, cli: CliRunner) -> None:
    scn = build_scenario(sandbox, "schema-registry-confluent-unresolvable")
    plan = plan_json(cli, scn.esm_uuid)
    assert [f["code"] for f in plan["findings"]] == ["SCHEMA_REGISTRY_UNREACHABLE"]
    evidence = plan["findings"][0]["evidence"]
    assert evidence["cause"] == "unresolvable"
    assert evidence["registry"] == "https://registry.schemas.invalid:8081"
    assert plan["changes"] == []


def test_scan_reads_each_registry_once(sandbox: Sandbox, cli: CliRunner) -> None:
    """Two mappings (each in its own default group) on one Glue registry: one GetRegistry for the scan."""
    scn = build_scenario(sandbox, "schema-registry-glue-missing", peer_mappings=1)
    sandbox.clear_calls()
    out = cli("scan", "--output", "json")
    assert out.returncode == 2, out.stderr
    by_uuid = {m["esm_uuid"]: m for m in json.loads(out.stdout)["mappings"]}
    for uuid in (scn.esm_uuid, *scn.peer_uuids):
        assert [f["code"] for f in by_uuid[uuid]["findings"]] == ["SCHEMA_REGISTRY_UNREACHABLE"]
    assert [op for _, op in sandbox.calls].count("GetRegistry") == 1
