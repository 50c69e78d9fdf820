"""The built dashboard (Vite's `dist/`) served from a directory, as API Gateway will send it.

Caching follows the file names: everything under `/assets/` carries a content hash in its name,
so it is cached for a year as immutable; `index.html` (and every client-side route, which all
answer with it) is `no-cache` with an ETag, so a deploy is seen on the next load and an unchanged
page costs a 304. API Gateway's HTTP API does not compress, so text files are gzipped here, once
per container. Knows nothing of Lambda: the handler turns a `Served` into its response.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import mimetypes
import re
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from touchline.tag.asset import Served, accepts_gzip

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Files at the root of dist/ that are not hashed (favicon, robots.txt): an hour.
UNHASHED = "public, max-age=3600"
# Paths that belong to the API, never to the app: an unknown one is a JSON 404, as the gateway's.
API_PREFIXES = ("/api/", "/v1/", "/webhooks/", "/js/", "/_dev/")
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
NOT_FOUND = b'{"message":"Not Found"}'
# index.html's own inline scripts (the early sites/me requests): allowed by hash, nothing else inline.
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
# Shared links (/share/...) are meant to be embedded in other sites' pages; nothing else is.
EMBEDDABLE_PREFIX = "/share/"
CONTENT_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
}


@dataclass(frozen=True, slots=True)
class _File:
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str
    inline_scripts: tuple[str, ...] = ()  # CSP sources (`'sha256-…'`) of an HTML file's inline scripts


class DashboardAssets:
    """One directory of built files; `serve(path, …)` answers a GET for any path."""

    def __init__(self, root: Path, *, connect_src: tuple[str, ...] = ()) -> None:
        self.root = root.resolve()
        self.connect_src = connect_src
        self._files: dict[str, _File | None] = {}
        self._lock = threading.Lock()

    def serve(self, path: str, *, if_none_match: str = "", accept_encoding: str = "") -> Served:
        clean = _normalise(path)
        if clean is None or clean.startswith(API_PREFIXES):
            return Served(404, NOT_FOUND, {"Content-Type": "application/json"})
        if clean.startswith("/assets/"):
            found = self._file(clean)
            if found is None:
                return Served(404, b"Not Found", {"Content-Type": "text/plain; charset=utf-8"})
            return self._respond(found, IMMUTABLE, if_none_match, accept_encoding)
        if clean != "/" and PurePosixPath(clean).suffix:
            found = self._file(clean)
            if found is not None and not clean.endswith(".html"):
                return self._respond(found, UNHASHED, if_none_match, accept_encoding)
        # Any other path is a route of the single-page app: index.html decides what it shows.
        index = self._file("/index.html")
        if index is None:
            return Served(
                503,
                b"The dashboard is not built: `sam build` (or `touchline dev`) builds it from dashboard/.",
                {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"},
            )
        served = self._respond(index, REVALIDATE, if_none_match, accept_encoding)
        served.headers.update(
            self.security_headers(
                embeddable=clean.startswith(EMBEDDABLE_PREFIX), inline_scripts=index.inline_scripts
            )
        )
        return served

    def security_headers(self, *, embeddable: bool, inline_scripts: tuple[str, ...] = ()) -> dict[str, str]:
        """CSP for the app page: its own scripts only (files, and index.html's inline ones by
        hash); API calls to this origin and Cognito."""
        connect = " ".join(("'self'", *self.connect_src))
        scripts = " ".join(("'self'", *inline_scripts))
        ancestors = "*" if embeddable else "'none'"
        headers = {
            "Content-Security-Policy": (
                f"default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; "
                f"connect-src {connect}; frame-ancestors {ancestors}; base-uri 'none'; form-action 'self'"
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        }
        if not embeddable:
            headers["X-Frame-Options"] = "DENY"
        return headers

    def _respond(self, found: _File, cache_control: str, if_none_match: str, accept_encoding: str) -> Served:
        headers = {
            "Content-Type": found.content_type,
            "Cache-Control": cache_control,
            "ETag": found.etag,
            "X-Content-Type-Options": "nosniff",
        }
        if found.gzipped is not None:
            headers["Vary"] = "Accept-Encoding"
        if _matches(found.etag, if_none_match):
            return Served(304, b"", headers)
        if found.gzipped is not None and accepts_gzip(accept_encoding):
            return Served(200, found.gzipped, {**headers, "Content-Encoding": "gzip"})
        return Served(200, found.body, headers)

    def _file(self, clean: str) -> _File | None:
        with self._lock:
            if clean not in self._files:
                self._files[clean] = self._read(clean)
            return self._files[clean]

    def _read(self, clean: str) -> _File | None:
        target = (self.root / clean.lstrip("/")).resolve()
        if not target.is_file() or self.root not in target.parents:
            return None
        body = target.read_bytes()
        content_type = CONTENT_TYPES.get(target.suffix) or (
            mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )
        compressible = content_type.startswith(COMPRESSIBLE) and len(body) > 256
        # mtime=0: the same file gives the same bytes in every container.
        gzipped = gzip.compress(body, compresslevel=9, mtime=0) if compressible else None
        inline = _inline_script_hashes(body) if target.suffix == ".html" else ()
        etag = f'W/"{hashlib.sha256(body).hexdigest()[:20]}"'
        return _File(body, gzipped, content_type, etag, inline)


def _inline_script_hashes(html: bytes) -> tuple[str, ...]:
    """CSP hash sources of the page's inline scripts: exactly the text between the tags."""
    return tuple(
        f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
        for m in INLINE_SCRIPT.finditer(html)
        if m.group(1).strip()
    )


def _normalise(path: str) -> str | None:
    """The request path without query, or None if it tries to leave the directory."""
    path = path.split("?", 1)[0] or "/"
    if "\\" in path or "\x00" in path:
        return None
    parts = PurePosixPath(path).parts
    if ".." in parts:
        return None
    return path if path.startswith("/") else "/" + path


def _matches(etag: str, if_none_match: str) -> bool:
    """RFC 9110 weak comparison: `*`, or any listed tag equal to ours ignoring `W/`."""
    if not if_none_match:
        return False
    ours = etag.removeprefix("W/")
    return any(
        tag.strip() in ("*", ours, etag) or tag.strip().removeprefix("W/") == ours
        for tag in if_none_match.split(",")
    )
