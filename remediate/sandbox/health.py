"""Live health in the sandbox: what AWS alone decides (broker and function metrics, a function's state) and
the MSK and Lambda APIs moto lacks for it (ListNodes, UpdateBrokerStorage, provisioned-mode limits).

The rules are stated here from AWS's documentation, independently of the engine:

* MSK developer guide, "Scale up Amazon MSK Standard broker storage" and "Manual scaling for Standard
  brokers": storage per broker can only be increased, never beyond 16384 GiB ("Amazon MSK quota": maximum
  storage per broker), only while the cluster is ACTIVE, naming the cluster's current version, and a
  cool-down of at least six hours follows every storage scaling event.
* Lambda API reference, ProvisionedPollerConfig: for Kafka sources MinimumPollers is 1 to 200 and
  MaximumPollers 1 to 2,000.
* CloudWatch metrics of AWS/Kafka and AWS/Lambda are published by the services, not by callers, so a
  scenario seeds them straight into the backend (`put_metrics`), as AWS would.

Not confirmed: the wording of each refusal (the error codes are MSK's BadRequestException and Lambda's
InvalidParameterValueException).
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import unquote

from moto.awslambda import models as _lambda_models
from moto.awslambda.exceptions import InvalidParameterValueException
from moto.cloudwatch import models as _cw_models
from moto.kafka import responses as _kafka_responses
from moto.kafka.exceptions import BadRequestException, NotFoundException

from remediate.sandbox.patches import _chain, _original, _replace, broker_hosts

__all__ = ["patch", "put_metrics", "set_function_status"]

STORAGE_MAX_GIB: Final = 16384
STORAGE_COOLDOWN: Final = timedelta(hours=6)
KAFKA_MIN_POLLERS: Final = (1, 200)
KAFKA_MAX_POLLERS: Final = (1, 2000)
FUNCTION_STATES: Final = frozenset({"Pending", "Active", "Inactive", "Failed"})
"""Lambda developer guide, "Lambda function states"."""
LAST_UPDATE_STATUSES: Final = frozenset({"InProgress", "Successful", "Failed"})

_PRIOR: dict[str, Any] = {}
"""The handlers these patches wrap, as earlier patches left them."""
_STORAGE_ATTR: Final = "_remediate_storage_updates"
_STATUS_ATTR: Final = "_remediate_function_status"
_LOCK = threading.RLock()


class _NotFound(NotFoundException):
    code = 404


def _cluster(backend: Any, arn: str) -> Any:
    cluster = backend.clusters.get(arn)
    if cluster is None:
        raise _NotFound(f"Cluster {arn} does not exist.")
    return cluster


def _arn_before(response: Any, suffix: str) -> str:
    path = str(response.parsed_url.path)
    return unquote(path.split("/clusters/", 1)[-1]).removesuffix(suffix).rstrip("/")


def _nodes(cluster: Any) -> dict[str, Any]:
    return dict(cluster.broker_node_group_info or {})


def _respond_list_nodes(self: Any) -> str:
    """ListNodes: one BrokerNodeInfo per broker, ids 1..N (MSK API reference, NodeInfo / BrokerNodeInfo).

    issue 21 (item 7): each carries its `endpoints` ("Endpoints for accessing the broker", host names
    without ports), the names GetBootstrapBrokers lists for that broker."""
    cluster = _cluster(self.kafka_backend, _arn_before(self, "/nodes"))
    nodes = _nodes(cluster)
    subnets = list(nodes.get("clientSubnets") or [])
    count = max(int(cluster.number_of_broker_nodes or 1), 1)
    hosts = broker_hosts(cluster.cluster_name, cluster.region_name, count)
    infos = [
        {
            "nodeType": "BROKER",
            "instanceType": nodes.get("instanceType"),
            "nodeARN": f"{cluster.arn.replace(':cluster/', ':broker/')}/{i}",
            "brokerNodeInfo": {
                "brokerId": float(i),
                "clientSubnet": subnets[(i - 1) % len(subnets)] if subnets else None,
                "attachedENIId": f"eni-{hashlib.sha256(f'{cluster.arn}/{i}'.encode()).hexdigest()[:17]}",
                "endpoints": [hosts[i - 1]],
            },
        }
        for i in range(1, count + 1)
    ]
    return json.dumps({"nodeInfoList": infos})


def volume_gib(cluster: Any) -> int | None:
    size = ((_nodes(cluster).get("storageInfo") or {}).get("ebsStorageInfo") or {}).get("volumeSize")
    return int(size) if size is not None else None


def _respond_update_broker_storage(self: Any) -> str:
    arn = _arn_before(self, "/nodes/storage")
    body = json.loads(self.body or "{}")
    with _LOCK:
        cluster = _cluster(self.kafka_backend, arn)
        if str(_nodes(cluster).get("instanceType") or "").startswith("express."):
            # issue 21 (item 8): "Express brokers eliminate the need to provision or manage any storage
            # resources" (MSK developer guide, "Amazon MSK Express brokers"): there is no volume to grow.
            raise BadRequestException("Express brokers have no broker storage to update: MSK manages it.")
        if cluster.state != "ACTIVE":
            raise BadRequestException(
                f"The cluster is {cluster.state}; storage can be updated only when ACTIVE."
            )
        if body.get("currentVersion") != cluster.current_version:
            raise BadRequestException(
                f"The request's cluster version {body.get('currentVersion')} is not the current version."
            )
        infos = body.get("targetBrokerEBSVolumeInfo") or []
        # "The broker identifier must be set to the keyword ALL" (AWS CLI reference, update-broker-storage);
        # the developer guide's example ("Manual scaling for Standard brokers") spells it "All".
        if len(infos) != 1 or str(infos[0].get("kafkaBrokerNodeId")).upper() != "ALL":
            raise BadRequestException("Storage can be updated only for all brokers (kafkaBrokerNodeId All).")
        target = infos[0].get("volumeSizeGB")
        current = volume_gib(cluster) or 0
        if not isinstance(target, int) or target <= current:
            raise BadRequestException(
                f"The target volume size must be larger than the current {current} GiB."
            )
        if target > STORAGE_MAX_GIB:
            raise BadRequestException(f"The storage per broker cannot exceed {STORAGE_MAX_GIB} GiB.")
        now = datetime.now(UTC)
        history: list[datetime] = getattr(cluster, _STORAGE_ATTR, [])
        if history and now - history[-1] < STORAGE_COOLDOWN:
            raise BadRequestException("The cluster's storage was scaled less than six hours ago (cool-down).")
        nodes = _nodes(cluster)
        nodes["storageInfo"] = {"ebsStorageInfo": {"volumeSize": target}}
        cluster.broker_node_group_info = nodes
        setattr(cluster, _STORAGE_ATTR, [*history, now])
        cluster.current_version = (
            "K" + hashlib.sha256(f"{arn}/{len(history) + 1}".encode()).hexdigest()[:12].upper()
        )
    operation = f"{arn.replace(':cluster/', ':cluster-operation/')}/{len(history) + 1}"
    return json.dumps({"clusterArn": arn, "clusterOperationArn": operation})


def _respond_describe_cluster_v2(self: Any) -> str:
    """moto's DescribeClusterV2 (as patched) plus the cluster's current version after a storage update."""
    raw = json.loads(_PRIOR["describe_cluster_v2"](self))
    arn = unquote(self.parsed_url.path.split("/clusters/")[-1])
    cluster = _cluster(self.kafka_backend, arn)
    info = raw.get("clusterInfo", {})
    info["currentVersion"] = cluster.current_version
    if "provisioned" in info:
        info["provisioned"]["brokerNodeGroupInfo"] = _nodes(cluster)
    return json.dumps(raw)


# --- Lambda: function status and provisioned mode -----------------------------------------------------


def _function_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
    config: dict[str, Any] = _original(_lambda_models.LambdaFunction, "get_configuration")(self, on_create)
    with _LOCK:
        config.update(getattr(self, _STATUS_ATTR, {}))
    return config


# issue 26: GetFunction's Concurrency. AWS returns it whenever the function has reserved concurrency,
# 0 included (GetFunction API reference, Concurrency: "The function's reserved concurrency"); moto drops
# a reservation of 0 (its check is truthiness), which is exactly the function that cannot run.
def _function_code(self: Any) -> dict[str, Any]:
    got: dict[str, Any] = _original(_lambda_models.LambdaFunction, "get_code")(self)
    if self.reserved_concurrency is not None:
        got["Concurrency"] = {"ReservedConcurrentExecutions": int(self.reserved_concurrency)}
    return got


def set_function_status(
    account_id: str,
    region: str,
    name: str,
    *,
    state: str | None = None,
    state_reason: str | None = None,
    last_update_status: str | None = None,
    last_update_status_reason: str | None = None,
) -> None:
    """Set what Lambda alone decides about a function: State, StateReason, LastUpdateStatus(Reason)."""
    if state is not None and state not in FUNCTION_STATES:
        raise ValueError(f"{state!r} is not a Lambda function state")
    if last_update_status is not None and last_update_status not in LAST_UPDATE_STATUSES:
        raise ValueError(f"{last_update_status!r} is not a LastUpdateStatus")
    fn = _lambda_models.lambda_backends[account_id][region].get_function(name)
    values = {
        "State": state,
        "StateReason": state_reason,
        "LastUpdateStatus": last_update_status,
        "LastUpdateStatusReason": last_update_status_reason,
    }
    with _LOCK:
        status = dict(getattr(fn, _STATUS_ATTR, {}))
        status.update({k: v for k, v in values.items() if v is not None})
        setattr(fn, _STATUS_ATTR, status)


def _check_pollers(spec: dict[str, Any]) -> None:
    config = spec.get("ProvisionedPollerConfig")
    if not config:
        return
    for key, (low, high) in (("MinimumPollers", KAFKA_MIN_POLLERS), ("MaximumPollers", KAFKA_MAX_POLLERS)):
        value = config.get(key)
        if value is not None and not low <= int(value) <= high:
            raise InvalidParameterValueException(
                f"ProvisionedPollerConfig.{key} must be between {low} and {high}."
            )


def _update_esm(self: Any, uuid: str, spec: dict[str, Any]) -> Any:
    _check_pollers(spec)
    return _PRIOR["update_event_source_mapping"](self, uuid, spec)


# --- CloudWatch -------------------------------------------------------------------------------------------


def put_metrics(
    account_id: str, region: str, namespace: str, metric: str, dimensions: dict[str, str], values: list[float]
) -> None:
    """Publish one data point a minute for the last len(values) minutes, newest last, as the service would."""
    backend = _cw_models.cloudwatch_backends[account_id][region]
    # moto keeps data points in naive UTC (its utcnow()); so must the seed.
    end = datetime.now(UTC).replace(second=0, microsecond=0, tzinfo=None)
    backend.put_metric_data(
        namespace,
        [
            {
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                "Timestamp": end - timedelta(minutes=len(values) - i) + timedelta(seconds=1),
                "Value": value,
            }
            for i, value in enumerate(values)
        ],
    )


def patch() -> None:
    """Install the gap fills above, over `patches.apply_patches`' (which must run first); once per process."""
    with _LOCK:
        if _PRIOR:
            return
        _patch()


def _patch() -> None:
    response_cls = _kafka_responses.KafkaResponse
    _replace(response_cls, "list_nodes", _respond_list_nodes)
    _replace(response_cls, "update_broker_storage", _respond_update_broker_storage)
    # Chained over the earlier patches of these two handlers, which stay in force underneath.
    _chain(response_cls, _PRIOR, {"describe_cluster_v2": _respond_describe_cluster_v2})
    _replace(_lambda_models.LambdaFunction, "get_configuration", _function_configuration)
    _replace(_lambda_models.LambdaFunction, "get_code", _function_code)  # issue 26
    _chain(_lambda_models.LambdaBackend, _PRIOR, {"update_event_source_mapping": _update_esm})
