"""Flags given on the command line that the chosen command does not use (issue 23, operator-hunt N18).

A flag that changes nothing is worse than an error when nothing says so: the operator believes it
took effect. Like Terraform's warnings, each such flag gets one `Warning:` line on standard error
and the command goes on; only flags whose defaults apply are not mentioned.
"""

from __future__ import annotations

from collections.abc import Iterable

import click
from click.core import ParameterSource


def given(name: str) -> bool:
    """Whether the parameter `name` of the current command was given (flag or environment), not
    left at its default."""
    source = click.get_current_context().get_parameter_source(name)
    return source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def warn_ignored(names: Iterable[str], why: str) -> None:
    """One `Warning:` line for each given flag among `names` (parameter names), saying why it is
    ignored."""
    for name in names:
        if given(name):
            click.echo(f"Warning: {_flag(name)} is ignored {why}", err=True)


def _flag(name: str) -> str:
    """The command line spelling of parameter `name` (its first long option)."""
    command = click.get_current_context().command
    for param in command.params:
        if param.name == name:
            return next((o for o in param.opts if o.startswith("--")), param.opts[0])
    return "--" + name.replace("_", "-")
