"""The sandbox tests share the suite's one sandbox server (tests/conftest.py); `sb` is its short name."""

from __future__ import annotations

import pytest

from remediate.sandbox import Sandbox


@pytest.fixture
def sb(sandbox: Sandbox) -> Sandbox:
    return sandbox
