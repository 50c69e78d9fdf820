"""GDPR suppression: once `touchline people delete` has erased a person, their identifiers are
never stored again (Customer.io's suppression; seed 004's "User Suppressed").

A suppression is a set of keys per site: `("id", v)` for a visitor, anonymous or user id (one
namespace, as in resolution), `("email_sha256", hex)`, and typed customer ids such as
`("stripe_customer", "cus_…")`. The collector and the tracking API drop a new event that carries
one (`Suppressions.suppressed`); the webhooks keep the order, for accounting, without its
personal columns (`scrub_personal`). `touchline people unsuppress` lifts it. Each container
reads a site's set once per `ttl_seconds` (the site cache's setting), so a deletion holds on
every warm container within that time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from touchline.envelope import Row
from touchline.identity.resolve import VISITOR_NAMESPACE
from touchline.ttl_cache import TtlCache

ID = "id"
EMAIL = "email_sha256"
PERSONAL_COLUMNS = (
    "visitor_id",
    "user_id",
    "anonymous_id",
    "email_sha256",
    "customer_id",
    "customer_id_type",
)

Key = tuple[str, str]


def suppression_keys(identifiers: Iterable[tuple[str, str]]) -> set[Key]:
    """The keys that stand for these identifiers (a person's, as GDPR deletion found them)."""
    return {(ID if kind in VISITOR_NAMESPACE else kind, value) for kind, value in identifiers if value}


class SuppressionSource(Protocol):
    def of_site(self, site_id: str) -> frozenset[Key]: ...


class Suppressions:
    def __init__(self, source: SuppressionSource, ttl_seconds: float = 60.0) -> None:
        self._source = source
        self._cache: TtlCache[str, frozenset[Key]] = TtlCache(ttl_seconds, ttl_seconds)

    def keys(self, site_id: str) -> frozenset[Key]:
        return self._cache.get(site_id, self._source.of_site) or frozenset()

    def suppressed(self, site_id: str, identifiers: Iterable[tuple[str, str]]) -> bool:
        """Whether any of these identifiers (visitor/user/anonymous ids as `("visitor", v)` or
        `("user", v)`, email hashes, customer ids) belongs to a deleted person."""
        keys = self.keys(site_id)
        return bool(keys) and not keys.isdisjoint(suppression_keys(identifiers))


class NoSuppressions:
    """Nothing suppressed: tests and benchmarks that do not exercise GDPR."""

    def suppressed(self, site_id: str, identifiers: Iterable[tuple[str, str]]) -> bool:
        return False

    def keys(self, site_id: str) -> frozenset[Key]:
        return frozenset()


class SuppressionCheck(Protocol):
    def suppressed(self, site_id: str, identifiers: Iterable[tuple[str, str]]) -> bool: ...

    def keys(self, site_id: str) -> frozenset[Key]: ...


def row_identifiers(row: Row) -> list[tuple[str, str]]:
    """The identifiers a row names in its personal columns."""
    values = row.__dict__
    found = [("visitor", str(values.get(c) or "")) for c in ("visitor_id", "user_id", "anonymous_id")]
    found.append((EMAIL, str(values.get("email_sha256") or "")))
    if values.get("customer_id"):
        found.append((str(values.get("customer_id_type") or ""), str(values["customer_id"])))
    return [(kind, value) for kind, value in found if value]


def scrub_personal(
    site_id: str, rows: list[tuple[str, Row]], check: SuppressionCheck
) -> list[tuple[str, Row]]:
    """Rows of a suppressed person: identity links dropped, other rows (orders, refunds) kept
    with their personal columns emptied."""
    keys = check.keys(site_id)
    if not keys:
        return rows
    kept: list[tuple[str, Row]] = []
    for table, row in rows:
        if keys.isdisjoint(suppression_keys(row_identifiers(row) + _link_ends(row))):
            kept.append((table, row))
        elif table != "identity_links":
            blank = {c: "" for c in PERSONAL_COLUMNS if c in type(row).model_fields}
            kept.append((table, row.model_copy(update=blank)))
    return kept


def _link_ends(row: Row) -> list[tuple[str, str]]:
    values = row.__dict__
    ends = []
    for side in ("from", "to"):
        if f"{side}_type" in values:
            ends.append((str(values[f"{side}_type"]), str(values[f"{side}_id"])))
    return ends
