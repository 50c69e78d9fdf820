"""One case per GA4 default channel rule, plus the precedence cases that decide between two."""

from __future__ import annotations

import pytest

from touchline.enrichment.channels import channel
from touchline.enrichment.sources import AI_ASSISTANT, EMAIL, SEARCH, SHOPPING, SOCIAL, VIDEO


@pytest.mark.parametrize(
    ("source", "category", "medium", "campaign", "expected"),
    [
        ("google", SEARCH, "cpc", "pmax-cross-network-q4", "Cross-network"),
        ("amazon", SHOPPING, "cpc", "", "Paid Shopping"),
        ("newsletter-partner", "", "paid", "summer-shop", "Paid Shopping"),
        ("google", SEARCH, "cpc", "brand", "Paid Search"),
        ("bing", SEARCH, "ppc", "", "Paid Search"),
        ("facebook", SOCIAL, "paid_social", "", "Paid Social"),
        ("linkedin", SOCIAL, "retargeting", "", "Paid Social"),
        ("youtube", VIDEO, "cpv", "", "Paid Video"),
        ("criteo", "", "display", "", "Display"),
        ("adnetwork", "", "cpm", "", "Display"),
        ("quora-ads", "", "paidsomething", "", "Paid Other"),
        ("etsy", SHOPPING, "referral", "", "Organic Shopping"),
        ("partner", "", "", "holiday_shopping", "Organic Shopping"),
        ("Facebook", SOCIAL, "referral", "", "Organic Social"),
        ("mastodon-instance", "", "social", "", "Organic Social"),
        ("YouTube", VIDEO, "referral", "", "Organic Video"),
        ("podcast-app", "", "video-embed", "", "Organic Video"),
        ("ChatGPT", AI_ASSISTANT, "", "", "AI Assistants"),
        ("some-llm", "", "ai-assistant", "", "AI Assistants"),
        ("Google", SEARCH, "organic", "", "Organic Search"),
        ("startsearch", "", "organic", "", "Organic Search"),
        ("newsletter", "", "email", "", "Email"),
        ("e-mail", "", "", "", "Email"),
        ("Gmail", EMAIL, "referral", "", "Email"),
        ("partner-site", "", "affiliate", "", "Affiliates"),
        ("blog.example.org", "", "referral", "", "Referral"),
        ("app-partner", "", "app", "", "Referral"),
        ("spotify", "", "audio", "", "Audio"),
        ("sms", "", "", "", "SMS"),
        ("twilio", "", "sms", "", "SMS"),
        ("onesignal", "", "web-push", "", "Mobile Push Notifications"),
        ("braze", "", "mobile-notification", "", "Mobile Push Notifications"),
        ("firebase", "", "", "", "Mobile Push Notifications"),
        ("", "", "", "", "Direct"),
        ("", "", "(none)", "", "Direct"),
        ("newsletter", "", "", "", "Unassigned"),
        ("", "", "weird-medium", "", "Unassigned"),
    ],
)
def test_ga4_default_channel_rules(
    source: str, category: str, medium: str, campaign: str, expected: str
) -> None:
    assert channel(source, category, medium, campaign) == expected


def test_matching_is_case_insensitive() -> None:
    assert channel("Google", SEARCH, "CPC", "Brand") == "Paid Search"
    assert channel("Newsletter", "", "Email", "") == "Email"


def test_shopping_campaign_regex_matches_shop_as_a_word_start_only() -> None:
    assert channel("x", "", "cpc", "shop-now") == "Paid Shopping"
    assert channel("x", "", "cpc", "2024_shop") == "Paid Shopping"
    assert channel("x", "", "cpc", "workshop") == "Paid Other"  # "workshop": k before shop


def test_paid_rules_win_over_display_and_display_over_paid_other() -> None:
    assert channel("facebook", SOCIAL, "cpm", "") == "Paid Social"
    assert channel("unknown", "", "cpm", "") == "Display"
    assert channel("unknown", "", "cpc", "") == "Paid Other"
