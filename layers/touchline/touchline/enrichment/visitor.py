"""Cookieless visitor ids: SipHash-2-4 of the request's fingerprint under the day's salt.

The construction is Plausible's: `siphash(salt, user_agent + ip + site_domain + root_domain)`,
where root_domain is the registrable domain of the page's host. The id is stable for one
visitor on one site for one UTC day, differs across sites and days, and cannot be reversed or
linked once the salt is deleted. SipHash is a keyed PRF, so without the salt an id reveals
nothing, not even whether two ids share an IP. `siphashc` (ISC, C) costs ~0.15 µs a call.

Sessions that cross midnight: a hit at 00:05 is hashed with today's salt only, so its id differs
from the 23:55 hit before it. `VisitorIds.previous` returns the id the same hit would have had
under yesterday's salt; sessionisation can look for an open session under either id, as
Plausible does with its current and previous salts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from siphashc import siphash

from touchline.enrichment.salts import DailySalts


def cookieless_id(salt: bytes, user_agent: str, ip: str, site_domain: str, root_domain: str) -> str:
    """The visitor id, as the decimal form of the unsigned 64-bit hash."""
    return str(siphash(salt, f"{user_agent}{ip}{site_domain}{root_domain}".encode()))


def utc_day(moment: datetime) -> date:
    return (moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)).date()


class VisitorIds:
    """Cookieless ids under the salt of the hit's UTC day (and, on request, the day before)."""

    def __init__(self, salts: DailySalts) -> None:
        self.salts = salts

    def current(self, moment: datetime, user_agent: str, ip: str, site_domain: str, root_domain: str) -> str:
        salt = self.salts.for_day(utc_day(moment))
        return cookieless_id(salt, user_agent, ip, site_domain, root_domain)

    def previous(
        self, moment: datetime, user_agent: str, ip: str, site_domain: str, root_domain: str
    ) -> str | None:
        """The id under yesterday's salt, or None when that salt no longer (or never) existed."""
        salt = self.salts.existing(utc_day(moment) - timedelta(days=1))
        if salt is None:
            return None
        return cookieless_id(salt, user_agent, ip, site_domain, root_domain)
