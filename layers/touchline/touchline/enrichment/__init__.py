"""Full hit enrichment for the collector: user agent, bots and referrer spam, geo, source and
channel, cookieless visitor ids. See docs/enrichment.md.

Importing this package is cheap (~2 ms): the user-agent regexes, crawler patterns, Public Suffix
List and IP table load on first use, or all at once with `FullEnricher.warm()`.
"""

from touchline.enrichment.full import FullEnricher
from touchline.enrichment.salts import DailySalts, InMemorySaltStore, SaltStore

__all__ = ["DailySalts", "FullEnricher", "InMemorySaltStore", "SaltStore"]
