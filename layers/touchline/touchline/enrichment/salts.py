"""Daily salts for cookieless visitor ids: one random 16-byte salt per UTC day, shared by all
collector containers through the config table, deleted by DynamoDB TTL two days after its day.

Why a shared, rotating salt: every container must hash a visitor to the same id on the same day
(so they are counted once), and nobody — us included — may be able to link ids across days or
recover them once the salt is gone. The previous day's salt is kept until its TTL so a visit
crossing midnight can still be joined to its session (see `visitor.py`).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

SALT_BYTES = 16
# A day's salt lives until 48 h after the day ends: long enough for yesterday's sessions.
KEEP_AFTER_DAY = timedelta(hours=48)


def expires_at(day: date) -> int:
    """Epoch seconds at which `day`'s salt may be deleted (the TTL attribute)."""
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return int((end + KEEP_AFTER_DAY).timestamp())


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


class SaltStore(Protocol):
    """Where salts live, keyed by UTC date."""

    def get(self, day: date) -> bytes | None:
        """The salt for `day`, or None if there is none (yet, or any more)."""
        ...

    def put(self, day: date, salt: bytes) -> bytes:
        """Store `salt` for `day` unless one exists; return whichever salt is stored."""
        ...


class InMemorySaltStore:
    """A process-local store: tests, the local stack, and a single container."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.items: dict[date, tuple[bytes, int]] = {}

    def get(self, day: date) -> bytes | None:
        item = self.items.get(day)
        if item is None or item[1] <= self._clock():
            return None
        return item[0]

    def put(self, day: date, salt: bytes) -> bytes:
        existing = self.get(day)
        if existing is not None:
            return existing
        self.items[day] = (salt, expires_at(day))
        return salt


class DailySalts:
    """Today's and yesterday's salts, cached in memory with their date.

    `for_day(day)` creates the day's salt if needed (one GetItem per container per day, plus a
    conditional PutItem for the first container after midnight). `existing(day)` never creates:
    yesterday's salt is only useful if hits were hashed with it. When the store fails, a
    process-local salt stands in for a minute rather than the collector dropping hits, and
    `on_error` hears of it (the collector logs and counts it: visitor counts then inflate across
    containers, which must not go unnoticed).
    """

    RETRY_SECONDS = 60.0

    def __init__(
        self,
        store: SaltStore,
        monotonic: Callable[[], float] = time.monotonic,
        on_error: Callable[[BaseException, date], None] | None = None,
    ) -> None:
        self._store = store
        self._monotonic = monotonic
        self._on_error = on_error
        self._salts: dict[date, bytes] = {}
        self._fallback: dict[date, tuple[bytes, float]] = {}
        self._absent: dict[date, float] = {}

    def for_day(self, day: date) -> bytes:
        salt = self._salts.get(day)
        if salt is not None:
            return salt
        fallback = self._fallback.get(day)
        if fallback is not None and self._monotonic() < fallback[1]:
            return fallback[0]
        try:
            salt = self._store.get(day) or self._store.put(day, new_salt())
        except Exception as exc:
            self._error(exc, day)
            stand_in = fallback[0] if fallback else new_salt()
            self._fallback[day] = (stand_in, self._monotonic() + self.RETRY_SECONDS)
            return stand_in
        self._remember(day, salt)
        return salt

    def existing(self, day: date) -> bytes | None:
        salt = self._salts.get(day)
        if salt is not None:
            return salt
        if self._monotonic() < self._absent.get(day, float("-inf")):
            return None
        try:
            salt = self._store.get(day)
        except Exception as exc:
            self._error(exc, day)
            return None
        if salt is None:
            self._absent[day] = self._monotonic() + self.RETRY_SECONDS
            return None
        self._remember(day, salt)
        return salt

    def _error(self, error: BaseException, day: date) -> None:
        if self._on_error is not None:
            self._on_error(error, day)

    def _remember(self, day: date, salt: bytes) -> None:
        self._salts[day] = salt
        self._fallback.pop(day, None)
        self._absent.pop(day, None)
        for old in sorted(self._salts)[:-3]:  # keep a few days; older ones are never asked for
            del self._salts[old]
