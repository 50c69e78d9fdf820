"""The tag as an HTTP resource: one immutable body, an ETag, gzip when the browser accepts it.

API Gateway's HTTP API does not compress responses, so the gzipped body (≤ 2 KB, the figure the
tag is held to) is computed once per container and sent with `Content-Encoding: gzip`; the
same weak ETag names both encodings, since they decode to the same bytes. Knows nothing of
Lambda: the collector handler turns a `Served` into its response.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

SCRIPT = "touchline.min.js"
CONTENT_TYPE = "application/javascript; charset=utf-8"
# An hour: a new tag reaches every visitor within the hour, and revalidation after that costs
# a 304 with no body.
CACHE_CONTROL = "public, max-age=3600"


@dataclass(frozen=True, slots=True)
class Served:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class TagAsset:
    def __init__(self, source: bytes) -> None:
        self.source = source
        # mtime=0: the same script gives the same bytes in every container.
        self.gzipped = gzip.compress(source, compresslevel=9, mtime=0)
        self.etag = f'W/"{hashlib.sha256(source).hexdigest()[:20]}"'

    def serve(self, if_none_match: str = "", accept_encoding: str = "") -> Served:
        headers = {"ETag": self.etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
        if self.matches(if_none_match):
            return Served(304, b"", headers)
        if accepts_gzip(accept_encoding):
            return Served(200, self.gzipped, {**headers, "Content-Encoding": "gzip"})
        return Served(200, self.source, headers)

    def matches(self, if_none_match: str) -> bool:
        """RFC 9110 weak comparison: `*`, or any listed tag equal to ours ignoring `W/`."""
        if not if_none_match:
            return False
        ours = self.etag.removeprefix("W/")
        tags = (tag.strip() for tag in if_none_match.split(","))
        return any(tag == "*" or tag.removeprefix("W/") == ours for tag in tags)


def accepts_gzip(accept_encoding: str) -> bool:
    """True unless gzip is absent or refused with q=0 (`gzip;q=0`)."""
    for coding in accept_encoding.lower().split(","):
        name, _, params = coding.partition(";")
        if name.strip() in ("gzip", "*"):
            quality = params.replace(" ", "").removeprefix("q=")
            return not params or _quality(quality) > 0
    return False


def _quality(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 1.0


@cache
def tag_asset() -> TagAsset:
    """The packaged, minified tag, read once per container on the first request for it."""
    return TagAsset(files("touchline.tag").joinpath(SCRIPT).read_bytes())
