from __future__ import annotations

import pytest

from touchline.enrichment.acquisition import Acquisition, acquisition, external_referrer


def classify(query: str = "", referrer: str = "", page: str = "shop.example.com") -> Acquisition:
    params = dict(pair.split("=", 1) for pair in query.split("&") if pair)
    return acquisition(params, external_referrer(referrer, page, "shop.example.com"))


@pytest.mark.parametrize(
    ("query", "referrer", "source", "channel"),
    [
        ("", "", "", "Direct"),
        ("", "www.google.com", "Google", "Organic Search"),
        ("", "www.google.de", "Google", "Organic Search"),
        ("", "duckduckgo.com", "DuckDuckGo", "Organic Search"),
        ("", "l.facebook.com", "Facebook", "Organic Social"),
        ("", "news.ycombinator.com", "Hacker News", "Organic Social"),
        ("", "www.youtube.com", "YouTube", "Organic Video"),
        ("", "chatgpt.com", "ChatGPT", "AI Assistants"),
        ("", "www.perplexity.ai", "Perplexity", "AI Assistants"),
        ("", "mail.google.com", "Gmail", "Email"),
        ("", "github.com", "GitHub", "Referral"),
        ("", "blog.example.org", "blog.example.org", "Referral"),
        ("utm_source=newsletter&utm_medium=email", "", "newsletter", "Email"),
        ("utm_source=google&utm_medium=cpc&utm_campaign=brand", "www.google.com", "Google", "Paid Search"),
        ("utm_source=fb&utm_medium=paid", "", "Facebook", "Paid Social"),
        ("utm_source=chatgpt.com", "", "ChatGPT", "AI Assistants"),
        ("utm_source=partner", "", "partner", "Unassigned"),
        ("ref=producthunt", "", "Product Hunt", "Unassigned"),
        ("source=hn", "", "Hacker News", "Organic Social"),
        ("utm_medium=cpc", "www.bing.com", "Bing", "Paid Search"),
    ],
)
def test_source_and_channel(query: str, referrer: str, source: str, channel: str) -> None:
    found = classify(query, referrer)
    assert (found.referrer_source, found.channel) == (source, channel)


@pytest.mark.parametrize(
    ("query", "referrer", "click_type", "source", "channel"),
    [
        ("gclid=Cj0KCQ", "", "gclid", "Google", "Paid Search"),
        ("gclid=Cj0KCQ", "www.google.com", "gclid", "Google", "Paid Search"),
        ("gclid=Cj0KCQ", "m.youtube.com", "gclid", "YouTube", "Paid Video"),
        ("gbraid=0AAAA", "", "gbraid", "Google", "Paid Search"),
        ("wbraid=CkAAA", "", "wbraid", "Google", "Paid Search"),
        ("dclid=CJ3x", "", "dclid", "Google", "Display"),
        ("msclkid=1a2b", "www.bing.com", "msclkid", "Bing", "Paid Search"),
        ("ttclid=E.C.P", "", "ttclid", "TikTok", "Paid Social"),
        ("li_fat_id=abc-123", "", "li_fat_id", "LinkedIn", "Paid Social"),
        ("twclid=2-abc", "t.co", "twclid", "X", "Paid Social"),
        ("fbclid=IwAR2x", "", "fbclid", "Facebook", "Organic Social"),
        ("fbclid=IwAR2x", "l.instagram.com", "fbclid", "Instagram", "Organic Social"),
        ("fbclid=IwAR2x&utm_source=facebook&utm_medium=paid_social", "", "fbclid", "Facebook", "Paid Social"),
        ("gclid=Cj0&utm_source=newsletter&utm_medium=email", "", "gclid", "newsletter", "Email"),
    ],
)
def test_click_ids(query: str, referrer: str, click_type: str, source: str, channel: str) -> None:
    found = classify(query, referrer)
    assert (found.click_id_type, found.referrer_source, found.channel) == (click_type, source, channel)
    assert found.click_id == query.split("&")[0].split("=", 1)[1]


def test_fbclid_alone_is_not_paid() -> None:
    # Facebook appends fbclid to every outbound link, organic posts included.
    assert "Paid" not in classify("fbclid=IwAR2x").channel


def test_paid_click_ids_take_precedence_over_fbclid() -> None:
    assert classify("fbclid=a&gclid=b").click_id_type == "gclid"


def test_click_ids_are_capped() -> None:
    assert len(classify("gclid=" + "x" * 5000).click_id) == 512


@pytest.mark.parametrize(
    ("referrer", "page"),
    [
        ("blog.shop.co.uk", "shop.co.uk"),
        ("shop.co.uk", "www.shop.co.uk"),
        ("checkout.shop.example.com", "shop.example.com"),
        ("www.shop.example.com", "landing.example.net"),  # the site's own domain, another page host
    ],
)
def test_self_referrals_are_not_a_source(referrer: str, page: str) -> None:
    assert external_referrer(referrer, page, "shop.example.com") == ""
    assert classify("", referrer, page).channel == "Direct"


def test_a_neighbour_under_the_same_public_suffix_is_a_real_referrer() -> None:
    assert external_referrer("other.co.uk", "shop.co.uk", "shop.co.uk") == "other.co.uk"
    assert external_referrer("bob.github.io", "alice.github.io", "alice.github.io") == "bob.github.io"


def test_payment_and_sign_in_detours_are_not_a_source() -> None:
    assert external_referrer("checkout.stripe.com", "shop.example.com", "shop.example.com") == ""
    assert external_referrer("www.paypal.com", "shop.example.com", "shop.example.com") == ""
    assert external_referrer("accounts.google.com", "shop.example.com", "shop.example.com") == ""


def test_self_referral_keeps_utm_tags() -> None:
    found = classify("utm_source=newsletter&utm_medium=email", "blog.shop.example.com")
    assert (found.referrer_source, found.channel) == ("newsletter", "Email")


def test_free_text_sources_are_capped_for_the_low_cardinality_column() -> None:
    assert classify("utm_source=" + "x" * 1000).referrer_source == "x" * 256
