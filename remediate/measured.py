"""The "measured" evidence source (issue 22): what `remediate probe` measured, and the finding it proves.

The probe function (`remediate.probe_function.handler`) reports each broker's steps from the pollers'
own subnets and security groups. `from_result` turns its result into `Facts.measured`; `proves` names the
finding a failed step proves. A step is proof only of what it tests:

- dns `unresolvable` (or another failure of the lookup): the name does not resolve where the pollers run
  -> BROKER_DNS_UNRESOLVABLE;
- tcp `refused`, `timeout`, `unreachable`: the broker's port is not reached from there
  -> BROKER_PORTS_BLOCKED;
- tls (the chain against the mapping's trust, the host name): SERVER_AUTH_FAILED;
- sasl (Kafka's SaslHandshake/SaslAuthenticate error, or an answer that does not verify): SASL_AUTH_FAILED;
- a topic or the consumer group answered with TOPIC_AUTHORIZATION_FAILED (29),
  GROUP_AUTHORIZATION_FAILED (30) or CLUSTER_AUTHORIZATION_FAILED (31) (Apache Kafka protocol guide,
  "Error Codes"): CLUSTER_AUTHZ_FAILED;
- a topic the broker's Metadata answers with UNKNOWN_TOPIC_OR_PARTITION (3): TOPIC_NOT_FOUND, measured
  where MSK's topic APIs do not reach (self-managed clusters, Serverless, Kafka before 3.6).

- the broker ended the TLS session with an alert about the client's certificate (`CLIENT_CERT_ALERTS`,
  on the tls step or, under TLS 1.3, on the first request after it): CLIENT_CERT_REJECTED.

Not mapped, and shown only as the probe's own result: another TLS alert on a later step (it does not say
what about the mapping is wrong), and a step cut off by the probe's own deadline (it proves nothing about
the broker). Pure: no AWS calls.
"""

from __future__ import annotations

from typing import Any, Final

from remediate.evidence import MeasuredFailure
from remediate.facts import Measured, MeasuredStep

AUTHZ_ERRORS: Final = {
    29: "TOPIC_AUTHORIZATION_FAILED",
    30: "GROUP_AUTHORIZATION_FAILED",
    31: "CLUSTER_AUTHORIZATION_FAILED",
}
UNKNOWN_TOPIC: Final = 3
"""UNKNOWN_TOPIC_OR_PARTITION (Apache Kafka protocol guide, "Error Codes")."""
_PASSED: Final = frozenset({"ok", "not-applicable", "skipped"})
_DEADLINE: Final = "the probe's deadline passed"
_BY_STEP: Final = {
    "dns": "BROKER_DNS_UNRESOLVABLE",
    "tcp": "BROKER_PORTS_BLOCKED",
    "tls": "SERVER_AUTH_FAILED",
    "sasl": "SASL_AUTH_FAILED",
}
_TCP_BLOCKED: Final = frozenset({"refused", "timeout", "unreachable"})
CLIENT_CERT_ALERTS: Final = frozenset(
    {
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        "SSLV3_ALERT_CERTIFICATE_REVOKED",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
    }
)
"""The alerts a server sends about the client's certificate (RFC 8446, section 6.2: unknown_ca,
bad_certificate, unsupported_certificate, certificate_revoked, certificate_expired, certificate_unknown,
certificate_required), by OpenSSL's reason names: the broker rejected the mapping's client certificate."""


def _step(report: dict[str, Any], step: dict[str, Any]) -> MeasuredStep:
    return MeasuredStep(
        server=str(report["server"]),
        role=str(report["role"]),
        node_id=report.get("node_id"),
        step=str(step["step"]),
        outcome=str(step["outcome"]),
        detail=str(step.get("detail", "")),
        ms=float(step.get("ms", 0.0)),
        error_code=step.get("error_code"),
        error_name=step.get("error_name"),
        tls_alert=step.get("tls_alert"),
    )


