"""The webhook processors besides Stripe and Shopify: how each signs, names a delivery, translates.

One entry per provider behind `POST /webhooks/<provider>/{site_id}`; the intake runs the same
steps for all of them (size, site, integration, signature, JSON, translation, once per delivery).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from touchline.revenue import lemonsqueezy_events, paddle_events, polar_events, signatures
from touchline.revenue.translation import Translation

Headers = Mapping[str, str]


@dataclass(frozen=True)
class Processor:
    name: str
    # Raises signatures.BadSignature; arguments: body, headers, secrets, tolerance (s), now.
    verify: Callable[[bytes, Headers, list[str], int, datetime], None]
    # The delivery's identity for the once-per-delivery record (a retry repeats it).
    delivery_id: Callable[[bytes, Headers, dict[str, Any]], str]
    translate: Callable[[str, dict[str, Any]], Translation]


def _lemonsqueezy_id(body: bytes, headers: Headers, data: dict[str, Any]) -> str:
    event = lemonsqueezy_events.LemonSqueezyEvent.model_validate(data)
    return lemonsqueezy_events.delivery_id(event, hashlib.sha256(body).hexdigest())


PROCESSORS: dict[str, Processor] = {
    "lemonsqueezy": Processor(
        "lemonsqueezy",
        lambda body, headers, secrets, tolerance, now: signatures.lemonsqueezy(
            body, headers.get("x-signature"), secrets
        ),
        _lemonsqueezy_id,
        lemonsqueezy_events.translate,
    ),
    "polar": Processor(
        "polar",
        signatures.standard_webhooks,
        lambda body, headers, data: headers.get("webhook-id", ""),
        polar_events.translate,
    ),
    "paddle": Processor(
        "paddle",
        lambda body, headers, secrets, tolerance, now: signatures.paddle(
            body, headers.get("paddle-signature"), secrets, tolerance, now
        ),
        lambda body, headers, data: paddle_events.PaddleNotification.model_validate(data).delivery_id,
        paddle_events.translate,
    ),
}
