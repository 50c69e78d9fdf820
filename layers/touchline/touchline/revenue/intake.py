"""Revenue intake: verify, translate, enqueue, answer: one call per webhook delivery or API call.

Knows nothing of Lambda. Bad input (unknown site, no integration, bad or stale signature, body not
JSON, invalid payload, bad token) is an `IntakeError` with a 4xx status, raised before anything is
enqueued. Verification happens before the delivery is recorded as seen, so a forgery cannot
poison the dedupe record of a real delivery. Enqueue failures propagate (the caller answers 5xx,
the provider retries, the dedupe record is released).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from touchline import json_body
from touchline.errors import RequestError
from touchline.identity.suppression import NoSuppressions, SuppressionCheck, scrub_personal
from touchline.ingest.queue import EventQueue
from touchline.revenue import payments_api, shopify_events
from touchline.revenue.dedupe import Deduper, DeliveryInProgress
from touchline.revenue.money import is_listed
from touchline.revenue.rows import OrderRow, RefundRow
from touchline.revenue.translation import Translation

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# How far a signed timestamp (Stripe, Paddle, Polar) may be from now: older is a replay.
SIGNATURE_TOLERANCE_SECONDS = 300
# One status per fault, whatever the provider (docs/revenue.md): a signature that is missing,
# malformed, wrong or too old proves nothing about the sender, so it is 401; a body that is not
# what the provider documents is 400.
UNAUTHENTICATED = 401


class IntakeError(RequestError):
    """Bad input: the HTTP status and a JSON-able error the sender can act on."""


class SiteLookup(Protocol):
    def exists(self, site_id: str) -> bool: ...


class SecretLookup(Protocol):
    def get(self, site_id: str, provider: str) -> list[str] | None: ...


class TokenLookup(Protocol):
    def site_for(self, token: str) -> str | None: ...


class RevenueIntake:
    def __init__(
        self,
        sites: SiteLookup,
        secrets: SecretLookup,
        tokens: TokenLookup,
        queue: EventQueue,
        deduper: Deduper,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        signature_tolerance_seconds: int = SIGNATURE_TOLERANCE_SECONDS,
        suppressions: SuppressionCheck | None = None,
    ) -> None:
        self._suppressions = suppressions or NoSuppressions()
        self._sites = sites
        self._secrets = secrets
        self._tokens = tokens
        self._queue = queue
        self._deduper = deduper
        self._clock = clock
        self._tolerance = signature_tolerance_seconds

    # ------------------------------------------------------------------ Stripe

    def stripe(self, site_id: str, body: bytes, signature: str | None) -> dict[str, Any]:
        secrets = self._integration_secrets(site_id, "stripe", body)
        verify_stripe(_utf8(body), signature, secrets, self._tolerance)
        from touchline.revenue import stripe_events

        data = _json_object(body)
        try:
            event = stripe_events.StripeEvent.model_validate(data)
            translation = stripe_events.translate(site_id, event)
        except (ValidationError, ValueError) as exc:
            raise _invalid("invalid_event", "not a Stripe event this endpoint understands", exc) from None
        return self._deliver({"site": site_id, "provider": "stripe", "id": event.id}, translation)

    # ------------------------------------------------------------------ Shopify

    def shopify(self, site_id: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        secrets = self._integration_secrets(site_id, "shopify", body)
        _utf8(body)
        signature = headers.get("x-shopify-hmac-sha256")
        if not any(shopify_events.signature_matches(body, signature, secret) for secret in secrets):
            raise IntakeError(
                UNAUTHENTICATED,
                "invalid_signature",
                "X-Shopify-Hmac-Sha256 is missing or does not match the body and the app secret",
            )
        topic = headers.get("x-shopify-topic", "")
        delivery = headers.get("x-shopify-webhook-id", "")
        if not topic or not delivery:
            raise IntakeError(400, "missing_header", "X-Shopify-Topic and X-Shopify-Webhook-Id are required")
        data = _json_object(body)
        try:
            translation = shopify_events.translate(site_id, topic, data)
        except (ValidationError, ValueError) as exc:
            raise _invalid(
                "invalid_event", f"not a Shopify {topic} payload this endpoint understands", exc
            ) from None
        return self._deliver({"site": site_id, "provider": "shopify", "id": delivery}, translation)

    # ------------------------------------------------------------------ Lemon Squeezy, Polar, Paddle

    def webhook(self, provider: str, site_id: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        """A delivery to `POST /webhooks/<provider>/{site_id}` for a provider of `PROCESSORS`."""
        from touchline.revenue.processors import PROCESSORS
        from touchline.revenue.signatures import BadSignature

        processor = PROCESSORS.get(provider)
        if processor is None:
            raise IntakeError(404, "unknown_provider", f"no webhook endpoint for {provider!r}")
        secrets = self._integration_secrets(site_id, provider, body)
        _utf8(body)
        try:
            processor.verify(body, headers, secrets, self._tolerance, self._clock())
        except BadSignature as exc:
            if exc.stale:
                raise _stale(self._tolerance) from None
            raise IntakeError(UNAUTHENTICATED, "invalid_signature", str(exc)) from None
        data = _json_object(body)
        try:
            delivery = processor.delivery_id(body, headers, data)
            translation = processor.translate(site_id, data)
        except (ValidationError, ValueError) as exc:
            raise _invalid(
                "invalid_event", f"not a {provider} webhook this endpoint understands", exc
            ) from None
        if not delivery:
            raise IntakeError(400, "missing_header", f"{provider} deliveries must name their delivery id")
        return self._deliver({"site": site_id, "provider": provider, "id": delivery}, translation)

    # ------------------------------------------------------------------ payments API

    def payment(self, authorization: str | None, body: bytes) -> dict[str, Any]:
        scheme, _, token = (authorization or "").strip().partition(" ")
        site_id = self._tokens.site_for(token.strip()) if scheme.lower() == "bearer" and token else None
        if site_id is None:
            raise IntakeError(
                401, "unauthorized", "send Authorization: Bearer <token> (touchline tokens create)"
            )
        _check_size(body)
        data = _json_object(body)
        try:
            payment = payments_api.PaymentIn.model_validate(data)
        except ValidationError as exc:
            raise _invalid("invalid_payment", "invalid payment", exc) from None
        translation = payments_api.translate(site_id, payment, self._clock())
        key = {
            "site": site_id,
            "provider": "api",
            "id": payment.transaction_id,
            "body": hashlib.sha256(body).hexdigest(),
        }
        return {**self._deliver(key, translation), "order_id": payment.transaction_id}

    # ------------------------------------------------------------------ shared

    def _integration_secrets(self, site_id: str, provider: str, body: bytes) -> list[str]:
        _check_size(body)
        if not self._sites.exists(site_id):
            raise IntakeError(404, "unknown_site", f"no site {site_id!r} is registered")
        secrets = self._secrets.get(site_id, provider)
        if not secrets:
            raise IntakeError(
                404,
                "integration_not_configured",
                f"site {site_id} has no {provider} integration "
                f"(touchline integrations add {provider} {site_id} --secret …)",
            )
        return secrets

    def _deliver(self, key: dict[str, str], translation: Translation) -> dict[str, Any]:
        if not translation.handled:
            return {"ok": True, "ignored": translation.kind}

        # A deleted person's order is kept for accounting, without their identifiers (GDPR).
        translation.rows = scrub_personal(key["site"], translation.rows, self._suppressions)
        unlisted = flag_unlisted_currencies(translation)
        if unlisted:
            log.warning(
                "stored %s delivery %s with currency %s, not in ISO 4217 (currency_unlisted = 1)",
                key["provider"],
                key["id"],
                ",".join(unlisted),
            )

        def enqueue() -> dict[str, Any]:
            bodies = translation.bodies()
            if bodies:
                self._queue.send(bodies)
            answer: dict[str, Any] = {"ok": True, "rows": len(bodies)}
            return {**answer, "unlisted_currencies": unlisted} if unlisted else answer

        try:
            result = self._deduper.once(key, enqueue)
        except DeliveryInProgress:
            raise IntakeError(409, "in_progress", "this delivery is being processed; retry later") from None
        return result


def verify_stripe(payload: str, header: str | None, secrets: list[str], tolerance: int) -> None:
    """`Stripe-Signature` checked by the stripe library against each of the site's secrets."""
    from stripe import SignatureVerificationError, WebhookSignature

    if not header:
        raise IntakeError(UNAUTHENTICATED, "invalid_signature", "the Stripe-Signature header is missing")
    stale = False
    for secret in secrets:
        try:
            WebhookSignature.verify_header(payload, header, secret, tolerance)
            return
        except SignatureVerificationError as exc:
            stale = stale or "tolerance" in str(exc)
    if stale:
        raise _stale(tolerance)
    raise IntakeError(
        UNAUTHENTICATED,
        "invalid_signature",
        "Stripe-Signature does not match the body and the endpoint secret",
    )


