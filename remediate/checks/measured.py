"""Findings proven by measurement (issue 22): each failed step of `remediate probe`, from the pollers' place.

The other checks infer a cause from configuration; these read `Facts.measured` (`remediate.measured`)
and report the finding each failed step proves, naming the broker, the step and Kafka's error code. The
evidence is `MeasuredFailure` (source "measured"); its playbook action is a manual step, because a
measurement says what fails, not which configuration to change.
"""

from __future__ import annotations

from remediate import measured
from remediate.checks.base import check
from remediate.evidence import MeasuredFailure
from remediate.facts import Facts
from remediate.findings import Finding

_WHAT = {
    "BROKER_DNS_UNRESOLVABLE": "the broker's name does not resolve where the pollers run",
    "BROKER_PORTS_BLOCKED": "the broker's port is not reached from the pollers' subnets and security groups",
    "SERVER_AUTH_FAILED": "the broker's certificate fails the mapping's trust or host name check",
    "SASL_AUTH_FAILED": "the broker rejects the mapping's SASL authentication",
    "CLUSTER_AUTHZ_FAILED": "the cluster does not authorize the mapping's consumer",
    "TOPIC_NOT_FOUND": "the brokers do not know the mapping's topic",
    "CLIENT_CERT_REJECTED": "the broker rejects the mapping's client certificate",  # issue 22
}


@check(
    "measured_path",
    "BROKER_DNS_UNRESOLVABLE",
    "BROKER_PORTS_BLOCKED",
    "SERVER_AUTH_FAILED",
    "SASL_AUTH_FAILED",
    "CLUSTER_AUTHZ_FAILED",
    "TOPIC_NOT_FOUND",
    "CLIENT_CERT_REJECTED",  # issue 22
)
def measured_path(facts: Facts) -> list[Finding]:
    """One finding per failed step that proves a cause (the same broker and step are reported once)."""
    probe = facts.measured
    out: dict[tuple[str, str, str, str], Finding] = {}
    for code, step in measured.proven(probe):
        assert probe is not None
        key = (code, step.server, step.step, step.detail)
        out.setdefault(
            key,
            Finding(
                code=code,
                summary=f"measured from the pollers' place: {_WHAT[code]}: {measured.describe(step)}",
                evidence=MeasuredFailure(source="measured", run_id=probe.run_id, measured=step),
            ),
        )
    return list(out.values())
