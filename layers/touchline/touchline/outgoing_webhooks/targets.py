"""Where a webhook may be sent: no server-side request forgery.

A subscriber's URL is checked when it is saved and again at every delivery, after resolving it:
every address its host resolves to must be public (`ipaddress.is_global`: not private, loopback,
link-local — the cloud metadata service at 169.254.169.254 — shared, reserved or multicast), and
the request is then made to the address that was checked, never re-resolved, so a DNS answer
that changes between the check and the connection (rebinding) cannot reach an internal host.

`https` is required. The local stack and the tests allow loopback targets, and plain `http` to
them, with `TOUCHLINE_WEBHOOKS_ALLOW_LOOPBACK=true` (the dev stack sets it; the template never
does). Nothing else private is ever allowed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
Resolver = Callable[[str, int], list[str]]


class UnsafeTarget(ValueError):
    """The URL may not receive webhooks (the message says why, for the person who entered it)."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # as written (the Host header and the TLS server name)
    port: int
    path: str  # path and query
    address: str  # the checked IP the request connects to


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeTarget(f"{host} does not resolve ({exc.strerror})") from None
    return sorted({str(info[4][0]) for info in infos})


def check_url(url: str, allow_loopback: bool = False) -> None:
    """The URL's shape (before it is saved; resolution is checked at delivery)."""
    _parts(url, allow_loopback)


def resolve_target(url: str, allow_loopback: bool = False, resolve: Resolver = system_resolver) -> Target:
    scheme, host, port, path = _parts(url, allow_loopback)
    addresses = resolve(host, port)
    if not addresses:
        raise UnsafeTarget(f"{host} does not resolve")
    for address in addresses:
        _check_address(host, address, allow_loopback)
        if scheme == "http" and not ipaddress.ip_address(address).is_loopback:
            raise UnsafeTarget("webhook URLs must use https")
    return Target(scheme, host, port, path, addresses[0])


def _parts(url: str, allow_loopback: bool) -> tuple[str, str, int, str]:
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"not a URL: {exc}") from None
    if parts.scheme not in ("https", "http"):
        raise UnsafeTarget("webhook URLs must use https")
    if parts.scheme == "http" and not allow_loopback:
        raise UnsafeTarget("webhook URLs must use https")
    if not parts.hostname:
        raise UnsafeTarget("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("the URL may not carry credentials (the signature authenticates Touchline)")
    if parts.fragment:
        raise UnsafeTarget("the URL may not have a #fragment")
    host = parts.hostname
    literal = _literal(host)
    if literal is not None:  # names are checked by what they resolve to, at every delivery
        _check_address(host, str(literal), allow_loopback)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _check_address(host: str, address: str, allow_loopback: bool) -> None:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback and allow_loopback:
        return
    if not ip.is_global or ip.is_multicast:
        raise UnsafeTarget(f"{host} resolves to {address}, which is not a public address")
