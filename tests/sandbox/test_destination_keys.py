"""Issue 24 (S5): the sandbox refuses SendMessage and Publish to a queue or topic under a customer managed
key unless the sender may kms:GenerateDataKey and kms:Decrypt on it, with AWS's error codes (SQS
KmsAccessDenied, SNS KMSAccessDenied); the account's AWS managed key (alias/aws/sqs) needs nothing."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from remediate.sandbox import Sandbox

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _role(sb: Sandbox, name: str, kms_actions: list[str], key: str) -> Any:
    iam = sb.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    statements = [{"Effect": "Allow", "Action": ["sqs:SendMessage", "sns:Publish"], "Resource": "*"}]
    if kms_actions:
        statements.append({"Effect": "Allow", "Action": kms_actions, "Resource": key})
    iam.put_role_policy(
        RoleName=name,
        PolicyName="p",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    creds = sb.client("sts").assume_role(RoleArn=arn, RoleSessionName="gap")["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_send_message_to_a_queue_under_a_customer_key_needs_generate_data_key_and_decrypt(
    sb: Sandbox,
) -> None:
    key = sb.client("kms").create_key()["KeyMetadata"]["Arn"]
    url = sb.client("sqs").create_queue(QueueName="cmk", Attributes={"KmsMasterKeyId": key})["QueueUrl"]
    plain = sb.client("sqs").create_queue(
        QueueName="aws-key", Attributes={"KmsMasterKeyId": "alias/aws/sqs"}
    )["QueueUrl"]
    decrypt_only = _role(sb, "decrypt-only", ["kms:Decrypt"], key).client("sqs", endpoint_url=sb.endpoint_url)
    with pytest.raises(ClientError) as exc:
        decrypt_only.send_message(QueueUrl=url, MessageBody="x")
    assert "KmsAccessDenied" in _code(exc) or _code(exc) == "KMS.AccessDeniedException"
    decrypt_only.send_message(QueueUrl=plain, MessageBody="x")  # AWS managed key: nothing to grant
    both = _role(sb, "both", ["kms:GenerateDataKey", "kms:Decrypt"], key).client(
        "sqs", endpoint_url=sb.endpoint_url
    )
    assert both.send_message(QueueUrl=url, MessageBody="x")["MessageId"]


def test_publish_to_a_topic_under_a_customer_key_needs_generate_data_key_and_decrypt(sb: Sandbox) -> None:
    key = sb.client("kms").create_key()["KeyMetadata"]["Arn"]
    topic = sb.client("sns").create_topic(Name="cmk", Attributes={"KmsMasterKeyId": key})["TopicArn"]
    generate_only = _role(sb, "generate-only", ["kms:GenerateDataKey"], key).client(
        "sns", endpoint_url=sb.endpoint_url
    )
    with pytest.raises(ClientError) as exc:
        generate_only.publish(TopicArn=topic, Message="x")
    assert _code(exc) == "KMSAccessDenied"
    both = _role(sb, "both-sns", ["kms:GenerateDataKey*", "kms:Decrypt"], key).client(
        "sns", endpoint_url=sb.endpoint_url
    )
    assert both.publish(TopicArn=topic, Message="x")["MessageId"]


def test_a_key_policy_deny_wins_over_the_roles_allow(sb: Sandbox) -> None:
    kms = sb.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    session = _role(sb, "denied", ["kms:GenerateDataKey", "kms:Decrypt"], key)
    role_arn = f"arn:aws:iam::{sb.account_id}:role/denied"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Root",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{sb.account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "No",
                "Effect": "Deny",
                "Principal": {"AWS": role_arn},
                "Action": "kms:Decrypt",
                "Resource": "*",
            },
        ],
    }
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))
    url = sb.client("sqs").create_queue(QueueName="denied", Attributes={"KmsMasterKeyId": key})["QueueUrl"]
    with pytest.raises(ClientError):
        session.client("sqs", endpoint_url=sb.endpoint_url).send_message(QueueUrl=url, MessageBody="x")
