"""moto's per-request and per-reset work that AWS would not do, left out so the sandbox answers fast.

Profiled over scenario builds (the suite resets the sandbox and builds a scenario for almost every
test), moto spent over half its CPU on three things no answer depends on:

- **Default AMIs.** Each EC2 backend, created again after every reset, loads some 8,000 public images,
  each with a volume and a snapshot. No command of this tool, and no scenario, reads or launches an
  image, so the sandbox's accounts have none (moto's own `MOTO_EC2_LOAD_DEFAULT_AMIS=false`, set through
  its settings function rather than the environment, which the in-process CLI of the tests replaces).
- **The backend of a host.** The dispatcher lists moto's package directory on every request to find
  which service a host names; the answer for a host never changes while the server runs.
- **A responses class's method names.** Every request walks its class with `inspect.getmembers` to learn
  whether the action is implemented; classes do not change after import (patches replace methods that
  exist), so the names are read once per class.

None of this changes what any request answers: the same operations are implemented and refused.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType
from typing import Any

import moto.settings as _moto_settings
from moto.core import responses as _responses
from moto.core.utils import method_names_from_class as _method_names
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_BACKEND_FOR_HOST: dict[str | None, Any] = {}
_ORIGINAL_BACKEND_FOR_HOST = DomainDispatcherApplication.get_backend_for_host


def _backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
    if host not in _BACKEND_FOR_HOST:
        _BACKEND_FOR_HOST[host] = _ORIGINAL_BACKEND_FOR_HOST(self, host)
    return _BACKEND_FOR_HOST[host]


@functools.cache
def _method_names_once(clazz: object) -> frozenset[str]:
    return frozenset(_method_names(clazz))


def _no_default_amis() -> bool:
    return False


def patch(replace: Callable[[type[Any] | ModuleType, str, Any], None]) -> None:
    """Install the shortcuts through the sandbox's one patch registry (`patches._replace`)."""
    replace(_moto_settings, "ec2_load_default_amis", _no_default_amis)
    replace(DomainDispatcherApplication, "get_backend_for_host", _backend_for_host)
    replace(_responses, "method_names_from_class", _method_names_once)
