"""Systems Manager Automation's limits that the runbook, its handlers and the local runner obey.

From the Systems Manager user guide (`aws:executeScript`, `aws:approve`) and the SSM quotas page
(https://docs.aws.amazon.com/general/latest/gr/ssm.html).
"""

from __future__ import annotations

PAYLOAD_LIMIT = 100 * 1024
"""SSM's cap, in bytes, on the Payload an executeScript step returns."""
PAYLOAD_BUDGET = PAYLOAD_LIMIT - 8 * 1024
"""What a handler allows itself: SSM wraps the payload, so keep a margin below the hard cap."""
MESSAGE_LIMIT = 4096
"""SSM's cap, in characters, on an `aws:approve` Message."""
STEP_TIMEOUT = 600
"""Seconds an `aws:executeScript` step may run at most."""
DOCUMENT_LIMIT = 64 * 1024
"""Bytes of document content SSM accepts."""
