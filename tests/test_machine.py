"""The run state machine: the documented diagram is the machine's, and failures route to `failed`."""

from __future__ import annotations

from pathlib import Path

from remediate.run.machine import mermaid


def test_docs_diagram_matches_the_machine() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "state-machine.md").read_text()
    assert "```mermaid\n" + mermaid() + "```" in doc


def test_every_working_state_can_fail() -> None:
    lines = mermaid().splitlines()
    for state in (
        "pending",
        "observing",
        "diagnosed",
        "planned",
        "awaiting_approval",
        "applying",
        "verifying",
    ):
        assert f"    {state} --> failed: fail" in lines
    assert "    done --> failed: fail" not in lines
