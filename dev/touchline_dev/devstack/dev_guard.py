"""Refuse `/_dev/*` requests that a web page could forge (issue 13).

`/_dev/sql` runs any SQL on the embedded ClickHouse (`INSERT INTO FUNCTION url(…)` can send rows
anywhere) and `/_dev/invoke` runs any function: a page the developer visits must not reach them.
A browser can send a cross-site POST without asking (a "simple" request: `text/plain`, a form),
and DNS rebinding can make a hostile name resolve to 127.0.0.1. So a dev route answers only a
request that

* names a loopback host (or the host the stack was bound to) in `Host`: a rebound name fails;
* carries no foreign `Origin` and no cross-site `Sec-Fetch-Site`: what browsers add to every
  cross-origin POST and fetch;
* for anything but GET/HEAD, is `Content-Type: application/json`: a page can send that only
  after a CORS preflight, which the dev routes never grant (no CORS headers on `/_dev/*`).

The CLI, the tests and curl send none of the browser headers, and send JSON.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .http_gateway import HttpRequest

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_ANY_ADDRESS = frozenset({"", "0.0.0.0", "::"})


class DevRouteGuard:
    def __init__(self, bound_host: str = "127.0.0.1") -> None:
        host = bound_host.strip("[]").lower()
        self.hosts = LOOPBACK if host in _ANY_ADDRESS else LOOPBACK | {host}

    def refusal(self, request: HttpRequest) -> str | None:
        """None when the request may run; else why not (the gateway answers 403)."""
        host = hostname(request.header("host") or "")
        if host not in self.hosts:
            return f"Host {request.header('host')!r} is not this machine (dev routes answer loopback only)"
        origin = request.header("origin")
        if origin is not None and origin_authority(origin) != (request.header("host") or "").strip().lower():
            return f"cross-origin request from {origin!r} refused"
        fetch_site = (request.header("sec-fetch-site") or "none").lower()
        if fetch_site not in {"none", "same-origin"}:
            return f"Sec-Fetch-Site {fetch_site!r} refused"
        if request.method.upper() not in {"GET", "HEAD"}:
            media = (request.header("content-type") or "").split(";", 1)[0].strip().lower()
            if media != "application/json":
                return "dev routes take Content-Type: application/json only"
        return None


def hostname(host_header: str) -> str:
    """`127.0.0.1:3000` → `127.0.0.1`; `[::1]:3000` → `::1`."""
    try:
        return (urlsplit("//" + host_header.strip()).hostname or "").lower()
    except ValueError:
        return ""


def origin_authority(origin: str) -> str:
    """`http://127.0.0.1:3000` → `127.0.0.1:3000`; `null` and other schemes → ``."""
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return ""
    return parts.netloc.lower() if parts.scheme in {"http", "https"} else ""
