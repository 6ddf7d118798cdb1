"""Shell completion for bash, zsh and fish: click's, switched on by `_REMEDIATE_COMPLETE` (README)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import REMEDIATE


def complete(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REMEDIATE], env={**os.environ, **env}, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _remediate_completion remediate"),
        ("zsh", "#compdef remediate"),
        ("fish", 'complete --no-files --command remediate --arguments "(_remediate_completion)"'),
    ],
)
def test_the_completion_script_is_produced(shell: str, marker: str) -> None:
    result = complete({"_REMEDIATE_COMPLETE": f"{shell}_source"})
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout
    assert f"_REMEDIATE_COMPLETE={shell}_complete" in result.stdout


def test_commands_and_choices_complete() -> None:
    """What the script asks for at a TAB: the commands, then an option's choices (the report formats)."""
    words = complete(
        {"_REMEDIATE_COMPLETE": "bash_complete", "COMP_WORDS": "remediate dia", "COMP_CWORD": "1"}
    )
    assert words.stdout.split() == ["plain,diagnose"]
    outputs = complete(
        {"_REMEDIATE_COMPLETE": "bash_complete", "COMP_WORDS": "remediate scan --output ", "COMP_CWORD": "3"}
    )
    assert outputs.stdout.split() == ["plain,text", "plain,json", "plain,markdown", "plain,html"]
