from __future__ import annotations

from touchline.enrichment.spam import SpamList

SPAM = SpamList()


def test_listed_hosts_and_their_subdomains_are_spam() -> None:
    assert SPAM.is_spam("semalt.com")
    assert SPAM.is_spam("semalt.semalt.com")
    assert SPAM.is_spam("WWW.Darodar.com.")
    assert SPAM.is_spam("buttons-for-website.com")


def test_ordinary_referrers_are_not_spam() -> None:
    for host in ("www.google.com", "news.ycombinator.com", "semalt.com.example.org", "notsemalt.com", ""):
        assert not SPAM.is_spam(host)


def test_public_suffix_entries_are_skipped_so_a_registry_is_not_blocked() -> None:
    # Matomo's list contains `kharkov.ua`, a public suffix: blocking it would drop every *.kharkov.ua site.
    assert not SPAM.is_spam("shop.kharkov.ua")
    assert SpamList(["kharkov.ua", "spam.example"]).is_spam("x.spam.example")
    assert len(SpamList(["kharkov.ua", "spam.example"])) == 1


def test_the_bundled_list_is_loaded() -> None:
    assert len(SPAM) > 1000


def test_comments_and_blank_lines_are_ignored() -> None:
    spam = SpamList(["# a comment", "", "! dead: old.example", "live.example"])
    assert len(spam) == 1
    assert spam.is_spam("live.example")
    assert not spam.is_spam("old.example")
