"""What the opt-in TLS probe (`remediate diagnose --probe`) found about each bootstrap broker.

Without `--probe` there are no probe results and this check says nothing: whether a broker's
certificate matches its name or the configured root CA can only be seen by connecting. A broker the
probe could not reach from this machine is reported as "could not check", never as a failure: the
ESM's pollers connect from elsewhere.
"""

from __future__ import annotations

from remediate.checks.base import check
from remediate.evidence import ProbeNotReached, ProbeResult, ServerAuthFailed
from remediate.facts import PROBE_FAILED, PROBE_NOT_REACHED, Facts
from remediate.findings import Finding

_WHAT = {
    "hostname-mismatch": "presents a certificate that does not name the host in the bootstrap string",
    "unknown-ca": "presents a certificate not signed by the configured root CA",
    "expired": "presents an expired certificate",
    "not-yet-valid": "presents a certificate that is not valid yet",
    "untrusted": "presents a certificate that does not verify",
    "not-tls": "does not speak TLS on this port, and the ESM uses TLS",
    "tls-error": "fails the TLS handshake",
}


@check("server_auth", "SERVER_AUTH_FAILED", "COULD_NOT_CHECK")
def server_auth(facts: Facts) -> list[Finding]:
    """Brokers whose TLS certificate fails verification the way Lambda verifies it."""
    findings: list[Finding] = []
    for probe in facts.tls_probes or ():
        seen = ProbeResult(
            server=probe.server,
            outcome=probe.outcome,
            detail=probe.detail,
            ca_source=probe.ca_source,
            peer_subject=probe.peer_subject,
            peer_names=probe.peer_names,
            peer_not_after=probe.peer_not_after,
            probed_from="this machine",
        )
        if probe.outcome in PROBE_FAILED:
            findings.append(
                Finding(
                    code="SERVER_AUTH_FAILED",
                    summary=f"broker {probe.server} {_WHAT[probe.outcome]} ({probe.detail})",
                    evidence=ServerAuthFailed(**seen.model_dump()),
                )
            )
        elif probe.outcome in PROBE_NOT_REACHED:
            findings.append(
                Finding(
                    code="COULD_NOT_CHECK",
                    summary=f"could not probe broker {probe.server} from this machine: {probe.outcome} "
                    f"({probe.detail})",
                    evidence=ProbeNotReached(**seen.model_dump()),
                )
            )
    return findings
