"""Checks on the mapping itself and on the state of its event source: its state, who disabled it,
whether its cluster is working, and the error text AWS reports."""

from __future__ import annotations

from typing import Any

from remediate import connection_error, esm_logs, express, kafka, measured
from remediate.checks.base import check
from remediate.checks.broker_health import metrics_line
from remediate.error_text import hints_for
from remediate.evidence import (
    BrokerTimeout,
    ClusterNotActive,
    ConnectionUnexplained,
    CouldNotCheck,
    EsmDisabled,
)
from remediate.facts import ESM_DISABLED_STATES, Facts
from remediate.findings import Finding

_WHO = {
    "user": "a person disabled it",
    "lambda": "Lambda disabled it",
    "unknown": "nothing says who disabled it",
}


def _unread(facts: Facts) -> list[str]:
    """What a conclusion by elimination needs and observation could not read: every denied read, and
    the source, role or network it never got to."""
    missing = [u.what for u in facts.unchecked]
    esm = facts.esm
    if esm.source_kind == "msk" and facts.cluster is None and facts.vpc_connection is None:
        missing.append(f"the event source {esm.event_source_arn}")
    if facts.role is None:
        missing.append("the execution role")
    if facts.network is None:
        missing.append("the network of the pollers")
    if kafka.is_vpc_connection(esm.event_source_arn):
        # issue 24 (N3): the path through a managed VPC connection is not checked (`kafka.broker_ports`).
        missing.append(_connection_path(facts))
    return list(dict.fromkeys(missing))


def _connection_path(facts: Facts) -> str:
    """What to check by hand on a cross-account source's broker path (its ports are the owner's)."""
    connection = facts.vpc_connection
    target = connection.target_cluster_arn if connection and connection.target_cluster_arn else "CLUSTER_ARN"
    groups = ", ".join(connection.security_group_ids) if connection and connection.security_group_ids else ""
    return (
        "the brokers' ports through the VPC connection (the owner's `aws kafka get-bootstrap-brokers "
        f"--cluster-arn {target}`, BootstrapBrokerStringVpcConnectivity*): check that the connection's "
        f"security group{'s ' + groups if groups else 's'} admit the pollers (the same groups) on those "
        "ports and that the NACLs pass them"
    )


@check("broker_timeout", "BROKER_TIMEOUT", "CONNECTION_UNEXPLAINED", "COULD_NOT_CHECK")
def broker_timeout(facts: Facts) -> list[Finding]:
    """The ESM reports a connection error or timeout: BROKER_TIMEOUT when the brokers show measured trouble
    in the window (disk, CPU, connections, partitions, controller, cluster state), else
    CONNECTION_UNEXPLAINED, which says what was ruled out and how to find out (issue 21).

    Either is drawn only when the reads that eliminate the other causes were made (else COULD_NOT_CHECK
    says what could not be ruled out), and their playbooks suppress them whenever a network, endpoint,
    authentication or cluster-state finding explains the same text better. Only BROKER_TIMEOUT plans the
    article's batch size 1 and restart; for an unexplained error it is an alternative, chosen by name.
    """
    esm = facts.esm
    hints = hints_for(esm.last_processing_result, esm.state_transition_reason)
    connection = [h for h in hints if h.kind == "connection"]
    if not connection:
        return []
    unread = _unread(facts)
    if unread:
        return [
            Finding(
                code="COULD_NOT_CHECK",
                summary=(
                    "the ESM reports a connection error, but its cause cannot be narrowed down: "
                    f"{'; '.join(unread)} could not be read, so a network or permission cause is not "
                    "ruled out (no batch-size change is planned)"
                ),
                evidence=CouldNotCheck(what="the cause of the connection error", reason="; ".join(unread)),
            )
        ]
    metrics, numbers = metrics_line(facts)
    seen: dict[str, Any] = {
        "error_text": connection[0].text,
        "source": connection[0].source,
        "batch_size": esm.batch_size,
        "state": esm.state,
        "metrics": metrics,
        "express": express.note(facts.cluster),  # issue 21 (item 8)
        **numbers,
    }
    trouble = connection_error.broker_trouble(facts, numbers)
    if trouble:
        return [
            Finding(
                code="BROKER_TIMEOUT",
                summary=(
                    "the ESM reports a connection error and the brokers show trouble: "
                    f"{'; '.join(trouble)}; poll with batch size 1 and restart the pollers; {metrics}"
                    f"{_state_context(facts)}"
                ),
                evidence=BrokerTimeout(**seen, trouble=trouble),
            )
        ]
    if measured.proven(facts.measured):
        # issue 22: the probe measured the cause from the pollers' place (`checks.measured`).
        return []
    ruled_out = connection_error.ruled_out(facts, metrics)
    unmeasured = connection_error.not_measured(facts, metrics)
    timeouts = tuple(r.message for r in esm_logs.metadata_timeouts(facts.esm_logs))  # issue 21 (item 3)
    cited = (
        f"; the mapping's system logs show {len(timeouts)} metadata timeout(s), which name no cause: "
        f'"{timeouts[0][:300]}"'
        if timeouts
        else ""
    )
    return [
        Finding(
            code="CONNECTION_UNEXPLAINED",
            summary=(
                "the ESM reports a connection error that the configuration read does not explain "
                f"({len(ruled_out)} causes ruled out) and no broker trouble was measured ({metrics}); "
                f"not read yet: {'; '.join(u for u in unmeasured if u != metrics)}. No batch-size "
                f"change is planned: find the cause first (see the manual steps){_state_context(facts)}"
                f"{cited}{'; ' + seen['express'] if seen['express'] else ''}"
            ),
            evidence=ConnectionUnexplained(
                **seen,
                ruled_out=ruled_out,
                not_measured=unmeasured,
                next_steps=connection_error.next_steps(facts),
                metadata_timeouts=timeouts,
            ),
        )
    ]


