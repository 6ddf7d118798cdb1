"""Live health: the CloudWatch metrics observation reads and the documented limits checks compare them to.

One module holds the rules, beside the pages they come from, so observation (which metrics to ask
for), the checks (what is too much) and the actions (how much storage to add) cannot disagree.
Pure: no AWS calls here.
"""

from __future__ import annotations

import math

# --- Amazon MSK ---------------------------------------------------------------------------------------
# MSK developer guide, "Amazon MSK metrics for monitoring Standard brokers with CloudWatch"
# (https://docs.aws.amazon.com/msk/latest/developerguide/metrics-details.html): namespace AWS/Kafka,
# DEFAULT-level (free) metrics. Per broker (dimensions "Cluster Name", "Broker ID"): CpuUser and CpuSystem
# (percent of CPU in user and kernel space), KafkaDataLogsDiskUsed (percent of disk used for data logs),
# MemoryUsed (bytes), HeapMemoryAfterGC (percent of the heap in use after garbage collection),
# ConnectionCount (active authenticated, unauthenticated and inter-broker connections) and
# UnderReplicatedPartitions; per cluster (dimension "Cluster Name" only): ActiveControllerCount (only one
# controller per cluster should be active) and OfflinePartitionsCount.
MSK_NAMESPACE = "AWS/Kafka"
BROKER_METRICS = (
    "CpuUser",
    "CpuSystem",
    "KafkaDataLogsDiskUsed",
    "MemoryUsed",
    "HeapMemoryAfterGC",
    "ConnectionCount",
    "UnderReplicatedPartitions",
)
CLUSTER_METRICS = ("ActiveControllerCount", "OfflinePartitionsCount")

CPU_LIMIT_PERCENT = 60.0
"""MSK developer guide, "Best practices for Standard brokers", "Monitor CPU usage": keep the total CPU
utilization of the brokers (CPU User + CPU System) under 60%."""
DISK_LIMIT_PERCENT = 85.0
"""Same page, "Monitor disk space": act when KafkaDataLogsDiskUsed reaches 85%."""

IAM_CONNECTIONS_PER_BROKER = 3000
"""MSK developer guide, "Amazon MSK quota", Standard broker quota: "Maximum TCP connections per broker
(IAM access control): 3000"; for other authentication "MSK does not enforce connection limits", so
only an IAM cluster has a quota to exhaust."""


def iam_connection_quota(instance_type: str | None) -> int | None:
    """The IAM connection quota per broker of a broker instance type (issue 24, N14): the Standard broker
    quota for Standard brokers (`kafka.*`, or the type unread); None for Express brokers (`express.*`), which
    the quota page lists under a section of their own ("Amazon MSK Express broker quota") whose table the
    stored copies of the page cut off. The tool then judges no connection count of theirs rather than apply
    a Standard number. The Standard quota "can be raised" through listener.name.client_iam.max.connections
    (same page), which the tool does not read: the finding says it is the default."""
    if instance_type is not None and instance_type.startswith("express."):
        return None
    return IAM_CONNECTIONS_PER_BROKER


CONNECTIONS_NEAR = 0.9
"""The share of the quota at which a broker's connections count as exhausted: new connections are
refused at the quota, so intermittent SASL failures start before the count reads exactly 3000.
ConnectionCount counts every connection (inter-broker and unauthenticated ones too), so it bounds the
IAM connections from above: the finding's evidence is that count, and says so by naming the metric."""

STORAGE_MAX_GIB = 16384
"""MSK developer guide, "Amazon MSK quota": maximum storage per broker 16384 GiB; "Manual scaling for
Standard brokers": storage per broker cannot exceed 16384 GiB after the update, and can only grow."""
STORAGE_COOLDOWN_HOURS = 6
"""MSK developer guide, "Scale up Amazon MSK Standard broker storage": a cool-down period of at least six
hours (up to over 24) follows every storage scaling event, manual (UpdateBrokerStorage) or automatic."""
STORAGE_TARGET_PERCENT = 60.0
"""Where the planned size puts the fullest broker's data logs: well under the 85% alarm, and under the
60% the broker's CPU guidance uses, so one cool-down period is not spent at the edge again."""


