"""Watermarks and leases in the config table (moto)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from helpers import TABLE
from touchline.config.sync_state import SyncStateStore
from touchline.syncs.state import Checkpoint, StreamState

T0 = datetime(2026, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def store(aws: dict[str, str]) -> SyncStateStore:
    return SyncStateStore(boto3.client("dynamodb"), TABLE)


def test_watermarks_only_move_forward(store: SyncStateStore) -> None:
    assert store.save("s", "klaviyo", "orders", Checkpoint(watermark=T0), 10)
    assert not store.save("s", "klaviyo", "orders", Checkpoint(watermark=T0 - timedelta(seconds=1)), 5)
    assert store.save("s", "klaviyo", "orders", Checkpoint(watermark=T0 + timedelta(days=1)), 7)
    state = store.load("s", "klaviyo")["orders"]
    assert state == StreamState(watermark=T0 + timedelta(days=1), rows=17)


def test_positions_are_kept_until_the_pass_ends(store: SyncStateStore) -> None:
    store.save("s", "shopify", "orders", Checkpoint(watermark=T0), 1)
    store.save("s", "shopify", "orders", Checkpoint(position={"cursor": "abc", "began": T0.isoformat()}), 2)
    state = store.load("s", "shopify")["orders"]
    assert state.watermark == T0 and state.position == {"cursor": "abc", "began": T0.isoformat()}
    store.save("s", "shopify", "orders", Checkpoint(watermark=T0 + timedelta(hours=1), refreshed=True), 0)
    state = store.load("s", "shopify")["orders"]
    assert state.position is None and state.refreshed_at is not None


def test_reset_full_and_since(store: SyncStateStore) -> None:
    for stream in ("a", "b"):
        store.save("s", "gorgias", stream, Checkpoint(watermark=T0), 3)
    store.reset("s", "gorgias", ["a"])
    store.reset("s", "gorgias", ["b"], since=datetime(2025, 1, 1, tzinfo=UTC))
    states = store.load("s", "gorgias")
    assert "a" not in states and states["b"].watermark == datetime(2025, 1, 1, tzinfo=UTC)
    assert store.save("s", "gorgias", "b", Checkpoint(watermark=datetime(2025, 2, 1, tzinfo=UTC)), 1)


def test_one_lease_per_site_and_provider(store: SyncStateStore) -> None:
    assert store.acquire_lease("s", "hubspot", "run-1", 60)
    assert not store.acquire_lease("s", "hubspot", "run-2", 60)
    assert store.acquire_lease("s", "klaviyo", "run-2", 60)  # another provider: its own lease
    assert store.acquire_lease("s", "hubspot", "run-1", 60)  # the holder renews
    store.release_lease("s", "hubspot", "run-2")  # not the holder: nothing happens
    assert not store.acquire_lease("s", "hubspot", "run-3", 60)
    store.release_lease("s", "hubspot", "run-1")
    assert store.acquire_lease("s", "hubspot", "run-3", 60)


def test_an_expired_lease_is_taken_over(store: SyncStateStore) -> None:
    assert store.acquire_lease("s", "hubspot", "crashed", 1)
    time.sleep(2.1)
    assert store.acquire_lease("s", "hubspot", "next", 60)
