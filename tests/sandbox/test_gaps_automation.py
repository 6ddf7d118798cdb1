"""The sandbox's StartAutomationExecution (remediate/sandbox/automation.py), which moto lacks (issue 23, N23).

SSM API reference, "StartAutomationExecution": AutomationDefinitionNotFoundException for an unknown
runbook, InvalidAutomationExecutionParametersException for parameters the runbook does not take, and
an AutomationExecutionId of 36 characters.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from remediate.sandbox import Sandbox

RUNBOOK = """schemaVersion: '0.3'
parameters:
  EsmId:
    type: String
mainSteps:
  - name: wait
    action: aws:sleep
    inputs:
      Duration: PT1S
"""


def test_start_automation_execution_accepts_a_runbooks_own_parameters(sb: Sandbox) -> None:
    ssm = sb.client("ssm")
    ssm.create_document(Name="Gap-Runbook", Content=RUNBOOK, DocumentType="Automation", DocumentFormat="YAML")
    started = ssm.start_automation_execution(DocumentName="Gap-Runbook", Parameters={"EsmId": ["x"]})
    assert len(started["AutomationExecutionId"]) == 36
    with pytest.raises(ClientError) as bad:
        ssm.start_automation_execution(DocumentName="Gap-Runbook", Parameters={"Nope": ["x"]})
    assert bad.value.response["Error"]["Code"] == "InvalidAutomationExecutionParametersException"
    with pytest.raises(ClientError) as missing:
        ssm.start_automation_execution(DocumentName="No-Such-Runbook")
    assert missing.value.response["Error"]["Code"] == "AutomationDefinitionNotFoundException"
