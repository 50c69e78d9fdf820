"""The management side of outgoing webhooks: a site's subscribers, their delivery log and the
"send test event" action, authorised and audited through `Accounts` (`webhooks:read` /
`webhooks:write`, granted like integrations: owners, admins and editors). docs/webhooks.md.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from touchline.accounts.permissions import Permission
from touchline.errors import RequestError
from touchline.ingest.queue import EventQueue
from touchline.outgoing_webhooks.dispatch import queued_event
from touchline.outgoing_webhooks.events import EVENT_TYPES, TEST_EVENT, OutgoingEvent, event_id
from touchline.outgoing_webhooks.log import read_deliveries
from touchline.outgoing_webhooks.subscriptions import MAX_PER_SITE, Subscription, SubscriptionStore
from touchline.outgoing_webhooks.targets import Resolver, UnsafeTarget, resolve_target, system_resolver
from touchline.warehouse.sql import Sql

if TYPE_CHECKING:
    from touchline.accounts.service import Accounts, Caller

P = Permission


@dataclass
class Webhooks:
    accounts: Accounts
    store: SubscriptionStore
    queue: EventQueue | None = None  # the outgoing webhooks queue ("send test event")
    allow_loopback: bool = False
    warehouse: Callable[[], Sql] | None = None
    resolve: Resolver = system_resolver

    def of_site(self, caller: Caller, site_id: str) -> list[Subscription]:
        site = self.accounts.site_for(caller, site_id, P.WEBHOOKS_READ)
        return self.store.list(site.site_id)

    def get(self, caller: Caller, webhook_id: str) -> Subscription:
        return self._find(caller, webhook_id, P.WEBHOOKS_READ)[1]

    def create(
        self, caller: Caller, site_id: str, url: str, events: Iterable[str], description: str = ""
    ) -> tuple[Subscription, str]:
        """The subscription and its signing secret (returned this once)."""
        site = self.accounts.site_for(caller, site_id, P.WEBHOOKS_WRITE, "webhook.create")
        wanted = self._events(events)
        self._check(url)
        if len(self.store.list(site.site_id)) >= MAX_PER_SITE:
            raise RequestError(409, "limit_reached", f"a site has at most {MAX_PER_SITE} webhooks")
        if self.accounts.secrets is None:
            raise RuntimeError("no Secrets Manager client configured")
        subscription, secret = self.store.create(
            site.site_id,
            url,
            wanted,
            self.accounts.secrets,
            description=description,
            created_by=caller.principal.email or caller.principal.id,
        )
        self.accounts.record(
            caller,
            "webhook.create",
            org_id=site.org_id,
            site_id=site.site_id,
            target=("webhook", subscription.webhook_id),
            details={"url": url, "events": sorted(wanted)},
        )
        return subscription, secret

    def update(
        self,
        caller: Caller,
        webhook_id: str,
        *,
        url: str | None = None,
        events: Iterable[str] | None = None,
        description: str | None = None,
        active: bool | None = None,
    ) -> Subscription:
        site, _ = self._find(caller, webhook_id, P.WEBHOOKS_WRITE, "webhook.update")
        wanted = self._events(events) if events is not None else None
        if url is not None:
            self._check(url)
        changed = self.store.update(
            webhook_id, url=url, events=wanted, description=description, active=active
        )
        if changed is None:
            from touchline.accounts.service import not_found

            raise not_found("webhook")
        details: dict[str, Any] = {
            k: v
            for k, v in (("url", url), ("active", active), ("events", sorted(wanted) if wanted else None))
            if v is not None
        }
        self.accounts.record(
            caller,
            "webhook.update",
            org_id=site.org_id,
            site_id=site.site_id,
            target=("webhook", webhook_id),
            details=details,
        )
        return changed

    def delete(self, caller: Caller, webhook_id: str) -> None:
        site, subscription = self._find(caller, webhook_id, P.WEBHOOKS_WRITE, "webhook.delete")
        self.store.delete(subscription, self.accounts.secrets)
        self.accounts.record(
            caller, "webhook.delete", org_id=site.org_id, site_id=site.site_id, target=("webhook", webhook_id)
        )

    def send_test(self, caller: Caller, webhook_id: str) -> OutgoingEvent:
        """Queue a `webhook.test` event for this subscriber, through the same delivery path
        (signature, retries, log) as every other event; its id is new each time."""
        site, _ = self._find(caller, webhook_id, P.WEBHOOKS_WRITE, "webhook.test")
        if self.queue is None:
            raise RequestError(503, "unavailable", "the outgoing webhooks queue is not configured")
        event = OutgoingEvent(
            id=event_id(site.site_id, TEST_EVENT, webhook_id, uuid.uuid4()),
            type=TEST_EVENT,
            created=int(time.time()),
            site_id=site.site_id,
            livemode=False,
            data={"webhook_id": webhook_id, "message": "A test event from Touchline: your endpoint works."},
        )
        self.queue.send([queued_event(event, webhook_id, site.site_id)])
        self.accounts.record(
            caller,
            "webhook.test",
            org_id=site.org_id,
            site_id=site.site_id,
            target=("webhook", webhook_id),
            details={"event_id": event.id},
        )
        return event

    def deliveries(
        self, caller: Caller, webhook_id: str, limit: int = 50, event: str | None = None
    ) -> list[dict[str, Any]]:
        site, _ = self._find(caller, webhook_id, P.WEBHOOKS_READ)
        if self.warehouse is None:
            raise RuntimeError("no warehouse configured")
        return read_deliveries(self.warehouse(), site.site_id, webhook_id, limit, event)

    def _find(
        self, caller: Caller, webhook_id: str, permission: Permission, action: str = ""
    ) -> tuple[Any, Subscription]:
        from touchline.accounts.service import not_found

        found = self.store.get(webhook_id) if _plausible(webhook_id) else None
        if found is None:
            raise not_found("webhook")
        site = self.accounts.site_for(caller, found.site_id, permission, action)
        return site, found

    def _events(self, events: Iterable[str]) -> frozenset[str]:
        wanted = frozenset(events)
        unknown = sorted(wanted - set(EVENT_TYPES))
        if unknown or not wanted:
            raise RequestError(
                400,
                "invalid_request",
                f"events must be some of {', '.join(EVENT_TYPES)}"
                + (f" (not {', '.join(unknown)})" if unknown else ""),
            )
        return wanted

    def _check(self, url: str) -> None:
        """Refused now if it cannot receive (checked again, resolved afresh, at every delivery)."""
        try:
            resolve_target(url, self.allow_loopback, self.resolve)
        except UnsafeTarget as exc:
            raise RequestError(400, "invalid_request", f"url: {exc}") from None


def _plausible(value: str) -> bool:
    return 0 < len(value) <= 64 and value.replace("_", "").isalnum()
