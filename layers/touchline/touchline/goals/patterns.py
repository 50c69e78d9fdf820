"""Plausible's page patterns: `*` is any run of characters within one path segment, `**` any run
of characters across segments, everything else literal; the whole path must match.

    /blog/*             /blog/post, /blog/ (not /blog/a/b)
    /docs/**            /docs/a, /docs/a/b/c
    /product/*/reviews  /product/42/reviews
    /blog*              /blog, /blog-post, /blog2 (not /blog/post)
"""

from __future__ import annotations

import re

MAX_PATTERN = 500


def wildcard_regex(pattern: str) -> str:
    """The pattern as an anchored RE2 regex (ClickHouse `match`, Python `re` alike)."""
    out = re.escape(pattern).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
    return f"^{out}$"


def check_pattern(pattern: str) -> str:
    """A page pattern as stored, or ValueError saying what is wrong with it."""
    pattern = pattern.strip()
    if not pattern.startswith("/"):
        raise ValueError("a page pattern is a path starting with / (e.g. /blog/*)")
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"a page pattern is at most {MAX_PATTERN} characters")
    if "***" in pattern:
        raise ValueError("a page pattern uses * (within a segment) or ** (across segments), not ***")
    return pattern


def matches(pattern: str, path: str) -> bool:
    return re.fullmatch(wildcard_regex(pattern)[1:-1], path, flags=re.DOTALL) is not None
