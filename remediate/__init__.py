"""remediate: diagnose and safely fix Lambda event source mappings for Amazon MSK and Kafka.

The public API is listed in `__all__`; names are imported on first use so that importing the
package (and starting the CLI) stays fast and does not pull in boto3.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "Aws",
    "Facts",
    "Finding",
    "Plan",
    "RemediateError",
    "Run",
    "Settings",
    "build_plan",
    "diagnose",
    "load_settings",
    "observe",
]

_WHERE = {
    "Aws": "remediate.aws",
    "Facts": "remediate.facts",
    "Finding": "remediate.findings",
    "Plan": "remediate.plan",
    "RemediateError": "remediate.errors",
    "Run": "remediate.run.machine",
    "Settings": "remediate.config",
    "build_plan": "remediate.run.engine",
    "diagnose": "remediate.run.engine",
    "load_settings": "remediate.config",
    "observe": "remediate.observe.reads",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'remediate' has no attribute {name!r}")
