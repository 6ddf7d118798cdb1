"""An embedded AWS for tests and ``remediate demo``: moto in server mode, extended for Kafka event source
mappings.

Nothing else in ``remediate`` imports this package: the engine talks to the sandbox exactly as it talks to
AWS,
through the standard SDK settings (``AWS_ENDPOINT_URL`` and credentials, see :meth:`Sandbox.env`).

Needs the ``sandbox`` extra (moto[server]). ``docs/sandbox.md`` describes the moto gaps it fills, the fault
injection and the scenarios. The sandbox is an independent witness of the engine: it imports nothing from
``remediate`` outside ``remediate.sandbox`` and states AWS's rules literally from the AWS documentation
(``tests/sandbox/test_independence.py`` holds it to that).
"""

from __future__ import annotations

from remediate.sandbox.faults import FaultRule
from remediate.sandbox.scenarios import Scenario, ScenarioOptions, build_scenario, scenario_names
from remediate.sandbox.server import Sandbox

__all__ = ["FaultRule", "Sandbox", "Scenario", "ScenarioOptions", "build_scenario", "scenario_names"]
