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

- **The private key of a symmetric KMS key.** moto makes an RSA-2048 private key for every KMS key it
  creates (38 ms of a CreateKey's 39), symmetric ones too, where it serves only Sign, Verify and
  GetPublicKey, which refuse symmetric keys (moto checks the key usage; `key_policies` adds
  GetPublicKey's refusal). The key of a symmetric key is made only if something uses it
  (`_PrivateKeyOnUse`); an asymmetric key's is made at creation, as before, so its key spec is checked
  when moto checks it.

- **GetMetricData's scan.** moto answers each query of a call by walking every datapoint of the account
  once per period of the window, comparing sorted dimensions each time; a scan's batched call (up to 500
  queries, issue 26) over a fleet's metrics took longer than the client's read timeout. The datapoints
  are grouped once per call by namespace, metric name and dimensions, and each query is answered by
  moto's own code over its group alone (`_indexed_get_metric_data`), which is what moto's filter keeps.

None of this changes what any request answers: the same operations are implemented and refused.
"""

from __future__ import annotations

import functools
import threading
from collections import defaultdict
from collections.abc import Callable
from types import ModuleType
from typing import Any

import moto.settings as _moto_settings
from moto.cloudwatch.models import CloudWatchBackend
from moto.core import responses as _responses
from moto.core.utils import method_names_from_class as _method_names
from moto.kms import models as _kms_models
from moto.kms.utils import generate_private_key as _generate_private_key
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from remediate.sandbox.key_policies import ASYMMETRIC_SPECS

_BACKEND_FOR_HOST: dict[str | None, Any] = {}
_ORIGINAL_BACKEND_FOR_HOST = DomainDispatcherApplication.get_backend_for_host


def _backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
    if host not in _BACKEND_FOR_HOST:
        _BACKEND_FOR_HOST[host] = _ORIGINAL_BACKEND_FOR_HOST(self, host)
    return _BACKEND_FOR_HOST[host]


@functools.cache
def _method_names_once(clazz: object) -> frozenset[str]:
    return frozenset(_method_names(clazz))


class _PrivateKeyOnUse:
    """Stands for the private key moto gives a symmetric KMS key, and makes it on first use."""

    def __init__(self, key_spec: str) -> None:
        self._key_spec = key_spec
        self._key: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy and pickle look for protocols: they do not use the key
            raise AttributeError(name)
        with self._lock:
            if self._key is None:
                self._key = _generate_private_key(self._key_spec)
        return getattr(self._key, name)


def _private_key(key_spec: str) -> Any:
    return _generate_private_key(key_spec) if key_spec in ASYMMETRIC_SPECS else _PrivateKeyOnUse(key_spec)


def _no_default_amis() -> bool:
    return False


_ORIGINAL_GET_METRIC_DATA = CloudWatchBackend.get_metric_data
_ORIGINAL_ALL_METRICS = CloudWatchBackend.get_all_metrics
_ONLY = threading.local()
"""The datapoints one query of this thread's GetMetricData may see (the server is threaded)."""


def _all_metrics(self: CloudWatchBackend) -> Any:
    subset = getattr(_ONLY, "datapoints", None)
    return _ORIGINAL_ALL_METRICS(self) if subset is None else subset


def _indexed_get_metric_data(
    self: CloudWatchBackend, queries: list[dict[str, Any]], start_time: Any, end_time: Any, **kw: Any
) -> list[dict[str, Any]]:
    """moto's GetMetricData, one query at a time over the datapoints it can match.

    moto keeps, for a query with dimensions, the datapoints of its metric name whose sorted dimensions
    equal the query's, and for one without, those of its namespace and name; the groups below are those
    sets (within the namespace). Math and Metrics Insights expressions refer to other queries of the
    call, so a call with any is left to moto whole."""
    if any("MetricStat" not in query for query in queries) or len(queries) < 2:
        return _ORIGINAL_GET_METRIC_DATA(self, queries, start_time, end_time, **kw)
    by_name: defaultdict[tuple[str, str], list[Any]] = defaultdict(list)
    by_dimensions: defaultdict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for datum in _ORIGINAL_ALL_METRICS(self):
        by_name[(datum.namespace, datum.name)].append(datum)
        pairs = tuple(sorted((d.name, d.value) for d in datum.dimensions))
        by_dimensions[(datum.namespace, datum.name, pairs)].append(datum)
    results: list[dict[str, Any]] = []
    for query in queries:
        metric = query["MetricStat"]["Metric"]
        named = (metric["Namespace"], metric["MetricName"])
        wanted = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
        if wanted:
            _ONLY.datapoints = by_dimensions.get((*named, wanted), [])
        else:
            _ONLY.datapoints = by_name.get(named, [])
        try:
            results += _ORIGINAL_GET_METRIC_DATA(self, [query], start_time, end_time, **kw)
        finally:
            _ONLY.datapoints = None
    return results


def patch(replace: Callable[[type[Any] | ModuleType, str, Any], None]) -> None:
    """Install the shortcuts through the sandbox's one patch registry (`patches._replace`)."""
    replace(CloudWatchBackend, "get_all_metrics", _all_metrics)
    replace(CloudWatchBackend, "get_metric_data", _indexed_get_metric_data)
    replace(_moto_settings, "ec2_load_default_amis", _no_default_amis)
    replace(DomainDispatcherApplication, "get_backend_for_host", _backend_for_host)
    replace(_responses, "method_names_from_class", _method_names_once)
    replace(_kms_models, "generate_private_key", _private_key)
