"""Checks: pure functions of `Facts` that return findings. They never call AWS.

Importing this package imports every check module, which registers its checks (`base.check`); the
list is explicit, and a test keeps it equal to the package's modules.
"""

from __future__ import annotations

from remediate.checks import (
    broker_health,
    broker_logs,  # issue 21 (item 4)
    broker_ports,
    client_trust,  # issue 24
    consumer_group,
    dns,
    endpoint_policy,
    esm,
    esm_logs,  # issue 21
    flow,  # issue 25
    function,
    iam,
    kms,
    listeners,
    measured,  # issue 22
    monitoring,  # issue 25
    schema_registry,
    secret_access,  # issue 24
    secret_lifecycle,  # issue 25
    secrets,
    server_auth,
    service_endpoints,
    strays,  # issue 25
    topics,
    vpc_dns,
)
from remediate.checks.base import Check, check, run_check
from remediate.checks.base import registered as registry

MODULES = (
    broker_health,
    broker_logs,  # issue 21 (item 4)
    broker_ports,
    client_trust,  # issue 24
    consumer_group,
    dns,
    endpoint_policy,
    esm,
    esm_logs,  # issue 21
    flow,  # issue 25
    function,
    iam,
    kms,
    listeners,
    measured,  # issue 22
    monitoring,  # issue 25
    schema_registry,
    secret_access,  # issue 24
    secret_lifecycle,  # issue 25
    secrets,
    server_auth,
    service_endpoints,
    strays,  # issue 25
    topics,
    vpc_dns,
)


__all__ = ["MODULES", "Check", "check", "registry", "run_check"]
