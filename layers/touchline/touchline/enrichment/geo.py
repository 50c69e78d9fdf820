"""Country, region and city: from the CDN's viewer headers, else the country from an offline table.

CloudFront (with an origin request policy forwarding them), Cloudflare and Vercel already
geolocate the viewer with city precision; when their headers are present they win. Otherwise
the country comes from `iptocc`: RIR delegation data compiled into a Rust extension (~5 ms to
import, ~0.3 µs a lookup, refreshed nightly upstream, MIT/Apache-2.0). It has no region or
city, which is the price of not shipping a 60 MB city database in the collector's layer. The IP
is only ever looked up, never returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

# (country, region, city) header names per CDN, in order of preference.
GEO_HEADERS: tuple[tuple[str, str, str], ...] = (
    ("cloudfront-viewer-country", "cloudfront-viewer-country-region", "cloudfront-viewer-city"),
    ("cf-ipcountry", "cf-region-code", "cf-ipcity"),
    ("x-vercel-ip-country", "x-vercel-ip-country-region", "x-vercel-ip-city"),
    ("x-country-code", "x-region-code", "x-city"),
)
# Cloudflare's and others' placeholders for "unknown", Tor, anonymous proxies.
_NOT_COUNTRIES = frozenset({"XX", "T1", "A1", "A2", "O1", "ZZ"})
MAX_CITY = 200


@dataclass(frozen=True, slots=True)
class Geo:
    country: str = ""
    region: str = ""
    city: str = ""

    def columns(self) -> dict[str, object]:
        return {"country": self.country, "region": self.region, "city": self.city}


NOWHERE = Geo()


@lru_cache(maxsize=1024)
def _country(value: str) -> str:
    """An ISO 3166-1 alpha-2 code or ""; cached, as a few hundred codes are all there is."""
    code = value.strip().upper()
    return code if len(code) == 2 and code.isalpha() and code.isascii() and code not in _NOT_COUNTRIES else ""


def _text(value: str) -> str:
    value = value.strip()
    if "%" in value:  # Vercel URL-encodes city names
        value = unquote(value)
    return value[:MAX_CITY]


def from_headers(headers: Mapping[str, str]) -> Geo | None:
    """The viewer's location from the first CDN whose country header is usable, else None."""
    if not headers:
        return None
    for country_header, region_header, city_header in GEO_HEADERS:
        raw = headers.get(country_header)
        country = _country(raw) if raw else ""
        if not country:
            continue
        region = _text(headers.get(region_header, "")).upper()
        if region and not region.startswith(f"{country}-"):
            region = f"{country}-{region}"  # ISO 3166-2: the CDNs send the subdivision part only
        return Geo(country, region, _text(headers.get(city_header, "")))
    return None


class IpCountry:
    """IP → ISO country via iptocc, imported on first use; "" when unknown or private."""

    def __init__(self) -> None:
        self._lookup: Callable[[str], str | None] | None = None

    def load(self) -> None:
        if self._lookup is None:
            from iptocc import country_code

            self._lookup = country_code

    def __call__(self, ip: str) -> str:
        if not ip:
            return ""
        if self._lookup is None:
            self.load()
        assert self._lookup is not None
        return _country(self._lookup(ip.strip()) or "")


def locate(headers: Mapping[str, str], ip: str, ip_country: IpCountry) -> Geo:
    """Headers first, then the IP's country; never the IP itself."""
    found = from_headers(headers)
    if found is not None:
        return found
    country = ip_country(ip)
    return Geo(country) if country else NOWHERE


def location_columns(headers: Mapping[str, str], ip: str, ip_country: IpCountry) -> dict[str, object]:
    """`locate(...).columns()`; without CDN headers (every API call) the columns of the IP's
    country, shared per country: callers copy them into their row and never change them."""
    found = from_headers(headers)
    if found is not None:
        return found.columns()
    return _country_columns(ip_country(ip))


@lru_cache(maxsize=512)
def _country_columns(country: str) -> dict[str, object]:
    return Geo(country).columns()
