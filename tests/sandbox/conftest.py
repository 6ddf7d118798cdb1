"""Shared fixtures for the sandbox tests: one server per session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from remediate.sandbox import Sandbox


@pytest.fixture(scope="session")
def sandbox_session() -> Iterator[Sandbox]:
    with Sandbox(region="us-east-1") as sb:
        yield sb


@pytest.fixture
def sb(sandbox_session: Sandbox) -> Sandbox:
    sandbox_session.reset()
    return sandbox_session
