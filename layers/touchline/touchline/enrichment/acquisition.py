"""Where a visit came from: referrer source, click id and GA4 channel from the URL and referrer.

Precedence, highest first:

1. `utm_source` (else `ref`, else `source`, as Plausible reads them) names the source; a known
   value (`fb`, `chatgpt.com`, `google`) is normalised to its name, anything else is kept as sent
   (up to 256 characters).
   `utm_medium` and `utm_campaign` are taken as sent.
2. A click id. The first present of gclid, gbraid, wbraid, dclid, msclkid, ttclid, li_fat_id,
   twclid, fbclid fills `click_id`/`click_id_type`. All but fbclid are only ever added to *ad*
   clicks, so without a `utm_medium` they imply a paid medium: `cpc` (Google, Microsoft, TikTok,
   LinkedIn, X) or `display` for dclid (Campaign Manager / Display & Video 360). Facebook adds
   fbclid to every outbound link, organic posts included, so fbclid names Facebook as the source
   when nothing better is known but never makes a visit paid.
3. The referrer: a known host gives its name and category, an unknown one its host. Without UTM
   tags the medium is what GA4 would infer: `organic` for search engines, `ai-assistant` for AI
   assistants, `referral` otherwise.
4. Nothing: Direct.

A referrer on the same registrable domain as the page or the site (Public Suffix List) is a
self-referral, and payment/sign-in pages (`sources.IGNORED`) are detours; neither is a source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from touchline.enrichment.channels import AI_ASSISTANT_MEDIUM, channel
from touchline.enrichment.domains import normalize_host, same_site
from touchline.enrichment.sources import (
    AI_ASSISTANT,
    IGNORED,
    SEARCH,
    Source,
    source_for_host,
    source_for_value,
)

MAX_CLICK_ID = 512
MAX_SOURCE = 256  # referrer_source is a LowCardinality column: no essays
MAX_TAG = 2000

_GOOGLE = Source("Google", SEARCH)
# click id parameter → (source it implies, medium it implies); checked in this order.
CLICK_IDS: dict[str, tuple[Source, str]] = {
    "gclid": (_GOOGLE, "cpc"),
    "gbraid": (_GOOGLE, "cpc"),
    "wbraid": (_GOOGLE, "cpc"),
    "dclid": (_GOOGLE, "display"),
    "msclkid": (source_for_value("bing") or _GOOGLE, "cpc"),
    "ttclid": (source_for_value("tiktok") or _GOOGLE, "cpc"),
    "li_fat_id": (source_for_value("linkedin") or _GOOGLE, "cpc"),
    "twclid": (source_for_value("x") or _GOOGLE, "cpc"),
    "fbclid": (source_for_value("facebook") or _GOOGLE, ""),
}
SOURCE_PARAMS = ("utm_source", "ref", "source")


@dataclass(frozen=True, slots=True)
class Acquisition:
    referrer_source: str = ""
    channel: str = ""
    click_id: str = ""
    click_id_type: str = ""

    def columns(self) -> dict[str, object]:
        return {
            "referrer_source": self.referrer_source,
            "channel": self.channel,
            "click_id": self.click_id,
            "click_id_type": self.click_id_type,
        }


def external_referrer(referrer_host: str, page_host: str, site_domain: str) -> str:
    """The referrer host when it is a real source; "" for none, self-referrals and detours."""
    host = normalize_host(referrer_host)
    if not host or same_site(host, page_host) or same_site(host, site_domain):
        return ""
    known = source_for_host(host)
    if known is not None and known.category == IGNORED:
        return ""
    return host


def acquisition(query: Mapping[str, str], referrer_host: str) -> Acquisition:
    """Classify a visit from its landing URL's query and its (external) referrer host."""
    explicit = next((value.strip() for key in SOURCE_PARAMS if (value := query.get(key, "")).strip()), "")
    explicit = explicit[:MAX_SOURCE]
    medium = query.get("utm_medium", "").strip()[:MAX_TAG]
    campaign = query.get("utm_campaign", "")[:MAX_TAG]
    click_type = next((key for key in CLICK_IDS if query.get(key)), "")
    name, channel_ = _classify(explicit, medium, campaign, click_type, referrer_host)
    return Acquisition(
        referrer_source=name,
        channel=channel_,
        click_id=query[click_type][:MAX_CLICK_ID] if click_type else "",
        click_id_type=click_type,
    )


@lru_cache(maxsize=4096)
def _classify(
    explicit: str, medium: str, campaign: str, click_type: str, referrer_host: str
) -> tuple[str, str]:
    """(referrer_source, channel); cached, as the same few combinations make most visits."""
    referrer = source_for_host(referrer_host) if referrer_host else None
    name, category = "", ""
    if explicit:
        known = source_for_value(explicit)
        name, category = (known.name, known.category) if known else (explicit, "")
    elif referrer is not None and referrer.name:
        name, category = referrer.name, referrer.category
    elif click_type:
        implied = CLICK_IDS[click_type][0]
        name, category = implied.name, implied.category
    elif referrer_host:
        name = referrer_host
    if not medium:
        if click_type:
            medium = CLICK_IDS[click_type][1]
        if not medium and not explicit and referrer_host:
            medium = _implied_medium(category)
    return name, channel(explicit or name, category, medium, campaign)


def _implied_medium(category: str) -> str:
    """The medium GA4 gives an untagged referral."""
    if category == SEARCH:
        return "organic"
    if category == AI_ASSISTANT:
        return AI_ASSISTANT_MEDIUM
    return "referral"
