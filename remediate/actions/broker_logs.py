"""The manual step for a finding proven by the MSK brokers' own logs (issue 21, item 4).

A broker's "Failed authentication" line says that the pollers' credentials or TLS were refused, not which
setting is wrong: the findings of the same code inferred from configuration (a SCRAM secret not associated,
a missing permission) carry the changes; this step quotes what the broker logged and says what to compare.
"""

from __future__ import annotations

from pydantic import BaseModel

from remediate.actions.base import Draft, ManualAction, register
from remediate.evidence import BrokerLogLines
from remediate.facts import Facts
from remediate.findings import Finding
from remediate.plan import ManualStep


@register
class BrokerLogSteps(ManualAction):
    """Compare what the mapping presents with what the brokers accept, citing the broker's line."""

    name = "broker_log_steps"
    accepts = (BrokerLogLines,)

    def plan(self, facts: Facts, finding: Finding, params: BaseModel) -> list[Draft | ManualStep]:
        ev = finding.evidence
        if not isinstance(ev, BrokerLogLines):  # the same code from another source
            return []
        if finding.code == "SERVER_AUTH_FAILED":
            compare = (
                "check that the brokers' certificate chain is trusted by what the mapping names (its "
                "SERVER_ROOT_CA_CERTIFICATE secret, or the public CAs) and, with mTLS, that its client "
                "certificate is signed by a CA the cluster lists"
            )
        else:
            compare = (
                "check the mapping's SASL credentials against the cluster's: the secret's username and "
                "password (`aws kafka list-scram-secrets`), or the execution role's kafka-cluster:Connect "
                "for IAM"
            )
        text = (
            f"The brokers logged {ev.count} failed connection(s) from {ev.client_address} (subnet "
            f'{ev.subnet_id}, where the pollers run) in {ev.log_group}: "{ev.line}". {compare[0].upper()}'
            f"{compare[1:]}, then diagnose again: `remediate diagnose --esm {facts.esm.uuid}`."
        )
        return [ManualStep(because=(finding.code,), text=text)]