def _stale(tolerance: int) -> IntakeError:
    return IntakeError(
        UNAUTHENTICATED,
        "stale_timestamp",
        f"the signature is more than {tolerance} s old (a replay?); not accepted",
    )


def _check_size(body: bytes) -> None:
    if len(body) > MAX_BODY_BYTES:
        raise IntakeError(413, "body_too_large", f"request body exceeds {MAX_BODY_BYTES} bytes")


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise IntakeError(400, "invalid_json", "request body is not UTF-8 JSON") from None


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json_body.loads(body)
    except json_body.JsonBodyError as exc:
        raise IntakeError(400, "invalid_json", f"request body is {exc}") from None
    if not isinstance(data, dict):
        raise IntakeError(400, "invalid_json", "request body must be a JSON object")
    return data


def _invalid(code: str, message: str, exc: Exception) -> IntakeError:
    if isinstance(exc, ValidationError):
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
        return IntakeError(400, code, f"{message}: {summary}", problems[:20])
    return IntakeError(400, code, f"{message}: {exc}")


class KnownSites:
    """Site id → registered?, cached (yes for `ttl_seconds`, no for 5 s at most)."""

    def __init__(
        self,
        lookup: Callable[[str], object | None],
        ttl_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl_seconds
        self._negative_ttl = min(ttl_seconds, 5.0)
        self._clock = clock
        self._cache: dict[str, tuple[float, bool]] = {}

    def exists(self, site_id: str) -> bool:
        if not site_id or len(site_id) > 64:
            return False
        now = self._clock()
        cached = self._cache.get(site_id)
        if cached and cached[0] > now:
            return cached[1]
        found = self._lookup(site_id) is not None
        if len(self._cache) >= 10_000:
            self._cache.clear()
        self._cache[site_id] = (now + (self._ttl if found else self._negative_ttl), found)
        return found


def flag_unlisted_currencies(translation: Translation) -> list[str]:
    """Flag the orders and refunds whose currency is not in ISO 4217 (`currency_unlisted`), and
    say which codes: a signed provider's money is stored as sent, never refused or lost (the
    payments API refuses such a code before it gets here). Issue 13, docs/revenue.md."""
    unlisted: set[str] = set()
    for index, (table, row) in enumerate(translation.rows):
        if isinstance(row, OrderRow | RefundRow) and not is_listed(row.currency):
            unlisted.add(row.currency)
            translation.rows[index] = (table, row.model_copy(update={"currency_unlisted": 1}))
    return sorted(unlisted)
