"""`FullEnricher`: every column the collector can derive from a hit, or a reason to drop it.

Order matters for cost: the user agent is inspected first (cached per agent string, so a
returning browser costs a dict lookup) because bots are the commonest drop, then the referrer
spam check, then the cheap per-hit work (URL split, source/channel, geo, visitor id). Heavy
tables load on first use; `warm()` loads them all at once for a Lambda init phase.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import NoReturn

from touchline.enrichment.bots import BotDetector
from touchline.enrichment.domains import registrable_domain, suffix_list
from touchline.enrichment.geo import IpCountry, location_columns
from touchline.enrichment.landing import hostname, landing_columns, split_url, url_hostname
from touchline.enrichment.salts import DailySalts, InMemorySaltStore, SaltStore
from touchline.enrichment.spam import SpamList
from touchline.enrichment.useragent import UserAgentParser
from touchline.enrichment.visitor import VisitorIds
from touchline.errors import Degraded, log_degraded
from touchline.ingest.enrich import DropHit, HitContext

BOT = "bot"
REFERRER_SPAM = "referrer_spam"
SALT_STORE = "salt_store"
AGENT_CACHE_SIZE = 4096
MAX_USER_AGENT = 1024


class FullEnricher:
    """The collector's enricher: URL and UTM, user agent, bots and spam, geo, source, channel,
    visitor id. A salt store failure is survived with a stand-in salt and reported to
    `degraded(dependency, error, **context)` (the collector logs it and counts `Degraded`)."""

    def __init__(
        self,
        salts: SaltStore | None = None,  # the config table in Lambda; process memory by default
        *,
        bots: BotDetector | None = None,
        spam: SpamList | None = None,
        agents: UserAgentParser | None = None,
        agent_cache_size: int = AGENT_CACHE_SIZE,
        degraded: Degraded | None = None,
    ) -> None:
        self._store = salts
        self._degraded = degraded or log_degraded
        self._visitors: VisitorIds | None = None
        self._bots = bots or BotDetector()
        self._spam = spam or SpamList()
        self._agents = agents or UserAgentParser()
        self._ip_country = IpCountry()
        self.agent_columns = lru_cache(maxsize=agent_cache_size)(self._agent_columns)

    def warm(self) -> None:
        """Load every table now (~120 ms) instead of on the first hits."""
        self._bots.load()
        self._agents.load()
        self._spam.load()
        self._ip_country.load()
        suffix_list()

    def enrich(self, hit: HitContext) -> dict[str, object]:
        agent = self.agent_columns(hit.user_agent[:MAX_USER_AGENT])
        if agent is None:
            self._drop(BOT)
        page = split_url(hit.url)
        page_host = hostname(page.netloc)
        referrer_host = url_hostname(hit.referrer)
        if referrer_host and self._spam.is_spam(referrer_host):
            self._drop(REFERRER_SPAM)
        columns: dict[str, object] = {"hostname": page_host, "pathname": page.path or "/"}
        columns.update(landing_columns(page.query, referrer_host, page_host, hit.site_domain))
        columns.update(agent)
        columns.update(location_columns(hit.headers, hit.ip, self._ip_country))
        columns["visitor_id"] = hit.visitor_id or self.visitors().current(
            hit.timestamp, hit.user_agent, hit.ip, hit.site_domain, registrable_domain(page_host)
        )
        return columns

    def previous_visitor_id(self, hit: HitContext) -> str | None:
        """The cookieless id this hit would have had under yesterday's salt (for sessions that
        cross midnight); None for tag ids and when yesterday's salt is gone."""
        if hit.visitor_id:
            return None
        page_host = url_hostname(hit.url)
        return self.visitors().previous(
            hit.timestamp, hit.user_agent, hit.ip, hit.site_domain, registrable_domain(page_host)
        )

    def visitors(self) -> VisitorIds:
        if self._visitors is None:
            salts = DailySalts(self._store or InMemorySaltStore(), on_error=self._salt_error)
            self._visitors = VisitorIds(salts)
        return self._visitors

    def _salt_error(self, error: BaseException, day: date) -> None:
        self._degraded(SALT_STORE, error, day=day.isoformat())

    def _agent_columns(self, user_agent: str) -> dict[str, object] | None:
        """The parsed agent's columns, or None for a bot; cached per agent string (shared:
        `enrich` copies them into each row)."""
        if self._bots.is_bot(user_agent):
            return None
        return self._agents.parse(user_agent).columns()

    def _drop(self, reason: str) -> NoReturn:
        raise DropHit(reason)