def from_result(result: dict[str, Any], run_id: str) -> Measured:
    """The probe function's result (`remediate/probe@1`'s `result`) as facts."""
    reports = [*result.get("bootstrap", []), *result.get("brokers", [])]
    steps = [_step(r, s) for r in reports for s in r["steps"]]
    # Topics and the group were asked on the first bootstrap connection that answered Metadata.
    asked = next(
        (
            r
            for r in result.get("bootstrap", [])
            if any(s["step"] == "metadata" and s["outcome"] == "ok" for s in r["steps"])
        ),
        None,
    )
    server = str(asked["server"]) if asked else ""
    brokers = {r.get("node_id"): str(r["server"]) for r in result.get("brokers", [])}
    for topic in result.get("topics", []):
        failed = topic["error_code"] != 0
        steps.append(
            MeasuredStep(
                server=server,
                role="bootstrap",
                step="topic",
                outcome="kafka-error" if failed else "ok",
                detail=str(topic["topic"]),
                error_code=topic["error_code"],
                error_name=topic.get("error_name"),
            )
        )
    group = result.get("group")
    if group:
        on_coordinator = group.get("step") != "find_coordinator"
        steps.append(
            MeasuredStep(
                server=brokers.get(group.get("coordinator"), server) if on_coordinator else server,
                role="coordinator" if on_coordinator else "bootstrap",
                node_id=group.get("coordinator"),
                step="group",
                outcome=str(
                    group.get("outcome") or ("ok" if group.get("error_code") == 0 else "kafka-error")
                ),
                detail=f"{group['group']} ({group.get('step')})"
                + (f": {group['detail']}" if group.get("detail") else ""),
                error_code=group.get("error_code"),
                error_name=group.get("error_name"),
            )
        )
    return Measured(
        run_id=run_id,
        complete=bool(result.get("complete")),
        steps=tuple(steps),
        secret_error=result.get("secret_error"),
    )


def proves(step: MeasuredStep) -> str | None:
    """The finding code a measured step proves, or None (it passed, or proves nothing on its own)."""
    if step.outcome in _PASSED or step.detail.startswith(_DEADLINE):
        return None
    if step.outcome == "tls-alert" and step.tls_alert in CLIENT_CERT_ALERTS:
        return "CLIENT_CERT_REJECTED"  # issue 22: whichever step read the alert (TLS 1.3: the first request)
    if step.error_code in AUTHZ_ERRORS:
        return "CLUSTER_AUTHZ_FAILED"
    if step.step == "topic" and step.error_code == UNKNOWN_TOPIC:
        return "TOPIC_NOT_FOUND"
    if step.step == "tcp" and step.outcome not in _TCP_BLOCKED:
        return None
    return _BY_STEP.get(step.step)


def proven(measured: Measured | None) -> list[tuple[str, MeasuredStep]]:
    """Each failed step that proves a finding, with its code, in the order measured."""
    if measured is None:
        return []
    return [(code, s) for s in measured.steps if (code := proves(s))]


def describe(step: MeasuredStep) -> str:
    """`bootstrap HOST:PORT, step sasl: kafka-error SASL_AUTHENTICATION_FAILED (58)`."""
    node = f" (node {step.node_id})" if step.node_id is not None else ""
    named = step.step in ("topic", "group")
    what = f" {step.detail}" if named else ""
    kafka = f" {step.error_name} ({step.error_code})" if step.error_code else ""
    tail = f": {step.detail}" if step.detail and not named and not kafka else ""
    return f"{step.role} {step.server}{node}, step {step.step}{what}: {step.outcome}{kafka}{tail}"


def evidence_line(evidence: object) -> str | None:
    """The line text, Markdown and HTML reports show under a measured finding; None for other evidence."""
    if not isinstance(evidence, MeasuredFailure):
        return None
    step = evidence.measured
    return f"measured by probe run {evidence.run_id}: {describe(step)} ({step.ms:g} ms)"
