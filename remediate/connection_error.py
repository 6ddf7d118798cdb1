"""What a connection error is concluded from (issue 21): measured broker trouble, or nothing.

The seed article's remedy for a broker timeout (batch size 1 and a restart of the pollers) is for brokers
that are in trouble; "nothing on the network path blocks it" is not such evidence. So the broker-timeout
check asks this module for the measured signs of trouble in the metrics window, each against the limit
its page documents (`remediate.health`), and without one it reports the error as not explained, with
what was ruled out, what was not measured, and how to find out. Pure: no AWS calls here.
"""

from __future__ import annotations

from collections.abc import Mapping

from remediate import broker_logs, health, kafka
from remediate.facts import Facts

Numbers = Mapping[str, float | None]
"""The worst value of each broker metric in the window (`checks.broker_health.metrics_line`)."""


def broker_trouble(facts: Facts, numbers: Numbers) -> tuple[str, ...]:
    """Each measured sign that the brokers are in trouble, one line each.

    - a cluster state other than ACTIVE (MSK developer guide, "Understand MSK Provisioned cluster
      states");
    - KafkaDataLogsDiskUsed at or over 85% and CpuUser + CpuSystem at or over 60% (MSK developer guide,
      "Best practices for Standard brokers");
    - ConnectionCount near the IAM access control quota of 3000 per broker, on an IAM cluster only
      ("Amazon MSK quota");
    - any UnderReplicatedPartitions or OfflinePartitionsCount, or no active controller
      (ActiveControllerCount: "Only one controller per cluster should be active at any given time"; MSK
      developer guide, "Amazon MSK metrics for monitoring Standard brokers with CloudWatch").

    Memory (MemoryUsed, HeapMemoryAfterGC) is shown as evidence but judged against no limit: no MSK page
    this tool was built from gives one.
    """
    signs: list[str] = []
    cluster = facts.cluster
    if cluster is not None and cluster.state != kafka.CLUSTER_ACTIVE:
        signs.append(f"the cluster is {cluster.state}, not {kafka.CLUSTER_ACTIVE}")
    disk = numbers.get("max_disk_used_percent")
    # issue 21 (item 8): Express brokers' storage is MSK's (`remediate.express`): no disk limit to cross.
    if (
        disk is not None
        and disk >= health.DISK_LIMIT_PERCENT
        and not (cluster is not None and cluster.express)
    ):
        signs.append(f"data-log disk at {disk:g}% (limit {health.DISK_LIMIT_PERCENT:g}%)")
    cpu = numbers.get("max_cpu_percent")
    if cpu is not None and cpu >= health.CPU_LIMIT_PERCENT:
        signs.append(f"CPU (user + system) at {cpu:g}% (keep under {health.CPU_LIMIT_PERCENT:g}%)")
    connections = numbers.get("max_connections")
    quota = health.iam_connection_quota(cluster.instance_type if cluster else None)  # issue 24 (N14)
    if (
        cluster is not None
        and cluster.auth.iam
        and quota is not None
        and connections is not None
        and connections >= quota * health.CONNECTIONS_NEAR
    ):
        signs.append(f"{connections:g} connections on a broker (IAM quota {quota} per broker)")
    under = numbers.get("under_replicated_partitions")
    if under is not None and under > 0:
        signs.append(f"{under:g} under-replicated partitions on a broker")
    offline = numbers.get("offline_partitions")
    if offline is not None and offline > 0:
        signs.append(f"{offline:g} offline partitions")
    controllers = numbers.get("active_controllers")
    if controllers is not None and controllers < 1:
        signs.append(f"no active controller (ActiveControllerCount {controllers:g})")
    signs += broker_logs.trouble(facts.broker_logs)  # issue 21 (item 4): lines quoted from the brokers
    return tuple(signs)


def ruled_out(facts: Facts, metrics: str) -> tuple[str, ...]:
    """What was read and would have been its own finding had it caused the error. The check that uses
    this draws its conclusion only when all of it was read (`checks.esm._unread`), and the playbook drops
    it whenever one of those findings is present."""
    esm = facts.esm
    ports = kafka.broker_ports(esm, facts.cluster)
    port_text = "/".join(str(p) for p in ports) if ports else "the broker port"
    out = [
        f"the network path from the pollers to the brokers on {port_text} (security groups, NACLs, routes)",
        "the pollers' way to Lambda, STS and (with a secret) Secrets Manager (NAT or VPC endpoints)",
        "the VPC's DNS attributes and the bootstrap brokers' names",
        "the execution role's trust policy and permissions",
        "the authentication the mapping names (secrets, SCRAM association, IAM access)",
    ]
    if facts.cluster is not None:
        out.append(f"the cluster's state ({facts.cluster.state})")
    if facts.broker_health is not None and not facts.broker_health.unread and "over the last" in metrics:
        out.append(f"broker overload: {metrics}, each within MSK's limits")
    logs = facts.broker_logs
    if logs is not None:  # issue 21 (item 4)
        bound = f", the first {len(logs.records)} matching lines" if logs.truncated else ""
        out.append(
            f"the brokers' logs ({logs.log_group}, last {logs.minutes} min{bound}): no authentication "
            "failure from the pollers' subnets, no full disk, no offline log directory, no out-of-memory"
        )
    return tuple(out)


