"""boto3 clients, created on first use and reused for the life of the Lambda container.

Creating a client loads its service model (~40-80 ms for SQS); doing it lazily keeps that out of
module import, and `AWS_ENDPOINT_URL` (set by the local stack) points every client at moto.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp.client import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_secretsmanager.client import SecretsManagerClient
    from mypy_boto3_sqs.client import SQSClient


@cache
def sqs() -> SQSClient:
    import boto3

    return boto3.client("sqs")


@cache
def dynamodb() -> DynamoDBClient:
    import boto3

    return boto3.client("dynamodb")


@cache
def secretsmanager() -> SecretsManagerClient:
    import boto3

    return boto3.client("secretsmanager")


@cache
def cognito() -> CognitoIdentityProviderClient:
    import boto3

    return boto3.client("cognito-idp")