# issue 23 (operator-hunt N9): KafkaDataLogsDiskUsed is a percent of the size the broker had when it was
# measured, so right after a growth the window's readings are percents of the old size. The growth made by
# remediate is recorded on the cluster as this tag (MSK TagResource; tag values of letters, digits and
# `+ - = . _ : / @`), and the check reads the window's readings as shares of the new size until the window
# has passed the growth.
STORAGE_GROWN_TAG = "remediate:storage-grown"


def storage_grown_value(before_gib: int, after_gib: int, at: float) -> str:
    return f"{before_gib}-{after_gib}@{int(at)}"


def storage_grown(tags: dict[str, str]) -> tuple[int, int, float] | None:
    """(GiB before, GiB after, when) of the last growth remediate made, from the cluster's tag."""
    sizes, _, at = tags.get(STORAGE_GROWN_TAG, "").partition("@")
    before, _, after = sizes.partition("-")
    try:
        return int(before), int(after), float(at)
    except ValueError:
        return None


def storage_target_gib(volume_gib: int, disk_used_percent: float) -> int | None:
    """The per-broker EBS size (GiB) that brings the fullest broker to STORAGE_TARGET_PERCENT, rounded up
    to the next 10 GiB; at most STORAGE_MAX_GIB; None when no larger size is allowed."""
    if volume_gib >= STORAGE_MAX_GIB:
        return None
    wanted = volume_gib * disk_used_percent / STORAGE_TARGET_PERCENT
    target = max(volume_gib + 1, math.ceil(wanted / 10) * 10)
    return min(target, STORAGE_MAX_GIB)


# --- AWS Lambda -----------------------------------------------------------------------------------------
# Lambda developer guide, "Types of metrics for Lambda functions"
# (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html): namespace AWS/Lambda,
# dimension FunctionName; Invocations, Errors and Throttles are counts, read with the Sum statistic.
LAMBDA_NAMESPACE = "AWS/Lambda"
FUNCTION_METRICS = ("Invocations", "Errors", "Throttles")

FUNCTION_NOT_RUNNING_STATES = frozenset({"Pending", "Inactive", "Failed"})
"""Lambda developer guide, "Lambda function states": functions can only be invoked successfully while
Active; Lambda does not invoke a Pending function, invoking an Inactive one fails (and sets it Pending
while its resources are re-created), and a Failed one must be fixed or re-created."""
FAILING_SHARE = 0.5
"""The share of invocations that error before the function counts as failing: a trigger whose every other
batch errors is retried without end (Kafka batches are retried until they succeed or expire)."""


def log_group(function_name: str, configured: str | None) -> str:
    """Where the function logs: its LoggingConfig.LogGroup, else Lambda's default /aws/lambda/NAME
    (Lambda developer guide, "Configuring advanced logging controls for Lambda functions")."""
    return configured or f"/aws/lambda/{function_name}"


# --- provisioned mode -----------------------------------------------------------------------------------
PROVISIONED_MIN_POLLERS = 1
PROVISIONED_MAX_POLLERS = 200
"""Lambda API reference, ProvisionedPollerConfig: for Amazon MSK and self-managed Apache Kafka,
MinimumPollers defaults to 1 (range 1 to 200) and MaximumPollers to 200 (range 1 to 2,000)."""
POLLER_CAPACITY = "up to 5 MB/s of throughput or up to 5 concurrent invocations"
"""Lambda developer guide, "Apache Kafka event poller scaling modes in Lambda": what one event poller
handles for Amazon MSK and self-managed Apache Kafka. The same page says provisioned mode "incurs
additional costs" and points to the Lambda pricing page; no price per event poller unit (EPU) was found
in the documentation this tool was built from, so none is quoted."""


# --- issue 25: triggers that connect but do not flow ------------------------------------------------------
# Lambda developer guide, "Types of metrics for Lambda functions" (monitoring-metrics-types.html): Duration is
# a performance metric in milliseconds (its Maximum is the longest invocation); OffsetLag, for Kafka sources,
# the difference in offset between the last record written to a topic and the last record the function's
# consumer group processed (AWS Compute Blog, "Offset lag metric for Amazon MSK as an event source for
# Lambda": added "to Lambda functions with MSK or self-managed Apache Kafka event sources"). Both are gauges,
# read with Maximum by FunctionName, in the same GetMetricData call as the counts above: the FunctionName
# dimension aggregates every version, alias and mapping of the function, so a function with two mappings
# shows the worse lag of the two.
FUNCTION_GAUGES = ("Duration", "OffsetLag")

