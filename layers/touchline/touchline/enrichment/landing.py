"""What a hit's page URL and referrer say: hosts, UTM tags, source, channel and click id.

Shared by the collector's and the tracking API's enrichers. Everything here is a function of a
few strings that repeat all day (a site's own host, the big referrers, campaign links), so the
slow parts (`SplitResult.hostname`, query parsing, classification) are cached per string.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import SplitResult, urlsplit

from touchline.enrichment.acquisition import acquisition, external_referrer
from touchline.ingest.enrich import query_params, utm_columns

_EMPTY = SplitResult("", "", "", "", "")


def split_url(url: str) -> SplitResult:
    """`urlsplit`, but a malformed URL (an unclosed IPv6 literal) is just an empty one."""
    try:
        return urlsplit(url)
    except ValueError:
        return _EMPTY


def url_hostname(url: str) -> str:
    return hostname(split_url(url).netloc) if url else ""


@lru_cache(maxsize=4096)
def hostname(netloc: str) -> str:
    """The lower-cased host of a URL's netloc, without `www.`."""
    return (SplitResult("", netloc, "", "", "").hostname or "").removeprefix("www.")


@lru_cache(maxsize=4096)
def landing_columns(query: str, referrer_host: str, page_host: str, site_domain: str) -> dict[str, object]:
    """The UTM, source, channel and click-id columns of a landing. Cached: callers copy the
    result into their row and never change it."""
    params = query_params(query)
    columns = utm_columns(params)
    columns.update(acquisition(params, external_referrer(referrer_host, page_host, site_domain)).columns())
    return columns
