"""Webhook signature schemes of the payment processors, each as its provider documents it.

Every check compares in constant time and tries each of the site's secrets (a rotation keeps the
old and the new one for a while). A mismatch raises `BadSignature`; a genuine signature that is
older (or newer) than the tolerance raises it with `stale=True`, which the intake answers as a
replay. Stripe's scheme is verified by the stripe library (`intake.verify_stripe`), Polar's
(Standard Webhooks) by the `standardwebhooks` library; Shopify's and Lemon Squeezy's are plain
HMACs of the body, Paddle's an HMAC of `ts:body`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime


class BadSignature(Exception):
    """The delivery is not signed with any of the site's secrets (or, `stale`, signed too long ago)."""

    def __init__(self, message: str, *, stale: bool = False) -> None:
        super().__init__(message)
        self.stale = stale


def _hmac(secret: str, data: bytes) -> bytes:
    return hmac.new(secret.encode(), data, hashlib.sha256).digest()


def lemonsqueezy(body: bytes, header: str | None, secrets: list[str]) -> None:
    """`X-Signature`: hex HMAC-SHA256 of the raw body with the webhook's signing secret.

    https://docs.lemonsqueezy.com/help/webhooks/signing-requests
    """
    if not header:
        raise BadSignature("the X-Signature header is missing")
    given = header.strip().lower().encode()
    if not any(hmac.compare_digest(_hmac(secret, body).hex().encode(), given) for secret in secrets):
        raise BadSignature("X-Signature does not match the body and the signing secret")


def paddle(body: bytes, header: str | None, secrets: list[str], tolerance: int, now: datetime) -> None:
    """`Paddle-Signature: ts=<unix>;h1=<hex HMAC-SHA256 of "<ts>:<body>">` (several h1 during a
    secret rotation). https://developer.paddle.com/webhooks/signature-verification"""
    if not header:
        raise BadSignature("the Paddle-Signature header is missing")
    timestamp, hashes = "", []
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == "ts":
            timestamp = value
        elif key == "h1":
            hashes.append(value.strip().lower().encode())
    if not timestamp.isdigit() or not hashes:
        raise BadSignature("Paddle-Signature must carry ts=… and h1=…")
    signed = timestamp.encode() + b":" + body
    expected = [_hmac(secret, signed).hex().encode() for secret in secrets]
    if not any(hmac.compare_digest(e, h) for e in expected for h in hashes):
        raise BadSignature("Paddle-Signature does not match the body and the notification secret")
    if abs(now.timestamp() - int(timestamp)) > tolerance:
        raise BadSignature(f"signed more than {tolerance} s from now", stale=True)


def standard_webhooks(
    body: bytes, headers: Mapping[str, str], secrets: list[str], tolerance: int, now: datetime
) -> None:
    """Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`), as
    Polar sends them. Polar's secret is used as raw bytes: its SDK base64-encodes it before handing
    it to the library, which decodes it again. https://www.standardwebhooks.com ,
    https://polar.sh/docs/integrate/webhooks/endpoints"""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    if not all(headers.get(name) for name in ("webhook-id", "webhook-timestamp", "webhook-signature")):
        raise BadSignature("webhook-id, webhook-timestamp and webhook-signature are required")
    stamp = headers["webhook-timestamp"].strip()
    if not stamp.isdigit():
        raise BadSignature("webhook-timestamp is not a Unix time")
    stale = abs(now.timestamp() - int(stamp)) > tolerance
    text = body.decode("utf-8")
    for secret in secrets:
        webhook = Webhook(base64.b64encode(secret.encode()).decode())
        try:
            # The library refuses timestamps over 5 minutes away itself; our tolerance is applied
            # after the signature matched, so a forgery is never reported as merely stale.
            expected = webhook.sign(headers["webhook-id"], datetime.fromtimestamp(int(stamp), UTC), text)
        except (WebhookVerificationError, ValueError, OverflowError):
            continue
        if _standard_match(expected, headers["webhook-signature"]):
            if stale:
                raise BadSignature(f"signed more than {tolerance} s from now", stale=True)
            return
    raise BadSignature("webhook-signature does not match the body and the webhook secret")


def _standard_match(expected: str, header: str) -> bool:
    want = base64.b64decode(expected.partition(",")[2])
    for candidate in header.split():
        version, _, signature = candidate.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(want, given):
            return True
    return False
