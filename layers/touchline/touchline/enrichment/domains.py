"""Registrable domains (eTLD+1) from the Public Suffix List, bundled, never fetched.

Used to tell a self-referral (`blog.shop.co.uk` → `shop.co.uk` is the same site, `other.co.uk`
is not) and as the "root domain" in the cookieless visitor hash. `publicsuffixlist` ships a fresh
list in every release and parses it in ~35 ms once the punycode variants are skipped
(`accept_encoded_idn=False`); punycoded hosts are decoded to Unicode before the lookup instead,
which gives the same answer. Private suffixes count (`alice.github.io` and `bob.github.io` are
different sites). Results are cached per host: a collector sees the same few hosts all day.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

_psl: PublicSuffixList | None = None


def suffix_list() -> PublicSuffixList:
    """The parsed list, loaded on first use."""
    global _psl
    if _psl is None:
        from publicsuffixlist import PublicSuffixList

        _psl = PublicSuffixList(accept_encoded_idn=False)
    return _psl


def normalize_host(host: str) -> str:
    """Lower-cased, no trailing dot, no `www.`: the form hosts are compared and looked up in."""
    return host.strip().lower().rstrip(".").removeprefix("www.")


def is_ip(host: str) -> bool:
    return ":" in host or host.replace(".", "").isdigit()


@lru_cache(maxsize=8192)
def registrable_domain(host: str) -> str:
    """`blog.shop.co.uk` → `shop.co.uk`; IPs, single labels and bare suffixes come back as given."""
    host = normalize_host(host)
    if not host or "." not in host or is_ip(host):
        return host
    if "xn--" in host:
        try:
            host = host.encode("ascii").decode("idna")
        except UnicodeError:
            return host
    return suffix_list().privatesuffix(host) or host


@lru_cache(maxsize=8192)
def is_public_suffix(host: str) -> bool:
    """True for `co.uk`, `github.io`, `kharkov.ua`: names no single site owns."""
    host = normalize_host(host)
    if "xn--" in host:
        try:
            host = host.encode("ascii").decode("idna")
        except UnicodeError:
            return False
    return bool(host) and suffix_list().is_public(host)


def same_site(host: str, other: str) -> bool:
    """Whether two hosts share a registrable domain."""
    if not host or not other:
        return False
    return registrable_domain(host) == registrable_domain(other)
