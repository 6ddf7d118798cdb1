"""Actions: plan changes from typed evidence and `Facts`, apply them idempotently, verify and undo them.

Importing this package imports every action module, which registers its actions (`base.register`);
the list is explicit, and a test keeps it equal to the package's modules.
"""

from __future__ import annotations

from remediate.actions import (
    broker_logs,  # issue 21 (item 4)
    broker_storage,
    broker_tls,
    client_trust,  # issue 24
    connection_error,
    consumer_group,
    cross_account,
    endpoint_policy,
    esm,
    failure_queue,  # issue 25
    flow,  # issue 25
    function_concurrency,
    kafka_acls,
    key_policy,
    listeners,
    measured,  # issue 22
    monitoring,  # issue 25
    provisioned_mode,
    role_policy,
    route53,
    schema_registry,
    scram,
    secret_access,  # issue 24
    secret_lifecycle,  # issue 25
    secret_value,
    security_group,
    strays,  # issue 25
    system_logs,  # issue 21 (item 3)
    topics,
    vpc,
    vpc_endpoint,
)
from remediate.actions.base import Action, ApplyContext, Draft, ManualAction, get, register
from remediate.actions.base import registered as registry

MODULES = (
    broker_logs,  # issue 21 (item 4)
    broker_storage,
    broker_tls,
    client_trust,  # issue 24
    connection_error,
    consumer_group,
    cross_account,
    endpoint_policy,
    esm,
    failure_queue,  # issue 25
    flow,  # issue 25
    function_concurrency,
    kafka_acls,
    key_policy,
    listeners,
    measured,  # issue 22
    monitoring,  # issue 25
    provisioned_mode,
    role_policy,
    route53,
    schema_registry,
    scram,
    secret_access,  # issue 24
    secret_lifecycle,  # issue 25
    secret_value,
    security_group,
    system_logs,  # issue 21 (item 3)
    strays,  # issue 25
    topics,
    vpc,
    vpc_endpoint,
)

__all__ = ["MODULES", "Action", "ApplyContext", "Draft", "ManualAction", "get", "register", "registry"]
