"""GA4's default channel group: (source, medium, campaign) → channel, first matching rule wins.

The rules and their order are those of Google's "[GA4] Default channel group" help page
(support.google.com/analytics/answer/9756891) for manually tagged and referral traffic, with the
AI Assistants channel GA4 added in 2026 placed before Organic Search. Matching is
case-insensitive, as GA4's now is. "Source matches a list of search sites" and its siblings
are the categories in `sources.py`. GA4 answers "Unassigned" when no rule matches; so do we.
"""

from __future__ import annotations

import re

from touchline.enrichment.sources import AI_ASSISTANT, EMAIL, SEARCH, SHOPPING, SOCIAL, VIDEO

CROSS_NETWORK = "Cross-network"
PAID_SHOPPING = "Paid Shopping"
PAID_SEARCH = "Paid Search"
PAID_SOCIAL = "Paid Social"
PAID_VIDEO = "Paid Video"
DISPLAY = "Display"
PAID_OTHER = "Paid Other"
ORGANIC_SHOPPING = "Organic Shopping"
ORGANIC_SOCIAL = "Organic Social"
ORGANIC_VIDEO = "Organic Video"
AI_ASSISTANTS = "AI Assistants"
ORGANIC_SEARCH = "Organic Search"
EMAIL_CHANNEL = "Email"
AFFILIATES = "Affiliates"
REFERRAL = "Referral"
AUDIO = "Audio"
SMS = "SMS"
MOBILE_PUSH = "Mobile Push Notifications"
DIRECT = "Direct"
UNASSIGNED = "Unassigned"

_PAID_MEDIUM = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
_SHOPPING_CAMPAIGN = re.compile(r"^(.*(([^a-df-z]|^)shop|shopping).*)$")
_DISPLAY_MEDIA = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
_SOCIAL_MEDIA = frozenset(
    {"social", "social-network", "social-media", "sm", "social network", "social media"}
)
_EMAIL_VALUES = frozenset({"email", "e-mail", "e_mail", "e mail"})
_REFERRAL_MEDIA = frozenset({"referral", "app", "link"})
_NO_MEDIUM = frozenset({"", "(none)", "(not set)"})
AI_ASSISTANT_MEDIUM = "ai-assistant"


def channel(source: str, category: str, medium: str, campaign: str) -> str:
    """The GA4 default channel for a visit.

    `source` is the source as tagged or named (empty when there is none), `category` its
    `sources.py` category, `medium` and `campaign` the UTM values (or the medium implied by the
    referrer or click id). All compared lower-cased.
    """
    source, medium, campaign = source.lower(), medium.lower(), campaign.lower()
    paid = _PAID_MEDIUM.match(medium) is not None
    shopping_campaign = _SHOPPING_CAMPAIGN.match(campaign) is not None
    if "cross-network" in campaign:
        return CROSS_NETWORK
    if paid:
        if category == SHOPPING or shopping_campaign:
            return PAID_SHOPPING
        if category == SEARCH:
            return PAID_SEARCH
        if category == SOCIAL:
            return PAID_SOCIAL
        if category == VIDEO:
            return PAID_VIDEO
    if medium in _DISPLAY_MEDIA:
        return DISPLAY
    if paid:
        return PAID_OTHER
    if category == SHOPPING or shopping_campaign:
        return ORGANIC_SHOPPING
    if category == SOCIAL or medium in _SOCIAL_MEDIA:
        return ORGANIC_SOCIAL
    if category == VIDEO or "video" in medium:
        return ORGANIC_VIDEO
    if category == AI_ASSISTANT or medium == AI_ASSISTANT_MEDIUM:
        return AI_ASSISTANTS
    if category == SEARCH or medium == "organic":
        return ORGANIC_SEARCH
    if category == EMAIL or source in _EMAIL_VALUES or medium in _EMAIL_VALUES:
        return EMAIL_CHANNEL
    if medium == "affiliate":
        return AFFILIATES
    if medium in _REFERRAL_MEDIA:
        return REFERRAL
    if medium == "audio":
        return AUDIO
    if source == "sms" or medium == "sms":
        return SMS
    if medium.endswith("push") or "mobile" in medium or "notification" in medium or source == "firebase":
        return MOBILE_PUSH
    if not source and medium in _NO_MEDIUM:
        return DIRECT
    return UNASSIGNED
