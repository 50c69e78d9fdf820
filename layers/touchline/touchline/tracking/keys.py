"""Write key → site, cached per Lambda container like the collector's domain → site.

Cached by the key's hash (the key itself is never kept). A revoked or unknown key is cached for
less time than a valid one, so a flood of bad keys cannot turn into a flood of reads, and a
revocation takes effect within `ttl_seconds` (60 by default) on every warm container. The site's
consent setting (docs/consent.md) is read with the key and cached with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from touchline.config.write_keys import WriteKey, key_hash
from touchline.consent.policy import OFF, ConsentPolicy
from touchline.tracking.convert import SiteRef
from touchline.ttl_cache import TtlCache


class WriteKeyLookup(Protocol):
    def lookup(self, key: str) -> WriteKey | None: ...


class WriteKeyResolver:
    def __init__(
        self,
        lookup: WriteKeyLookup,
        ttl_seconds: float = 60.0,
        negative_ttl_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
        consent_of: Callable[[str], ConsentPolicy] | None = None,
    ) -> None:
        self._lookup = lookup
        self._consent_of = consent_of or (lambda _site_id: OFF)
        self._cache: TtlCache[str, SiteRef] = TtlCache(ttl_seconds, negative_ttl_seconds, clock, max_entries)

    def site_for(self, key: str) -> SiteRef | None:
        """The site a valid key writes to; None for an unknown or revoked key."""
        return self._cache.get(key_hash(key), lambda _digest: self._load(key))

    def _load(self, key: str) -> SiteRef | None:
        record = self._lookup.lookup(key)
        if record is None or record.revoked:
            return None
        return SiteRef(record.site_id, record.site_domain, self._consent_of(record.site_id))
