"""Domain → site id for the collector, cached so a hot Lambda rarely calls DynamoDB.

Unknown domains are cached briefly too (a flood of hits for an unregistered domain must not turn
into a flood of reads), but for less time than known ones so a new site starts counting quickly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from touchline.config.sites import Site


class SiteLookup(Protocol):
    def by_domain(self, domain: str) -> Site | None: ...


class SiteResolver:
    def __init__(
        self,
        lookup: SiteLookup,
        ttl_seconds: float = 60.0,
        negative_ttl_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl_seconds
        self._negative_ttl = min(ttl_seconds, 5.0) if negative_ttl_seconds is None else negative_ttl_seconds
        self._clock = clock
        self._max = max_entries
        self._cache: dict[str, tuple[float, str | None]] = {}

    def site_id(self, domain: str) -> str | None:
        now = self._clock()
        cached = self._cache.get(domain)
        if cached and cached[0] > now:
            return cached[1]
        site = self._lookup.by_domain(domain)
        site_id = site.site_id if site else None
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[domain] = (now + (self._ttl if site_id else self._negative_ttl), site_id)
        return site_id
