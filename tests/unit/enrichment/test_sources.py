from __future__ import annotations

import pytest

from touchline.enrichment.sources import (
    AI_ASSISTANT,
    EMAIL,
    IGNORED,
    SEARCH,
    SHOPPING,
    SOCIAL,
    VIDEO,
    Source,
    source_for_host,
    source_for_value,
)


@pytest.mark.parametrize(
    ("host", "source"),
    [
        ("www.google.com", Source("Google", SEARCH)),
        ("www.google.co.uk", Source("Google", SEARCH)),
        ("google.com.br", Source("Google", SEARCH)),
        ("com.google.android.googlequicksearchbox", Source("Google", SEARCH)),
        ("www.bing.com", Source("Bing", SEARCH)),
        ("duckduckgo.com", Source("DuckDuckGo", SEARCH)),
        ("search.yahoo.co.jp", Source("Yahoo", SEARCH)),
        ("yandex.ru", Source("Yandex", SEARCH)),
        ("l.facebook.com", Source("Facebook", SOCIAL)),
        ("lm.facebook.com", Source("Facebook", SOCIAL)),
        ("l.instagram.com", Source("Instagram", SOCIAL)),
        ("www.linkedin.com", Source("LinkedIn", SOCIAL)),
        ("lnkd.in", Source("LinkedIn", SOCIAL)),
        ("t.co", Source("X", SOCIAL)),
        ("x.com", Source("X", SOCIAL)),
        ("old.reddit.com", Source("Reddit", SOCIAL)),
        ("news.ycombinator.com", Source("Hacker News", SOCIAL)),
        ("www.tiktok.com", Source("TikTok", SOCIAL)),
        ("pinterest.fr", Source("Pinterest", SOCIAL)),
        ("m.youtube.com", Source("YouTube", VIDEO)),
        ("youtu.be", Source("YouTube", VIDEO)),
        ("www.amazon.de", Source("Amazon", SHOPPING)),
        ("shopping.google.com", Source("Google Shopping", SHOPPING)),
        ("chatgpt.com", Source("ChatGPT", AI_ASSISTANT)),
        ("www.perplexity.ai", Source("Perplexity", AI_ASSISTANT)),
        ("claude.ai", Source("Claude", AI_ASSISTANT)),
        ("gemini.google.com", Source("Gemini", AI_ASSISTANT)),
        ("copilot.microsoft.com", Source("Copilot", AI_ASSISTANT)),
        ("mail.google.com", Source("Gmail", EMAIL)),
        ("someone.substack.com", Source("Substack", EMAIL)),
        ("github.com", Source("GitHub", "")),
        ("checkout.stripe.com", Source("Stripe", IGNORED)),
        ("www.paypal.com", Source("PayPal", IGNORED)),
        ("sites.google.com", Source("", "")),
    ],
)
def test_referrer_hosts_resolve_to_named_categorised_sources(host: str, source: Source) -> None:
    assert source_for_host(host) == source


@pytest.mark.parametrize("host", ["blog.example.org", "google.blogspot.com", "mygoogle.com", "localhost", ""])
def test_unknown_hosts_and_lookalikes_are_not_sources(host: str) -> None:
    assert source_for_host(host) is None


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("google", "Google"),
        ("Google", "Google"),
        ("fb", "Facebook"),
        ("ig", "Instagram"),
        ("twitter", "X"),
        ("chatgpt.com", "ChatGPT"),
        ("https://news.ycombinator.com/", "Hacker News"),
        ("hn", "Hacker News"),
        ("perplexity", "Perplexity"),
    ],
)
def test_utm_source_values_resolve_by_name_alias_or_host(value: str, name: str) -> None:
    found = source_for_value(value)
    assert found is not None
    assert found.name == name


def test_free_text_utm_sources_are_unknown() -> None:
    assert source_for_value("spring newsletter") is None
    assert source_for_value("partner-123") is None
