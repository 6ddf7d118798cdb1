"""Unit tests of the schema-registry checks on `Facts` fixtures."""

from __future__ import annotations

from typing import Any

from remediate.checks.schema_registry import schema_registry_access, schema_registry_reachable
from remediate.facts import HostResolution, NamedPolicy, Role, SchemaRegistry, Secret, SourceAccess
from remediate.observe.builders import esm_from_api
from tests import factories

REGISTRY = f"arn:aws:glue:{factories.REGION}:{factories.ACCOUNT}:registry/events"
SCHEMAS = f"arn:aws:glue:{factories.REGION}:{factories.ACCOUNT}:schema/events/*"


def glue_facts(extra: list[dict[str, Any]] | None = None, **over: Any) -> Any:
    policy = factories.full_access_policy()
    policy["Statement"] += extra or []
    base = factories.facts()
    role = Role(**{**base.role.model_dump(), "inline_policies": (NamedPolicy(name="p", document=policy),)})  # type: ignore[union-attr]
    return factories.facts(
        esm=factories.esm(schema_registry_uri=REGISTRY, provisioned_pollers=True), role=role, **over
    )


def test_the_api_shape_is_read() -> None:
    raw = {
        "UUID": factories.UUID,
        "EventSourceArn": factories.CLUSTER_ARN,
        "AmazonManagedKafkaEventSourceConfig": {
            "ConsumerGroupId": "g",
            "SchemaRegistryConfig": {
                "SchemaRegistryURI": "https://r.example:8081",
                "AccessConfigs": [{"Type": "BASIC_AUTH", "URI": "arn:aws:secretsmanager:x"}],
            },
        },
    }
    esm = esm_from_api(raw)
    assert (esm.consumer_group_id, esm.schema_registry_uri) == ("g", "https://r.example:8081")
    assert esm.schema_registry_access == (SourceAccess(type="BASIC_AUTH", uri="arn:aws:secretsmanager:x"),)


def test_glue_reads_missing_from_the_role() -> None:
    (finding,) = schema_registry_access(glue_facts())
    missing = {(r["action"], r["resource"]) for r in finding.evidence.model_dump()["missing"]}
    assert missing == {("glue:GetRegistry", REGISTRY), ("glue:GetSchemaVersion", SCHEMAS)}


def test_glue_reads_granted_or_explicitly_denied() -> None:
    grant = {"Effect": "Allow", "Action": ["glue:GetRegistry", "glue:GetSchemaVersion"], "Resource": "*"}
    assert schema_registry_access(glue_facts([grant])) == []
    deny = {"Effect": "Deny", "Action": "glue:GetSchemaVersion", "Resource": "*"}
    (finding,) = schema_registry_access(glue_facts([grant, deny]))
    assert [r["action"] for r in finding.evidence.model_dump()["explicitly_denied"]] == [
        "glue:GetSchemaVersion"
    ]


def test_a_missing_glue_registry() -> None:
    facts = glue_facts(schema_registry=SchemaRegistry(kind="glue", uri=REGISTRY, exists=False))
    (finding,) = schema_registry_reachable(facts)
    assert finding.evidence.model_dump()["cause"] == "not-found"
    assert (
        schema_registry_reachable(
            glue_facts(schema_registry=SchemaRegistry(kind="glue", uri=REGISTRY, exists=True))
        )
        == []
    )


def confluent(host: str, resolved: bool, addresses: tuple[str, ...] = (), **over: Any) -> Any:
    uri = f"https://{host}:8081"
    registry = SchemaRegistry(
        kind="confluent",
        uri=uri,
        host=host,
        resolution=HostResolution(host=host, resolved=resolved, addresses=addresses),
    )
    esm = factories.esm(schema_registry_uri=uri, provisioned_pollers=True)
    return factories.facts(esm=esm, schema_registry=registry, **over)


def test_confluent_unresolvable_and_resolvable() -> None:
    (finding,) = schema_registry_reachable(confluent("r.invalid", False))
    assert finding.evidence.model_dump()["cause"] == "unresolvable"
    assert schema_registry_reachable(confluent("r.example", True, ("93.184.216.34",))) == []


def test_confluent_secret_gone() -> None:
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:reg-AbCdEf"
    facts = confluent(
        "r.example",
        True,
        ("93.184.216.34",),
        secrets=(Secret(arn=secret, access_type="BASIC_AUTH", exists=False),),
    )
    facts = facts.model_copy(
        update={
            "esm": facts.esm.model_copy(
                update={"schema_registry_access": (SourceAccess(type="BASIC_AUTH", uri=secret),)}
            )
        }
    )
    (finding,) = schema_registry_reachable(facts)
    assert finding.evidence.model_dump()["cause"] == "secret-missing"


def test_confluent_without_a_way_out() -> None:
    net = factories.network()
    closed = net.model_copy(update={"nat_gateways": ()})  # the default route leads to a NAT that is gone
    (finding,) = schema_registry_reachable(confluent("r.example", True, ("93.184.216.34",), network=closed))
    assert finding.evidence.model_dump()["cause"] == "no-egress"
    # A registry inside a private network is not judged by the pollers' way out.
    assert schema_registry_reachable(confluent("r.example", True, ("10.0.9.9",), network=closed)) == []