def _state_context(facts: Facts) -> str:
    """The cluster's state when it serves clients but is not ACTIVE (issue 24, N7): context, not a cause."""
    cluster = facts.cluster
    if cluster is None or cluster.state == kafka.CLUSTER_ACTIVE:
        return ""
    return (
        f"; the cluster is {cluster.state}: it still serves clients, but brokers may be replaced or "
        "restarted meanwhile"
    )


@check("cluster_state", "CLUSTER_NOT_ACTIVE")
def cluster_state(facts: Facts) -> list[Finding]:
    """The MSK cluster must be in a state where clients can connect (a cross-account VPC connection
    AVAILABLE) for the trigger to work and for any change to it to mean something. Issue 24 (N7): per the MSK
    developer guide, "Understand MSK Provisioned cluster states", only CREATING, DELETING and FAILED keep
    clients out; in HEALING, MAINTENANCE, REBOOTING_BROKER and UPDATING the cluster still serves them, so
    those are no finding (only MSK update operations wait, which their own actions say)."""
    found: list[Finding] = []
    cluster = facts.cluster
    if cluster is not None and cluster.state not in kafka.CLUSTER_SERVING_STATES:
        found.append(
            Finding(
                code="CLUSTER_NOT_ACTIVE",
                summary=f"MSK cluster {cluster.name or cluster.arn} is {cluster.state}, not ACTIVE, and "
                "clients cannot connect in that state: nothing on the trigger is changed until it is ACTIVE "
                "again",
                evidence=ClusterNotActive(
                    kind="cluster", resource=cluster.arn, state=cluster.state, expected=kafka.CLUSTER_ACTIVE
                ),
            )
        )
    connection = facts.vpc_connection
    if connection is not None and connection.state != kafka.VPC_CONNECTION_AVAILABLE:
        found.append(
            Finding(
                code="CLUSTER_NOT_ACTIVE",
                summary=f"the VPC connection {connection.arn} to the cross-account cluster is "
                f"{connection.state or 'in no state'}, not AVAILABLE",
                evidence=ClusterNotActive(
                    kind="vpc-connection",
                    resource=connection.arn,
                    state=connection.state,
                    expected=kafka.VPC_CONNECTION_AVAILABLE,
                ),
            )
        )
    return found


@check("esm_disabled", "ESM_DISABLED")
def esm_disabled(facts: Facts) -> list[Finding]:
    """The mapping is disabled, by a person or by Lambda: StateTransitionReason says which."""
    esm = facts.esm
    if esm.state not in ESM_DISABLED_STATES:
        return []
    reason = esm.state_transition_reason or "no reason given"
    return [
        Finding(
            code="ESM_DISABLED",
            summary=f"the ESM is {esm.state}: {_WHO[esm.changed_by]} (StateTransitionReason {reason!r})",
            evidence=EsmDisabled(
                state=esm.state,
                state_transition_reason=esm.state_transition_reason,
                disabled_by=esm.changed_by,
            ),
        )
    ]


@check("unchecked_reads", "COULD_NOT_CHECK")
def unchecked_reads(facts: Facts) -> list[Finding]:
    """Every read the caller was denied becomes a finding, so a gap in coverage is never silent."""
    return [
        Finding(
            code="COULD_NOT_CHECK",
            summary=f"could not check {u.what}: {u.reason}",
            evidence=CouldNotCheck(what=u.what, reason=u.reason),
        )
        for u in facts.unchecked
    ]
