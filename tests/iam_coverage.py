"""Is every AWS call a run made allowed by the tool's declared IAM policy (`remediate iam-policy`)?"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from remediate.policy import Request, evaluate

# Signing names of services whose IAM action prefix differs (the others use the signing name).
# CloudWatch signs as "monitoring" and authorizes as "cloudwatch:" (Service Authorization Reference, "Actions,
# resources, and condition keys for Amazon CloudWatch": service prefix cloudwatch).
IAM_PREFIX: dict[str, str] = {"monitoring": "cloudwatch"}
# Operations authorized by an action of another name: "To use this operation, you must have permission to
# perform the s3:GetEncryptionConfiguration action" (Amazon S3 API reference, GetBucketEncryption).
IAM_ACTION: dict[tuple[str, str], str] = {
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    # issue 22: "lambda:InvokeFunction" is the action of the Invoke API (Lambda API reference, Invoke).
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    # issue 21: MSK developer guide, "Topic Operations": ListTopics needs kafka-cluster:Connect and
    # kafka-cluster:DescribeTopic on the cluster ARN (both are declared; one names the call here).
    ("kafka", "ListTopics"): "kafka-cluster:DescribeTopic",
    # issue 21: CreateTopic needs kafka-cluster:CreateTopic (with Connect) on the topic ("Semantics of IAM
    # authorization policy actions and resources"); DescribeTopic, like ListTopics, DescribeTopic.
    ("kafka", "CreateTopic"): "kafka-cluster:CreateTopic",
    ("kafka", "DescribeTopic"): "kafka-cluster:DescribeTopic",
}
# Calls IAM never denies, so no policy needs to name them.
NO_PERMISSION_NEEDED = frozenset({("sts", "GetCallerIdentity")})


def actions_of(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy's Allows on "*" without conditions: which *actions* it grants at all (issue 27: secret
    values, role and key-policy writes are scoped to ARNs; whether a call's resource is in scope is
    tests/test_ssm_escalation.py's question, not this one's)."""
    allows = [{**s, "Resource": "*"} for s in policy["Statement"] if s["Effect"] == "Allow"]
    return {**policy, "Statement": [{k: v for k, v in s.items() if k != "Condition"} for s in allows]}


def uncovered(calls: Iterable[tuple[str, str]], policy: dict[str, Any]) -> list[str]:
    """The calls the policy does not allow, as IAM action names."""
    policy = actions_of(policy)
    missing = []
    for service, operation in sorted(set(calls)):
        if (service, operation) in NO_PERMISSION_NEEDED:
            continue
        action = IAM_ACTION.get((service, operation), f"{IAM_PREFIX.get(service, service)}:{operation}")
        if not evaluate(policy, Request.make(action, "*")).allowed:
            missing.append(action)
    return missing
