"""`Touchline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, Stripe's
scheme: the timestamp is signed with the body, so a captured request cannot be replayed later
than the receiver's tolerance (docs/webhooks.md has receivers in Python and JavaScript).
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Touchline-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The header is missing, malformed, too old, or no signature in it matches."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body` now (or at `timestamp`)."""
    at = int(time.time()) if timestamp is None else timestamp
    return f"t={at},v1={signature(secret, at, body)}"


def verify(
    secrets: str | list[str],
    body: bytes,
    header: str | None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """The signed timestamp if one `v1` matches one of `secrets` (several during a rotation)."""
    if not header:
        raise SignatureError("no Touchline-Signature header")
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    stamps = [value for key, value in parts if key.strip() == "t"]
    candidates = [value.strip() for key, value in parts if key.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit() or not candidates:
        raise SignatureError("malformed Touchline-Signature header")
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance")
    for secret in [secrets] if isinstance(secrets, str) else secrets:
        expected = signature(secret, timestamp, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            return timestamp
    raise SignatureError("no signature matches")
