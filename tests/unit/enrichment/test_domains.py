from __future__ import annotations

import pytest

from touchline.enrichment.domains import is_public_suffix, registrable_domain, same_site


@pytest.mark.parametrize(
    ("host", "registrable"),
    [
        ("blog.shop.co.uk", "shop.co.uk"),
        ("shop.co.uk", "shop.co.uk"),
        ("www.Example.COM.", "example.com"),
        ("a.b.c.example.com", "example.com"),
        ("alice.github.io", "alice.github.io"),
        ("docs.alice.github.io", "alice.github.io"),
        ("127.0.0.1", "127.0.0.1"),
        ("2001:db8::1", "2001:db8::1"),
        ("localhost", "localhost"),
        ("co.uk", "co.uk"),
        ("", ""),
    ],
)
def test_registrable_domain_follows_the_public_suffix_list(host: str, registrable: str) -> None:
    assert registrable_domain(host) == registrable


def test_punycode_hosts_use_the_unicode_rules() -> None:
    # .рф is a public suffix; the punycoded spelling must get the same answer.
    assert registrable_domain("shop.xn--p1ai") == registrable_domain("shop.рф") == "shop.рф"


def test_same_site_compares_registrable_domains() -> None:
    assert same_site("blog.shop.co.uk", "shop.co.uk")
    assert not same_site("shop.co.uk", "other.co.uk")
    assert not same_site("alice.github.io", "bob.github.io")
    assert not same_site("", "shop.co.uk")


def test_public_suffixes() -> None:
    assert is_public_suffix("co.uk")
    assert is_public_suffix("github.io")
    assert not is_public_suffix("shop.co.uk")
