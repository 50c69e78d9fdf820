"""Domain → site id for the collector, cached per Lambda container (`touchline.ttl_cache`).

Unknown domains are cached too (5 s), so repeating one costs no read; the domains of one request
that this container has not seen are looked up together (`SiteStore.by_domains`: two round
trips for up to ten), and a value that is not a hostname is never looked up (issue 13).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from touchline.config.sites import Site, is_hostname
from touchline.ttl_cache import TtlCache


class SiteLookup(Protocol):
    def by_domain(self, domain: str) -> Site | None: ...


BatchLookup = Callable[[list[str]], dict[str, Site | None]]


class SiteResolver:
    def __init__(
        self,
        lookup: SiteLookup,
        ttl_seconds: float = 60.0,
        negative_ttl_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
        batch_lookup: BatchLookup | None = None,
    ) -> None:
        self._lookup = lookup
        self._batch = batch_lookup or (lambda domains: {d: lookup.by_domain(d) for d in domains})
        self._cache: TtlCache[str, Site] = TtlCache(ttl_seconds, negative_ttl_seconds, clock, max_entries)

    def site_id(self, domain: str) -> str | None:
        site = self.site(domain)
        return site.site_id if site else None

    def site(self, domain: str) -> Site | None:
        """The site, with its settings the collector honours (cookieless), as cached."""
        return self.sites([domain])[domain]

    def sites(self, domains: list[str]) -> dict[str, Site | None]:
        """Each domain's site (None: not registered), the uncached ones in one batch lookup."""
        found: dict[str, Site | None] = {d: None for d in domains if not is_hostname(d)}
        wanted = [d for d in domains if d not in found]
        if wanted:
            found.update(self._cache.get_many(wanted, self._batch))
        return found
