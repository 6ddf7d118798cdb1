"""SSM Automation: the executeScript `handlers`, the runbook `document`, its attachment `bundle`, a
local `runner` that executes the runbook as SSM would, and `start` for executions in AWS.

Nothing here imports click or rich: the handlers run from the bundle inside SSM.
"""
