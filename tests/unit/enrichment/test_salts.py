from __future__ import annotations

from datetime import UTC, date, datetime

import boto3
import pytest

from helpers import TABLE  # the `aws` fixture's table
from touchline.config.salts import DynamoDBSaltStore
from touchline.enrichment.salts import (
    SALT_BYTES,
    DailySalts,
    InMemorySaltStore,
    SaltStore,
    expires_at,
)

DAY = date(2026, 11, 22)
NOON = datetime(2026, 11, 22, 12, tzinfo=UTC).timestamp()


class CountingStore:
    """Wraps a store, counting calls, optionally failing them."""

    def __init__(self, inner: SaltStore) -> None:
        self.inner = inner
        self.gets = 0
        self.puts = 0
        self.fail = False

    def get(self, day: date) -> bytes | None:
        self.gets += 1
        if self.fail:
            raise RuntimeError("store down")
        return self.inner.get(day)

    def put(self, day: date, salt: bytes) -> bytes:
        self.puts += 1
        if self.fail:
            raise RuntimeError("store down")
        return self.inner.put(day, salt)


def test_a_salt_expires_48_hours_after_its_day_ends() -> None:
    assert expires_at(DAY) == int(datetime(2026, 11, 25, tzinfo=UTC).timestamp())


def test_in_memory_store_keeps_the_first_salt_of_a_day() -> None:
    store = InMemorySaltStore(clock=lambda: NOON)
    first = store.put(DAY, b"a" * 16)
    assert store.put(DAY, b"b" * 16) == first
    assert store.get(DAY) == first
    assert store.get(date(2026, 11, 21)) is None


def test_in_memory_store_forgets_expired_salts() -> None:
    now = [NOON]
    store = InMemorySaltStore(clock=lambda: now[0])
    store.put(DAY, b"a" * 16)
    now[0] = expires_at(DAY) + 1
    assert store.get(DAY) is None
    assert store.put(DAY, b"c" * 16) == b"c" * 16


@pytest.mark.usefixtures("aws")
def test_dynamodb_store_writes_the_documented_item() -> None:
    client = boto3.client("dynamodb")
    store = DynamoDBSaltStore(client, TABLE, clock=lambda: NOON)
    salt = store.put(DAY, b"s" * 16)
    item = client.get_item(TableName=TABLE, Key={"pk": {"S": "SALT"}, "sk": {"S": "2026-11-22"}})["Item"]
    assert item["salt"]["B"] == salt == b"s" * 16
    assert int(item["expires_at"]["N"]) == expires_at(DAY)
    assert store.get(DAY) == salt


@pytest.mark.usefixtures("aws")
def test_dynamodb_creation_is_race_safe_the_loser_reads_the_winner() -> None:
    client = boto3.client("dynamodb")
    container_a = DynamoDBSaltStore(client, TABLE, clock=lambda: NOON)
    container_b = DynamoDBSaltStore(client, TABLE, clock=lambda: NOON)
    # Both saw no salt and race to create one: only the first write lands.
    assert container_a.get(DAY) is None and container_b.get(DAY) is None
    winner = container_a.put(DAY, b"A" * 16)
    assert container_b.put(DAY, b"B" * 16) == winner == b"A" * 16


@pytest.mark.usefixtures("aws")
def test_dynamodb_treats_an_expired_item_ttl_has_not_yet_deleted_as_absent() -> None:
    client = boto3.client("dynamodb")
    DynamoDBSaltStore(client, TABLE, clock=lambda: NOON).put(DAY, b"old-salt-16bytes")
    later = DynamoDBSaltStore(client, TABLE, clock=lambda: expires_at(DAY) + 60)
    assert later.get(DAY) is None
    assert later.put(DAY, b"new-salt-16bytes") == b"new-salt-16bytes"


def test_daily_salts_create_once_and_cache_by_date() -> None:
    store = CountingStore(InMemorySaltStore(clock=lambda: NOON))
    salts = DailySalts(store)
    first = salts.for_day(DAY)
    assert len(first) == SALT_BYTES
    assert salts.for_day(DAY) == first
    assert (store.gets, store.puts) == (1, 1)
    assert DailySalts(store).for_day(DAY) == first  # another container finds the stored salt


def test_rotation_gives_each_day_its_own_salt_and_keeps_yesterdays() -> None:
    salts = DailySalts(InMemorySaltStore(clock=lambda: NOON))
    monday, tuesday = date(2026, 11, 23), date(2026, 11, 24)
    monday_salt = salts.for_day(monday)
    tuesday_salt = salts.for_day(tuesday)
    assert monday_salt != tuesday_salt
    assert salts.existing(monday) == monday_salt


def test_existing_never_creates_a_salt() -> None:
    store = CountingStore(InMemorySaltStore(clock=lambda: NOON))
    salts = DailySalts(store, monotonic=lambda: 0.0)
    assert salts.existing(DAY) is None
    assert salts.existing(DAY) is None  # the miss is remembered for a minute
    assert (store.gets, store.puts) == (1, 0)


def test_a_failing_store_falls_back_to_a_local_salt_and_reports_it() -> None:
    clock = [0.0]
    errors: list[tuple[str, date]] = []
    store = CountingStore(InMemorySaltStore(clock=lambda: NOON))
    salts = DailySalts(
        store, monotonic=lambda: clock[0], on_error=lambda exc, day: errors.append((str(exc), day))
    )
    store.fail = True
    stand_in = salts.for_day(DAY)
    assert salts.for_day(DAY) == stand_in  # no retry storm within the minute
    assert (store.gets, errors) == (1, [("store down", DAY)])
    store.fail = False
    clock[0] = DailySalts.RETRY_SECONDS + 1
    shared = salts.for_day(DAY)
    assert shared == store.inner.get(DAY)