KAFKA_MAX_TIMEOUT_S = 840
"""Lambda developer guide, "Configuring Amazon MSK event sources for Lambda" (with-msk-configure.html):
Kafka event source mappings "only support functions with maximum timeout limits of 14 minutes"."""
TIMEOUT_NEAR = 0.9
"""The share of the timeout at which the longest observed invocation counts as close to it: a batch that
takes a little longer times out, and Lambda retries the whole batch (Lambda developer guide, "Using Lambda
with Amazon MSK": it "retries the whole batch of messages until processing succeeds or the messages
expire")."""
TIMEOUT_HEADROOM = 2.0
"""A raised timeout is twice the longest observed invocation (rounded up to 10 s, at most the 14-minute
cap): room for a batch twice as slow without retrying it."""

RETRY_DEFAULT = -1
"""Lambda developer guide, "Configuring error handling controls for Kafka event sources"
(kafka-retry-configurations.html): MaximumRetryAttempts and MaximumRecordAgeInSeconds default to -1
(infinite): a record the function always fails on is retried forever and blocks its partition."""
RETRY_BOUND = 10
"""The bound the fix sets: what Lambda itself applies to infinite retries once an on-failure destination is
configured (same page, and "Using a Kafka topic as an on-failure destination": "Lambda automatically applies
a maximum of 10 retry attempts")."""
RETRY_RANGE = (0, 10_000)
RECORD_AGE_RANGE = (60, 604_800)
"""Same page, console steps: retry attempts 0-10000 (or -1), maximum record age 60-604800 seconds (or -1);
these error handling controls are configured under provisioned mode ("Under Event poller configuration,
choose Provisioned mode to configure error handling controls")."""

# Lambda developer guide, "Types of metrics for Lambda functions", Event source mapping metrics: with
# MetricsConfig EventCount on, the mapping publishes PolledEventCount (records read) and FilteredOutEventCount
# (records its filters dropped) under the EventSourceMappingUUID dimension (EventSourceMappingMetricsConfig,
# Lambda API reference). Counts, read with Sum.
ESM_EVENT_METRICS = ("PolledEventCount", "FilteredOutEventCount")
ESM_EVENT_COUNT = "EventCount"

KAFKA_FILTER_KEY = "value"
"""Lambda developer guide, "Filtering events from Amazon MSK and self-managed Apache Kafka event sources"
(kafka-filtering.html): Kafka mappings "only support filtering on the value key"; a pattern on any other
key matches no record."""
FILTER_PATTERN_MAX = 4096
"""Lambda API reference, Filter: Pattern is at most 4096 characters."""
FILTER_OPERATORS = frozenset({"prefix", "suffix", "anything-but", "numeric", "exists", "equals-ignore-case"})
"""Lambda developer guide, "Control which events Lambda sends to your function"
(invocation-eventfiltering.html), Filter rule syntax: a leaf is an array of values (strings, numbers,
booleans, null) or of comparison objects (begins with: prefix, ends with: suffix, not: anything-but,
numeric, exists, equals-ignore-case); "$or" takes an array of patterns."""

# Lambda developer guide, "Apache Kafka event poller scaling modes in Lambda" (kafka-scaling-modes.html): in
# on-demand mode Lambda evaluates the offset lag of every partition each minute and adds or removes pollers
# "within three minutes of evaluation"; "If your target Lambda function is throttled, Lambda reduces the
# number of event pollers". In provisioned mode MaximumPollers is 1 to 2,000, at least MinimumPollers, and
# "to maintain ordered processing within partitions, Lambda caps the MaximumPollers to the number of
# partitions in the topic" (same page, as mirrored for MSK in msk-scaling-modes.html).
LAG_GROWING_MINUTES = 4
"""OffsetLag that never fell over more minutes than on-demand scaling takes to react (3) is growing."""
MAX_POLLERS_LIMIT = 2000

# issue 25, item 8: EventSourceMappingMetricsConfig's valid values, all of which apply to Kafka mappings
# (Lambda API reference, EventSourceMappingMetricsConfig: at most 3 of EventCount, ErrorCount, KafkaMetrics).
ESM_METRICS_CONFIG = ("EventCount", "ErrorCount", "KafkaMetrics")
