"""MSK Express brokers (issue 21, item 8): what differs from Standard brokers for a diagnosis.

MSK developer guide, "Amazon MSK Express brokers" (msk-broker-types-express.html): "No storage management:
Express brokers eliminate the need to provision or manage any storage resources ... elastic, virtually
unlimited, pay-as-you-go, and fully managed storage", and "No maintenance windows: Express brokers have no
maintenance windows. Amazon MSK automatically updates your cluster hardware on an ongoing basis" ("Patching
for Express brokers"); "Amazon MSK broker types": storage is "Fully MSK managed", sizing considerations are
"Throughput, connections, partitions" (not storage); "Best practices for Express brokers": replication is
always 3 and min.insync.replicas always 2. Their metrics are listed apart ("Amazon MSK metrics for
monitoring Express brokers with CloudWatch"), with CPU and connection counts like Standard brokers'.

So on Express brokers a data-log disk reading is never a storage finding, never broker trouble, and never
an UpdateBrokerStorage (there is no volume). Pure: no AWS calls.
"""

from __future__ import annotations

from remediate.facts import Cluster

__all__ = ["PREFIX", "note"]

PREFIX = "express."
"""Express broker instance types (`express.m7g.large`, ...); `Cluster.express` tests it."""


def note(cluster: Cluster | None) -> str | None:
    """Why storage is not judged on this cluster, for the evidence of a connection error; None if Standard."""
    if cluster is None or not cluster.express:
        return None
    return (
        f"{cluster.instance_type} is an Express broker: MSK manages its storage (nothing to provision or "
        "grow, so a disk reading is neither a storage finding nor broker trouble) and patches it "
        'continuously, with no maintenance window (MSK developer guide, "Amazon MSK Express brokers")'
    )
