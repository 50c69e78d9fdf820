"""One delivery attempt: check the subscriber, sign, POST, log; then retry later or give up.

    subscription still there and active? → target public (SSRF)? → sign → POST (timeout)
      2xx  → delivered: failure count back to 0
      else → failed: failure count +1 (the N-th in a row disables the subscription), and
             attempt < max: the same message again, attempt + 1, after base x 2^(attempt-1) s
             otherwise (or disabled): the message into the dead-letter queue (redrive it after
             fixing the receiver: nothing is lost)

Retries are new messages sent with SQS `DelaySeconds` (at most 900 s per hop) rather than the
queue's visibility timeout, so each attempt's delay is its own and the original message is
deleted once its successor is queued; a crash before that (or an error of this code) leaves the
original to SQS, which redelivers it and, after the queue's maxReceiveCount, moves it to the
dead-letter queue. Every copy carries the event's id: receivers deduplicate on it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from touchline.envelope import envelope_json
from touchline.ingest.queue import EventQueue
from touchline.outgoing_webhooks import signing
from touchline.outgoing_webhooks.dispatch import DeliveryMessage
from touchline.outgoing_webhooks.events import TEST_EVENT
from touchline.outgoing_webhooks.log import DeliveryRow, Outcome, delivery_id
from touchline.outgoing_webhooks.sender import Sender, Sent
from touchline.outgoing_webhooks.subscriptions import SecretCache, SubscriptionStore
from touchline.outgoing_webhooks.targets import Resolver, UnsafeTarget, resolve_target, system_resolver

MAX_DELAY_SECONDS = 900  # SQS DelaySeconds' limit


class DelayedQueue(Protocol):
    def send_later(self, body: str, delay_seconds: int) -> None: ...


@dataclass(frozen=True)
class DeliverySettings:
    timeout_seconds: float = 10.0
    max_attempts: int = 12
    retry_base_seconds: float = 30.0
    disable_after: int = 50
    allow_loopback: bool = False


def retry_delay(attempt: int, base: float, jitter: Callable[[], float] = random.random) -> int:
    """Seconds before attempt `attempt + 1`: base x 2^(attempt-1), ±10 %, at most 900."""
    delay = base * (2 ** (attempt - 1))
    return int(min(MAX_DELAY_SECONDS, max(0.0, delay * (0.9 + 0.2 * jitter()))))


class Deliverer:
    def __init__(
        self,
        subscriptions: SubscriptionStore,
        secrets: SecretCache,
        sender: Sender,
        log: EventQueue,
        retries: DelayedQueue,
        dead_letters: DelayedQueue,
        settings: DeliverySettings,
        resolve: Resolver = system_resolver,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._subscriptions = subscriptions
        self._secrets = secrets
        self._sender = sender
        self._log = log
        self._retries = retries
        self._dead = dead_letters
        self._settings = settings
        self._resolve = resolve
        self._clock = clock

    def deliver(self, message: DeliveryMessage) -> Outcome:
        event = message.event
        subscription = self._subscriptions.get(message.webhook_id)
        if subscription is None or subscription.site_id != message.site_id:
            return self._record(message, "skipped", error="the subscription was deleted")
        if not subscription.active:
            self._dead.send_later(message.model_dump_json(), 0)
            return self._record(message, "skipped", error=f"not delivered: {subscription.disabled_reason}")
        if event.type != TEST_EVENT and event.type not in subscription.events:
            return self._record(message, "skipped", error=f"no longer subscribed to {event.type}")
        started = self._clock()
        try:
            target = resolve_target(subscription.url, self._settings.allow_loopback, self._resolve)
        except UnsafeTarget as exc:
            sent = Sent(0, f"refused target: {exc}", "", 0.0)
        else:
            body = event.body()
            headers = {
                signing.HEADER: signing.sign(self._secrets.get(subscription.secret_name), body),
                "Touchline-Event-Id": event.id,
                "Touchline-Event-Type": event.type,
                "Touchline-Webhook-Id": subscription.webhook_id,
                "Touchline-Delivery-Attempt": str(message.attempt),
            }
            sent = self._sender.post(target, body, headers, self._settings.timeout_seconds)
        if sent.ok:
            self._subscriptions.record_success(subscription.webhook_id, sent.status)
            return self._record(message, "delivered", sent, started)
        error = sent.error or f"HTTP {sent.status}"
        failures = self._subscriptions.record_failure(
            subscription.webhook_id, sent.status, error, self._settings.disable_after
        )
        if message.attempt >= self._settings.max_attempts or failures.disabled:
            reason = "disabled" if failures.disabled else f"{message.attempt} attempts"
            self._dead.send_later(message.model_dump_json(), 0)
            return self._record(message, "gave_up", sent, started, error=f"{error} (gave up: {reason})")
        delay = retry_delay(message.attempt, self._settings.retry_base_seconds)
        retry = message.model_copy(update={"attempt": message.attempt + 1})
        self._retries.send_later(retry.model_dump_json(), delay)
        return self._record(message, "failed", sent, started, error=error, retry_in=delay)

    def _record(
        self,
        message: DeliveryMessage,
        outcome: Outcome,
        sent: Sent | None = None,
        started: datetime | None = None,
        *,
        error: str = "",
        retry_in: int = 0,
    ) -> Outcome:
        row = DeliveryRow(
            site_id=message.site_id,
            webhook_id=message.webhook_id,
            delivery_id=delivery_id(message.webhook_id, message.event.id, message.attempt),
            event_id=message.event.id,
            event_type=message.event.type,
            attempt=message.attempt,
            attempted_at=started or self._clock(),
            outcome=outcome,
            http_status=sent.status if sent else 0,
            error=(error or (sent.error if sent else ""))[:500],
            duration_ms=int((sent.seconds if sent else 0) * 1000),
            response_body=(sent.body if sent else "")[:1024],
            retry_in_seconds=retry_in,
        )
        self._log.send([envelope_json("webhook_deliveries", row)])
        return outcome
