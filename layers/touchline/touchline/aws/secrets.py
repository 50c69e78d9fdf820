"""Secrets Manager through Powertools Parameters: cached for `max_age` seconds, then fetched again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from touchline.config.integrations import SecretFetcher

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager.client import SecretsManagerClient


def powertools_fetcher(client: SecretsManagerClient, max_age: int) -> SecretFetcher:
    """Secrets through Powertools Parameters (its own cache, `max_age` seconds)."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    provider = SecretsProvider(boto3_client=client)

    def fetch(name: str) -> str:
        value = provider.get(name, max_age=max_age)
        return value.decode() if isinstance(value, bytes) else str(value)

    return fetch