def not_measured(facts: Facts, metrics: str) -> tuple[str, ...]:
    """What could explain the error and was not measured."""
    out = []
    if facts.broker_health is None or facts.broker_health.unread or "over the last" not in metrics:
        out.append(metrics)
    if facts.esm_logs is None:  # issue 21 (item 3): read when the mapping has them
        out.append("the mapping's own system logs (the Kafka errorCode of each failure)")
    if facts.broker_logs is None:  # issue 21 (item 4): read where the cluster delivers them
        out.append("the brokers' logs at the time of the error")
    out.append("whether the topic exists and the consumer may read it")
    return tuple(out)


def next_steps(facts: Facts) -> tuple[str, ...]:
    """How to find out, in the order that costs least."""
    esm = facts.esm
    logging = (
        "Turn on the mapping's system logs and read the Kafka error of each failure: `aws lambda "
        f"update-event-source-mapping --uuid {esm.uuid} --logging-config SystemLogLevel=WARN`; the records "
        "go to the function's log group, in the log stream named by the date and the mapping's UUID "
        '(Lambda developer guide, "Kafka event source mapping logging").'
    )
    if esm.provisioned_pollers:  # issue 21 (item 3): remediate plans it when asked
        logging += f" Or let remediate do it: `remediate plan --esm {esm.uuid} --fix-with system-logs`."
    if not esm.provisioned_pollers:
        logging += (
            " System logs exist only in provisioned mode, which costs event poller units: switch the "
            "mapping to it first (`--provisioned-poller-config MinimumPollers=1`)."
        )
    brokers = (
        _broker_log_step(facts)
        if esm.source_kind == "msk"
        else "Read the brokers' own logs around the time of the error (authentication failures, full disks)."
    )
    probe = f"Test the connection from where the pollers run: `remediate probe --esm {esm.uuid}`."
    batch = (
        "Only if the brokers turn out to be overloaded: `remediate plan --esm "
        f"{esm.uuid} --fix-with batch-size-1` (the article's batch size 1 and a restart of the pollers)."
    )
    return (logging, brokers, probe, batch)


def _broker_log_step(facts: Facts) -> str:
    """issue 21 (item 4): the MSK brokers' logs, read where they go to CloudWatch Logs, else how to turn that
    delivery on (MSK developer guide, "Amazon MSK logging": the log group is the customer's and must exist
    first; MSK API reference, UpdateMonitoring LoggingInfo)."""
    cluster, arn = facts.cluster, facts.esm.event_source_arn
    if cluster is not None and facts.broker_logs is not None:
        return (
            f"The brokers' logs in {facts.broker_logs.log_group} were read for the last "
            f"{facts.broker_logs.minutes} minutes and name no cause; read them around the time of the error "
            "for other lines (`aws logs filter-log-events --log-group-name "
            f"{facts.broker_logs.log_group} --start-time MS`)."
        )
    if cluster is not None and cluster.broker_log_group is None:
        elsewhere = (
            f" (it delivers them to {' and '.join(cluster.broker_log_elsewhere)}, which this tool does not "
            "read)"
            if cluster.broker_log_elsewhere
            else ""
        )
        return (
            f"The cluster delivers no broker logs to CloudWatch Logs{elsewhere}, so they could not be read: "
            "create a log group and turn delivery on (`aws kafka update-monitoring --cluster-arn "
            f"{arn} --current-version {cluster.current_version or 'VERSION'} --logging-info "
            '\'{"BrokerLogs":{"CloudWatchLogs":{"Enabled":true,"LogGroup":"LOG_GROUP"}}}\'`), '
            "then diagnose again when the error recurs."
        )
    return (
        f"Read the brokers' logs around the time of the error (MSK: the cluster's broker log delivery, "
        f"`aws kafka describe-cluster-v2 --cluster-arn {arn} --query ClusterInfo.Provisioned.LoggingInfo`)."
    )
