"""Referrer spam: hosts that fake visits to get their name into analytics reports.

The list is Matomo's (see `spamlist.py` for its source and licence). A referrer matches when its
host is a listed host or a subdomain of one, checked label by label against a frozenset, so the
cost does not grow with the list.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from touchline.enrichment.domains import is_public_suffix, normalize_host


class SpamList:
    """`is_spam(host)` against a host list (Matomo's by default), loaded on first use."""

    def __init__(self, hosts: Iterable[str] | None = None) -> None:
        self._given = None if hosts is None else tuple(hosts)
        self._hosts: frozenset[str] | None = None
        self.is_spam = lru_cache(maxsize=4096)(self._is_spam)

    def load(self) -> None:
        if self._hosts is not None:
            return
        if self._given is None:
            from touchline.enrichment.spamlist import SPAMMERS

            lines: Iterable[str] = SPAMMERS.splitlines()
        else:
            lines = self._given
        entries = (normalize_host(line) for line in lines if not line.startswith(("#", "!")))
        self._hosts = frozenset(entry for entry in entries if entry and not is_public_suffix(entry))

    def __len__(self) -> int:
        self.load()
        assert self._hosts is not None
        return len(self._hosts)

    def _is_spam(self, host: str) -> bool:
        host = normalize_host(host)
        if not host:
            return False
        self.load()
        assert self._hosts is not None
        while True:
            if host in self._hosts:
                return True
            _, dot, host = host.partition(".")
            if not dot:
                return False
