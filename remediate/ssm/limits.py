"""Systems Manager Automation's limits that the runbook, its handlers and the local runner obey.

Sources (Systems Manager user guide):
- aws:executeScript: "Each aws:executeScript action can run up to a maximum duration of 600 seconds";
  its Payload output: "Up to 100KB is returned"; Python 3.6-3.8 runbooks can no longer be created,
  "upgrade to Python 3.11" (automation-action-executeScript.html).
- aws:approve: Message at most 4096 characters, at most 10 Approvers, MinRequiredApprovals "can't
  exceed the number of approvers", the SNS topic's name "must be prefixed with Automation", and "This
  action doesn't support multi-account and Region automations" (automation-action-approve.html).
- Targeting parameter values: "You can target a maximum of 50 parameter values"; TargetLocation
  Accounts and Regions: at most 50 items each (API_TargetLocation.html).
"""

from __future__ import annotations

import os

PAYLOAD_LIMIT = 100 * 1024
"""SSM's cap, in bytes, on the Payload an executeScript step returns (what is past it is cut off)."""
PAYLOAD_BUDGET = PAYLOAD_LIMIT - 8 * 1024
"""What a handler allows itself: SSM wraps the payload, so keep a margin below the hard cap."""
MESSAGE_LIMIT = 4096
"""SSM's cap, in characters, on an `aws:approve` Message."""
MAX_APPROVERS = 10
STEP_TIMEOUT = 600
"""Seconds an `aws:executeScript` step may run at most."""
DOCUMENT_LIMIT = 64 * 1024
"""Bytes of document content SSM accepts."""
MAX_TARGET_LOCATION_ITEMS = 50
"""Accounts (or OUs) and Regions per TargetLocation."""
CANCEL_WINDOW = 120
"""issue 27, D2: "Automation runs the cancellation workflow for a maximum of two minutes" (Systems
Manager user guide, automation-actions.md, `onCancel`): seconds the onCancel steps get in all."""
CANCEL_STEP_TIMEOUT = 60
"""The runbook's onCancel cleanup step: half the window, so it ends with time to spare."""
HANDOFF_SECONDS = STEP_TIMEOUT + 3 * 900 + 30 + STEP_TIMEOUT
"""issue 27, D11: the longest the ESM lock must last once `apply` takes it: the apply step, the three
native ESM waits (900 s each), the pause before the second enable, and `finalize`, which releases it.
`apply` sets the lock's TTL to at least this, since nothing renews it after the hand-over."""
PYTHON_RUNTIME = "python3.11"
"""The executeScript runtime the runbook uses and the one the SSM guide recommends."""

STEP_SECONDS_ENV = "REMEDIATE_SSM_STEP_SECONDS"
"""Set by the local runner when it scales SSM's 600 s down (tests); absent in SSM itself."""

# How a script step spends its 600 s: it starts a change only while a whole change (two ESM waits)
# and a margin still fit, and every ESM wait inside it is bounded, so SSM never kills it half-way.
WAIT_SHARE = 0.3
"""Fraction of the step limit one ESM state wait may take (esm_transition_timeout in a step)."""
MARGIN_SHARE = 0.05
"""Fraction of the step limit kept free at the end of the step (verification, the payload)."""


def step_seconds() -> float:
    """The step limit this process runs under: 600 s, or the local runner's scaled value."""
    raw = os.environ.get(STEP_SECONDS_ENV, "")
    try:
        value = float(raw) if raw else float(STEP_TIMEOUT)
    except ValueError:
        value = float(STEP_TIMEOUT)
    return min(max(value, 0.1), float(STEP_TIMEOUT))
