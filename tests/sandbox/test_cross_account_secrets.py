"""Issue 24 (N8): a secret of another account, read by its ARN, as Secrets Manager serves it: only when the
secret's resource policy allows the caller, and its value never under the AWS managed key (moto looked only in
the caller's own account and answered ResourceNotFoundException)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from remediate.sandbox import Sandbox

OWNER = "444455556666"


def owner_client(sb: Sandbox, service: str) -> Any:
    creds = sb.client("sts").assume_role(RoleArn=f"arn:aws:iam::{OWNER}:role/owner", RoleSessionName="owner")[
        "Credentials"
    ]
    return boto3.client(
        service,
        region_name=sb.region,
        endpoint_url=sb.endpoint_url,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def allow_consumer(arn: str, account: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                    "Resource": "*",
                }
            ],
        }
    )


def test_another_accounts_secret_without_a_resource_policy_is_refused(sb: Sandbox) -> None:
    arn = owner_client(sb, "secretsmanager").create_secret(Name="gap-n8-none", SecretString="{}")["ARN"]
    assert f":{OWNER}:" in arn
    with pytest.raises(ClientError) as raised:
        sb.client("secretsmanager").describe_secret(SecretId=arn)
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"


def test_another_accounts_secret_is_served_as_its_policy_allows_and_never_under_the_default_key(
    sb: Sandbox,
) -> None:
    owner = owner_client(sb, "secretsmanager")
    key = owner_client(sb, "kms").create_key()["KeyMetadata"]["Arn"]
    own_key = owner.create_secret(Name="gap-n8-cmk", SecretString='{"a": 1}', KmsKeyId=key)["ARN"]
    default = owner.create_secret(Name="gap-n8-default", SecretString='{"a": 1}')["ARN"]
    for arn in (own_key, default):
        owner.put_resource_policy(SecretId=arn, ResourcePolicy=allow_consumer(arn, sb.account_id))
    consumer = sb.client("secretsmanager")
    assert consumer.describe_secret(SecretId=own_key)["ARN"] == own_key
    assert consumer.get_secret_value(SecretId=own_key)["SecretString"] == '{"a": 1}'
    assert consumer.describe_secret(SecretId=default)["ARN"] == default
    with pytest.raises(ClientError) as raised:
        consumer.get_secret_value(SecretId=default)
    assert "default KMS service key" in raised.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as raised:
        consumer.get_resource_policy(SecretId=own_key)  # the policy allows only the two reads above
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
