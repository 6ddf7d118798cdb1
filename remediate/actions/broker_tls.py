"""fix_broker_certificate: what to do when a broker's TLS certificate fails verification.

The broker's certificate, the bootstrap host names and the root CA secret are the user's to change:
no AWS API call fixes them safely, so this action plans manual steps only, chosen by what the probe
saw (host-name mismatch, unknown CA, expired or not-yet-valid certificate, not a TLS port). No apply.
"""

from __future__ import annotations

from pydantic import BaseModel

from remediate.actions.base import Draft, ManualAction, register
from remediate.evidence import ServerAuthFailed
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.kafka import SERVER_ROOT_CA_CERTIFICATE, split_server
from remediate.plan import ManualStep

_SHOW = (
    "openssl s_client -connect {server} -servername {host} -showcerts </dev/null | openssl x509 -noout -text"
)


def _root_ca(facts: Facts) -> str | None:
    return next((a.uri for a in facts.esm.source_access if a.type == SERVER_ROOT_CA_CERTIFICATE), None)


def steps_text(facts: Facts, ev: ServerAuthFailed) -> str:
    server = ev.server
    host = split_server(server)[0]
    show = _SHOW.format(server=server, host=host)
    ca = _root_ca(facts)
    outcome = ev.outcome
    if outcome == "hostname-mismatch":
        names = ", ".join(ev.peer_names) or ev.peer_subject or "other names"
        return (
            f"Broker {server} presents a certificate for {names}, not {host}. Either use a bootstrap name "
            f"the certificate covers (`aws lambda update-event-source-mapping --uuid {facts.esm.uuid} "
            '--self-managed-event-source \'{"Endpoints":{"KAFKA_BOOTSTRAP_SERVERS":["NAME:PORT"]}}\'`, '
            f"for self-managed Kafka), or reissue the broker certificate with {host} in its subjectAltName. "
            f"Inspect it with: {show}"
        )
    if outcome == "unknown-ca":
        where = (
            f"the CA bundle in secret {ca}"
            if ca
            else "the public CAs Lambda trusts (the ESM has no SERVER_ROOT_CA_CERTIFICATE secret)"
        )
        fix = (
            f"add the issuing CA to {ca} (PEM bundle in its `certificate` field: build it with "
            "`jq -n --rawfile certificate ca-bundle.pem '{certificate: $certificate}' > ca.json` and store "
            f"it with `aws secretsmanager put-secret-value --secret-id {ca} --secret-string file://ca.json`)"
            if ca
            else "store the issuing CA's PEM bundle in a secret (`aws secretsmanager create-secret --name "
            "kafka-root-ca --secret-string file://ca.json`) and add it to the ESM as source access "
            "Type=SERVER_ROOT_CA_CERTIFICATE"
        )
        return f"Broker {server}'s certificate is not signed by {where}: {fix}. See the chain with: {show}"
    if outcome in ("expired", "not-yet-valid"):
        return (
            f"Broker {server}'s certificate is {outcome.replace('-', ' ')} "
            f"(valid until {ev.peer_not_after}): renew it on the broker and restart the listener. "
            f"Check the dates with: {show}"
        )
    if outcome == "not-tls":
        return (
            f"Broker {server} does not speak TLS on that port, but the ESM connects with TLS: use the "
            "broker's TLS listener port in the bootstrap servers, or enable TLS on that listener."
        )
    return f"Broker {server} fails TLS verification ({ev.detail}). Inspect it with: {show}"


@register
class FixBrokerCertificate(ManualAction):
    """Manual steps for a broker certificate that Lambda cannot verify."""

    name = "fix_broker_certificate"
    accepts = (ServerAuthFailed,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        if not isinstance(finding.evidence, ServerAuthFailed):
            return []
        return [ManualStep(because=(finding.code,), text=steps_text(facts, finding.evidence))]
