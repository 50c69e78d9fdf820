"""Once per delivery: a provider's retry of a delivery already enqueued gets the first answer.

Powertools Idempotency keeps one record per delivery key in the config table (pk
`IDEMPOTENCY#revenue`, sk = hash of the key, TTL `expires_at`). A delivery still being processed
makes a concurrent retry fail with `DeliveryInProgress` (the provider retries later); one that
raised leaves no record, so its retry runs again. This saves the queue and the loader the
duplicates; the tables' keys are what guarantee a duplicate never counts twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from mypy_boto3_dynamodb.client import DynamoDBClient

Action = Callable[[], dict[str, Any]]
STATIC_PK = "IDEMPOTENCY#revenue"


class DeliveryInProgress(Exception):
    """Another invocation is processing the same delivery right now."""


class Deduper(Protocol):
    def once(self, key: dict[str, str], action: Action) -> dict[str, Any]:
        """Run `action` for the first delivery of `key`; later ones get its result, marked duplicate."""
        ...


class PowertoolsDeduper:
    def __init__(self, table_name: str, client: DynamoDBClient, expires_after_seconds: int) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        store = DynamoDBPersistenceLayer(
            table_name=table_name,
            key_attr="pk",
            sort_key_attr="sk",
            static_pk_value=STATIC_PK,
            expiry_attr="expires_at",
            boto3_client=client,
        )
        self.config = IdempotencyConfig(
            expires_after_seconds=expires_after_seconds, response_hook=_mark_duplicate
        )
        self._run = idempotent_function(
            data_keyword_argument="delivery", persistence_store=store, config=self.config
        )(_run_action)

    def once(self, key: dict[str, str], action: Action) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
        )

        try:
            result: dict[str, Any] = self._run(delivery=key, action=action)
        except IdempotencyAlreadyInProgressError:
            raise DeliveryInProgress(str(key)) from None
        return result

    def register_lambda_context(self, context: Any) -> None:
        """Lets an in-progress record expire with the invocation that wrote it (timeouts)."""
        self.config.register_lambda_context(context)


def _run_action(delivery: dict[str, str], action: Action) -> dict[str, Any]:
    return action()


def _mark_duplicate(response: Any, idempotent_data: DataRecord) -> Any:
    return {**response, "duplicate": True} if isinstance(response, dict) else response


class MemoryDeduper:
    """In-process stand-in with the same contract, for tests and benchmarks."""

    def __init__(self) -> None:
        self.results: dict[str, dict[str, Any]] = {}

    def once(self, key: dict[str, str], action: Action) -> dict[str, Any]:
        name = repr(sorted(key.items()))
        if name in self.results:
            return {**self.results[name], "duplicate": True}
        result = action()
        self.results[name] = result
        return result
