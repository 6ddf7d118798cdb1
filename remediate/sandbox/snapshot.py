"""Snapshots of the sandbox's AWS state: take one after building a scenario, restore it into an emptied
sandbox instead of building the scenario again.

A scenario is built through the API, as its owner would build it (dozens of requests, each a round trip
through botocore, HTTP and moto); a restore copies moto's backend objects in memory, a few milliseconds.
The suite builds the same scenarios hundreds of times, each into a freshly reset sandbox.

What a snapshot holds: every moto backend (service, account, region) that exists, deep-copied, and the
sandbox's call log. Everything the sandbox adds to AWS (ESM states, topics, endpoint-service zones,
metrics, function states) lives on those backends, so it comes along. References between backends stay
references between the restored ones; moto's per-service registries (`BackendDict`) are shared, not
copied. A snapshot lives in the process that took it (moto's state holds functions, weak references and
keys that pickle refuses). Not in a snapshot: faults and settings (`Sandbox.reset` restores their
defaults), anything outside moto (files, sockets, processes), and the clock: data stamped with the time it
was made (metric data points, log events, creation dates) keeps that time, so a snapshot restored later
holds older data than a fresh build would (`Snapshot.stamped` says whether it holds metric data or log
events, whose age a diagnosis reads).
"""

from __future__ import annotations

import copy
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from moto.core.base_backend import BackendDict

__all__ = ["Snapshot", "SnapshotError", "empty", "restore", "take"]


def _weak_dictionary(x: Any, memo: dict[int, Any]) -> Any:
    """A weak dictionary's copy maps copied keys to copied values (the standard library's keeps the
    original values of a WeakValueDictionary, the original keys of a WeakKeyDictionary: a restored Lambda
    backend's functions by ARN would point into the snapshot, and at nothing once it was gone)."""
    new = type(x)()
    memo[id(x)] = new
    for key, value in list(x.items()):
        new[copy.deepcopy(key, memo)] = copy.deepcopy(value, memo)
    return new


# Some models hold a lock of their own (an SQS queue's messages condition, an S3 key's lock). deepcopy
# refuses locks; a copied model gets a new one, as a newly created model would. A Condition's copy would
# otherwise be bound to the original's lock; weak dictionaries' copies would refer to the originals.
copy._deepcopy_dispatch.update(  # type: ignore[attr-defined]
    {
        type(threading.Lock()): lambda _x, _memo: threading.Lock(),
        type(threading.RLock()): lambda _x, _memo: threading.RLock(),
        threading.Condition: lambda _x, _memo: threading.Condition(),
        weakref.WeakValueDictionary: _weak_dictionary,
        weakref.WeakKeyDictionary: _weak_dictionary,
    }
)


class SnapshotError(Exception):
    """Part of the state cannot be copied: this state has no snapshot."""


@dataclass(frozen=True)
class Snapshot:
    places: tuple[tuple[Any, str, str], ...]  # (registry, account, region) of each backend, as in `backends`
    backends: tuple[Any, ...]  # deep copies, never restored themselves: each restore copies them again
    calls: tuple[tuple[str, str], ...]
    stamped: bool  # holds metric data points or log events


def _registries() -> list[Any]:
    loaded: list[Any] = getattr(BackendDict, "_instances")  # noqa: B009 - moto has no public list of them
    return list(loaded)


def empty() -> bool:
    """Whether moto holds no backend at all (as just after a reset: backends are made on first use)."""
    return not _registries()


def _copy(objects: list[Any], registries: list[Any]) -> list[Any]:
    """Deep copies of `objects`, sharing the registries (the memo maps each to itself)."""
    try:
        copied: list[Any] = copy.deepcopy(objects, {id(r): r for r in registries})
    except (TypeError, copy.Error) as exc:
        raise SnapshotError(str(exc)) from exc
    return copied


def take(calls: list[tuple[str, str]]) -> Snapshot:
    """Copy every backend moto holds now (in this process: moto's backends are process-global)."""
    registries = _registries()
    places: list[tuple[Any, str, str]] = []
    live: list[Any] = []
    for registry in registries:
        for account, by_region in registry.items():
            for region, backend in by_region.items():
                places.append((registry, account, region))
                live.append(backend)
    copies = _copy(live, registries)
    return Snapshot(tuple(places), tuple(copies), tuple(calls), any(_stamped(b) for b in copies))


def _stamped(backend: Any) -> bool:
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.logs.models import LogsBackend

    if isinstance(backend, CloudWatchBackend):
        return bool(backend.metric_data)
    if isinstance(backend, LogsBackend):
        return any(stream.events for group in backend.groups.values() for stream in group.streams.values())
    return False


def restore(snapshot: Snapshot) -> None:
    """Put a copy of the snapshot's backends in place. The sandbox must be empty (just reset): backends
    that exist already are replaced, others are left as they are."""
    registries = list({id(place[0]): place[0] for place in snapshot.places}.values())
    for (registry, account, region), backend in zip(
        snapshot.places, _copy(list(snapshot.backends), registries), strict=True
    ):
        by_region = registry[account]  # makes the account's entry and registers the service again
        dict.__setitem__(by_region, region, backend)
