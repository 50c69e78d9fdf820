"""Each processor's signature scheme against the provider's own published vector and library."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from provider_samples import (
    PADDLE_SECRET,
    PAYLOADS,
    lemonsqueezy_headers,
    paddle_headers,
    polar_headers,
)

from touchline.revenue import signatures
from touchline.revenue.shopify_events import signature_matches

NOW = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)


def test_paddle_published_vector() -> None:
    """Paddle's SDK test: this body, this secret, this header (its `test_Verifier.py`)."""
    body = (PAYLOADS / "paddle/signed_customer.created.json").read_bytes()
    header = "ts=1710498758;h1=558bf93944dbeb4790c7a8af6cb2ea435c8ca9c8396aafc1a4e37424ac132744"
    signed_at = datetime.fromtimestamp(1710498758, UTC)
    signatures.paddle(body, header, ["pdl_ntfset_other", PADDLE_SECRET], 5, signed_at)
    with pytest.raises(signatures.BadSignature) as stale:
        signatures.paddle(body, header, [PADDLE_SECRET], 300, NOW)
    assert stale.value.stale
    with pytest.raises(signatures.BadSignature) as forged:
        signatures.paddle(body + b" ", header, [PADDLE_SECRET], 300, signed_at)
    assert not forged.value.stale


def test_our_paddle_signatures_pass_paddles_own_verifier() -> None:
    from paddle_billing.Notifications import Secret, Verifier

    body = b'{"event_id":"evt_1","event_type":"transaction.completed","data":{}}'
    headers = paddle_headers(body)
    request = SimpleNamespace(headers=headers, body=body)
    assert Verifier().verify(request, Secret(PADDLE_SECRET))
    signatures.paddle(body, headers["Paddle-Signature"], [PADDLE_SECRET], 300, datetime.now(UTC))


@pytest.mark.parametrize("header", ["", "h1=abc", "ts=123", "ts=x;h1=abc", "ts=1;h1=" + "0" * 64, "garbage"])
def test_paddle_malformed_headers_are_bad_signatures(header: str) -> None:
    with pytest.raises(signatures.BadSignature):
        signatures.paddle(b"{}", header, [PADDLE_SECRET], 300, NOW)


def test_standard_webhooks_published_vector() -> None:
    """The Standard Webhooks spec's example, through the library the Polar check signs with."""
    from standardwebhooks.webhooks import Webhook

    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    webhook = Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    when = datetime.fromtimestamp(1614265330, UTC)
    signed = webhook.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", when, '{"test": 2432232314}')
    assert signed == expected
    assert signatures._standard_match(signed, f"v1,bm90IGl0 {expected}")
    assert not signatures._standard_match(signed, "v2," + expected.partition(",")[2])


def test_polar_signatures_from_the_library_verify_and_go_stale() -> None:
    body = b'{"type":"order.paid","data":{}}'
    headers = polar_headers(body, "msg_1", secret="polar_whs_abc", at=NOW)
    signatures.standard_webhooks(body, headers, ["polar_whs_other", "polar_whs_abc"], 300, NOW)
    with pytest.raises(signatures.BadSignature) as stale:
        signatures.standard_webhooks(body, headers, ["polar_whs_abc"], 300, datetime(2027, 1, 1, tzinfo=UTC))
    assert stale.value.stale
    with pytest.raises(signatures.BadSignature) as wrong:
        signatures.standard_webhooks(body, headers, ["polar_whs_nope"], 300, datetime(2027, 1, 1, tzinfo=UTC))
    assert not wrong.value.stale  # a forgery is never reported as merely late
    broken = {**headers, "webhook-signature": "v1,not base64!! v2,abc"}
    with pytest.raises(signatures.BadSignature):
        signatures.standard_webhooks(body, broken, ["polar_whs_abc"], 300, NOW)


def test_lemonsqueezy_and_shopify_hmacs() -> None:
    body = b'{"meta":{"event_name":"order_created"}}'
    header = lemonsqueezy_headers(body, "order_created", secret="s3cret")["X-Signature"]
    signatures.lemonsqueezy(body, header.upper(), ["old", "s3cret"])
    for bad in (None, "", "00" * 32):
        with pytest.raises(signatures.BadSignature):
            signatures.lemonsqueezy(body, bad, ["s3cret"])
    assert not signature_matches(body, header, "s3cret")  # Shopify's is base64, not hex
