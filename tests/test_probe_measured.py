"""Issue 22: what `remediate probe` measured becomes findings (the "measured" evidence source).

The probe results below are written by hand in the shape the probe function returns (see
tests/test_probe_function_kafka.py for the real broker's answers); the Kafka error codes are Apache
Kafka's ("Error Codes" in the protocol guide): 3 UNKNOWN_TOPIC_OR_PARTITION, 29 TOPIC_AUTHORIZATION_FAILED,
30 GROUP_AUTHORIZATION_FAILED, 58 SASL_AUTHENTICATION_FAILED.
"""

from __future__ import annotations

from typing import Any

import pytest

from remediate import measured
from remediate.evidence import MeasuredFailure
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.run import playbook, report_html, report_markdown
from remediate.run.engine import build_plan, diagnose
from remediate.run.render import render_findings
from tests import factories

CONNECTION = "PROBLEM: Connection error. Please check your event source connection configuration."
BOOT = "b-1.kafka.example:9096"
OK = {"outcome": "ok", "ms": 3.0, "detail": ""}


def _steps(failed: str | None = None, **failure: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for step in ("dns", "tcp", "tls", "api_versions", "sasl", "metadata"):
        if failed is not None and out and out[-1]["outcome"] not in ("ok", "skipped"):
            out.append({"step": step, "outcome": "skipped", "ms": 0.0, "detail": "an earlier step failed"})
        elif step == failed:
            out.append({"step": step, "ms": 4.0, **failure})
        else:
            out.append({"step": step, **OK})
    return out


def _result(
    failed: str | None = None,
    topics: list[dict[str, Any]] | None = None,
    group: dict[str, Any] | None = None,
    **failure: Any,
) -> dict[str, Any]:
    return {
        "version": 1,
        "complete": failed is None,
        "bootstrap": [
            {"server": BOOT, "role": "bootstrap", "node_id": None, "steps": _steps(failed, **failure)}
        ],
        "brokers": [],
        "topics": topics or [],
        "group": group,
        "errors": [],
    }


def _facts(result: dict[str, Any] | None) -> Facts:
    f = factories.facts(esm=factories.esm(last_processing_result=CONNECTION))
    return f.model_copy(update={"measured": measured.from_result(result, "run-1") if result else None})


def _found(facts: Facts) -> list[Finding]:
    return diagnose(facts, playbook.load())


def test_without_a_measurement_the_connection_error_is_unexplained() -> None:
    assert "CONNECTION_UNEXPLAINED" in {f.code for f in _found(_facts(None))}


@pytest.mark.parametrize(
    ("failed", "failure", "code", "text"),
    [
        (
            "dns",
            {"outcome": "unresolvable", "detail": "[Errno -2] Name or service not known"},
            "BROKER_DNS_UNRESOLVABLE",
            f"bootstrap {BOOT}, step dns: unresolvable: [Errno -2] Name or service not known",
        ),
        (
            "tcp",
            {"outcome": "refused", "detail": "connection refused"},
            "BROKER_PORTS_BLOCKED",
            f"bootstrap {BOOT}, step tcp: refused: connection refused",
        ),
        (
            "tls",
            {"outcome": "hostname-mismatch", "detail": "broker certificate: Hostname mismatch"},
            "SERVER_AUTH_FAILED",
            f"bootstrap {BOOT}, step tls: hostname-mismatch: broker certificate: Hostname mismatch",
        ),
        (
            "sasl",
            {
                "outcome": "kafka-error",
                "detail": "SASL_AUTHENTICATION_FAILED (58): invalid credentials",
                "error_code": 58,
                "error_name": "SASL_AUTHENTICATION_FAILED",
            },
            "SASL_AUTH_FAILED",
            f"bootstrap {BOOT}, step sasl: kafka-error SASL_AUTHENTICATION_FAILED (58)",
        ),
    ],
)
def test_each_failed_step_proves_its_finding_and_explains_the_connection_error(
    failed: str, failure: dict[str, Any], code: str, text: str
) -> None:
    found = _found(_facts(_result(failed, **failure)))
    codes = [f.code for f in found]
    assert "CONNECTION_UNEXPLAINED" not in codes
    [finding] = [f for f in found if isinstance(f.evidence, MeasuredFailure)]
    assert finding.code == code
    assert text in finding.summary
    assert finding.evidence.source == "measured"
    assert finding.evidence.measured.server == BOOT
    assert finding.evidence.measured.step == failed
    assert finding.to_json()["evidence"]["source"] == "measured"


def test_topic_and_group_authorization_failures_are_cluster_authz_with_kafkas_codes() -> None:
    result = _result(
        topics=[
            {
                "topic": "payroll",
                "error_code": 29,
                "error_name": "TOPIC_AUTHORIZATION_FAILED",
                "partitions": 0,
                "leaders": [],
                "unreachable_leaders": [],
            }
        ],
        group={
            "group": "other-group",
            "step": "find_coordinator",
            "error_code": 30,
            "error_name": "GROUP_AUTHORIZATION_FAILED",
        },
    )
    found = [f for f in _found(_facts(result)) if isinstance(f.evidence, MeasuredFailure)]
    assert [(f.code, f.evidence.measured.step, f.evidence.measured.error_code) for f in found] == [
        ("CLUSTER_AUTHZ_FAILED", "topic", 29),
        ("CLUSTER_AUTHZ_FAILED", "group", 30),
    ]
    assert "step topic payroll: kafka-error TOPIC_AUTHORIZATION_FAILED (29)" in found[0].summary
    assert f"bootstrap {BOOT}" in found[1].summary


def test_an_unknown_topic_is_a_measured_topic_not_found() -> None:
    """Kafka's Metadata answer UNKNOWN_TOPIC_OR_PARTITION (3) for the mapping's topic proves it missing,
    where MSK's topic APIs do not reach: TOPIC_NOT_FOUND, and the error is no longer unexplained."""
    unknown = _result(
        topics=[
            {
                "topic": "nope",
                "error_code": 3,
                "error_name": "UNKNOWN_TOPIC_OR_PARTITION",
                "partitions": 0,
                "leaders": [],
                "unreachable_leaders": [],
            }
        ]
    )
    found = [f for f in _found(_facts(unknown)) if isinstance(f.evidence, MeasuredFailure)]
    assert [(f.code, f.evidence.measured.step, f.evidence.measured.error_code) for f in found] == [
        ("TOPIC_NOT_FOUND", "topic", 3)
    ]
    assert "step topic nope: kafka-error UNKNOWN_TOPIC_OR_PARTITION (3)" in found[0].summary
    assert "CONNECTION_UNEXPLAINED" not in {f.code for f in _found(_facts(unknown))}


def test_a_step_cut_off_by_the_deadline_proves_nothing() -> None:
    cut = _result("tcp", outcome="timeout", detail="the probe's deadline passed before this step")
    codes = {f.code for f in _found(_facts(cut))}
    assert "CONNECTION_UNEXPLAINED" in codes
    assert not {"BROKER_PORTS_BLOCKED", "CLUSTER_AUTHZ_FAILED", "TOPIC_NOT_FOUND"} & codes


def test_measurements_are_left_out_of_the_fingerprint() -> None:
    failed = _facts(_result("sasl", outcome="kafka-error", detail="x", error_code=58, error_name="X"))
    assert failed.fingerprint() == _facts(None).fingerprint()


def test_a_measured_finding_plans_a_manual_step_not_the_inferred_fixes() -> None:
    facts = _facts(_result("sasl", outcome="kafka-error", detail="x", error_code=58, error_name="SASL_X"))
    found = _found(facts)
    plan = build_plan(facts, found, playbook.load())
    assert plan.changes == ()
    [step] = [m for m in plan.manual_steps if "SASL_AUTH_FAILED" in m.because]
    assert "Measured by probe run run-1" in step.text
    assert f"remediate probe --esm {facts.esm.uuid}" in step.text


def test_text_markdown_and_html_show_the_measured_line() -> None:
    facts = _facts(_result("tcp", outcome="refused", detail="connection refused"))
    found = [f for f in _found(facts) if isinstance(f.evidence, MeasuredFailure)]
    line = f"measured by probe run run-1: bootstrap {BOOT}, step tcp: refused: connection refused (4 ms)"
    assert line in render_findings(facts, found)
    assert line in report_markdown.mapping_report(facts, found, None)
    assert line in report_html._evidence(found[0])


def test_a_certificate_alert_after_the_client_certificate_is_client_cert_rejected() -> None:
    """issue 22: the broker's alert about the client's certificate (RFC 8446, section 6.2: unknown_ca,
    certificate_unknown, ...) proves it rejects the mapping's certificate, on the tls step (TLS 1.2) or on
    the first request after it (TLS 1.3); it explains the connection error."""
    alert = "TLSV1_ALERT_UNKNOWN_CA"
    detail = f"the broker ended the TLS session with alert {alert}"
    for step in ("tls", "api_versions"):
        found = _found(_facts(_result(step, outcome="tls-alert", detail=detail, tls_alert=alert)))
        [finding] = [f for f in found if isinstance(f.evidence, MeasuredFailure)]
        assert finding.code == "CLIENT_CERT_REJECTED"
        assert f"bootstrap {BOOT}, step {step}: tls-alert: {detail}" in finding.summary
        assert finding.evidence.measured.tls_alert == alert
        assert "CONNECTION_UNEXPLAINED" not in {f.code for f in found}


def test_another_alert_after_the_handshake_proves_nothing() -> None:
    other = _result(
        "api_versions",
        outcome="tls-alert",
        detail="alert TLSV1_ALERT_INTERNAL_ERROR",
        tls_alert="TLSV1_ALERT_INTERNAL_ERROR",
    )
    found = _found(_facts(other))
    assert [f for f in found if isinstance(f.evidence, MeasuredFailure)] == []
    assert "CONNECTION_UNEXPLAINED" in {f.code for f in found}
