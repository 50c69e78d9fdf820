"""Where events come from: one source per event type, each a read of ClickHouse since a position.

A source answers "what happened on this site after `since` and up to `until`" as events whose ids
are derived from what they are about (`events.event_id`), so reading a window twice sends the
same ids again and never different ones. Row sources count positions in `inserted_at`
milliseconds (when the loader stored the row, so late and redelivered rows are seen):

- `purchase.created`: an order whose first paid version was stored in the window (one event per
  order, however many versions Stripe's several events write);
- `purchase.refunded`: a refund first stored in the window;
- `visitor.identified`: a new link between a visitor (or anonymous id) and a user id or email
  hash (the tag's `identify`, the tracking API's `identify`/`alias`/calls with both ids);
- `goal.completed`: a completion (`goal_conversions`) of a hit stored in the window, read only
  once the aggregation has sessionised it (its position is also capped by the aggregation's);
- `attribution.updated`: counts in the aggregation's credit versions instead, and compares each
  order's credits with what it last sent (`webhook_attribution_state`).

Adding a row source is one `_RowSource` subclass (its SELECT, how a row reads) and a line in
`sources()`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

from touchline.config.attribution_settings import AttributionSettings
from touchline.config.watermarks import Watermark
from touchline.goals.conversions import goal_conversions
from touchline.outgoing_webhooks.events import OutgoingEvent, event_id
from touchline.warehouse.sql import Sql

WINDOW = (
    "inserted_at > fromUnixTimestamp64Milli(toInt64({since:Int64}), 'UTC') "
    "AND inserted_at <= fromUnixTimestamp64Milli(toInt64({until:Int64}), 'UTC')"
)


class Source(Protocol):
    name: str  # its watermark: `WATERMARK#webhooks:<name>` under the site
    event_type: str

    def position(self, sql: Sql, site_id: str, now_ms: int) -> int:
        """How far this source may read now (`until`)."""
        ...

    def start(self, sql: Sql, site_id: str, created_ms: int, until: int) -> int:
        """Where a site's first pass starts (the first subscription's creation, by default)."""
        ...

    def read(self, sql: Sql, site_id: str, since: int, until: int) -> list[OutgoingEvent]: ...

    def sent(self, sql: Sql, site_id: str, events: list[OutgoingEvent], until: int) -> None:
        """Called once the events are queued (sources that remember what they sent)."""
        ...


def _ms(value: Any) -> int:
    return int(value)


def _iso(value: Any) -> str | None:
    if not isinstance(value, datetime):
        return None
    at = value if value.tzinfo else value.replace(tzinfo=UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _money(value: Any) -> str:
    """Major units as text, exactly: two places unless the amount has more (`12.50`, `0.125`)."""
    amount = Decimal(str(value))
    cents = amount.quantize(Decimal("0.01"))
    return f"{cents:f}" if cents == amount else f"{amount.normalize():f}"


class Described(NamedTuple):
    """One row as an event: what identifies it (its id's key), when it was stored, its data."""

    key: tuple[object, ...]
    created_ms: int
    data: dict[str, Any]
    livemode: bool = True


class _RowSource:
    """Sources whose position is `inserted_at`: read up to now minus the settle margin. A
    subclass names its SELECT (or overrides `rows`) and says how one row reads (`describe`)."""

    name = ""
    event_type = ""
    SQL = ""

    def __init__(self, settle_ms: int = 5000) -> None:
        self.settle_ms = settle_ms

    def position(self, sql: Sql, site_id: str, now_ms: int) -> int:
        return now_ms - self.settle_ms

    def start(self, sql: Sql, site_id: str, created_ms: int, until: int) -> int:
        return created_ms

    def sent(self, sql: Sql, site_id: str, events: list[OutgoingEvent], until: int) -> None:
        return None

    def parameters(self, site_id: str, since: int, until: int) -> dict[str, Any]:
        return {"site": site_id, "since": since, "until": until}

    def rows(self, sql: Sql, site_id: str, since: int, until: int) -> Iterable[Any]:
        return sql.rows(self.SQL, self.parameters(site_id, since, until))

    def describe(self, row: Any) -> Described:
        raise NotImplementedError

    def read(self, sql: Sql, site_id: str, since: int, until: int) -> list[OutgoingEvent]:
        events = []
        for row in self.rows(sql, site_id, since, until):
            described = self.describe(row)
            events.append(
                OutgoingEvent(
                    id=event_id(site_id, self.event_type, *described.key),
                    type=self.event_type,
                    created=_ms(described.created_ms) // 1000,
                    site_id=site_id,
                    livemode=described.livemode,
                    data=described.data,
                )
            )
        return events


ORDER_COLUMNS = (
    "payment_id",
    "status",
    "is_test",
    "ordered_at",
    "currency",
    "amount",
    "subtotal",
    "discount_amount",
    "tax_amount",
    "shipping_amount",
    "item_count",
    "discount_code",
    "visitor_id",
    "customer_id_type",
    "customer_id",
    "email_sha256",
    "is_subscription",
    "renewal",
    "subscription_id",
)
MONEY = {"amount", "subtotal", "discount_amount", "tax_amount", "shipping_amount"}


class PurchaseCreated(_RowSource):
    name = "purchases"
    event_type = "purchase.created"

    SQL = f"""
        SELECT source, order_id,
               {", ".join(f"argMax({c}, version)" for c in ORDER_COLUMNS)},
               toUnixTimestamp64Milli(minIf(inserted_at, status = 'paid' AND is_deleted = 0)) AS first_paid
        FROM orders
        WHERE site_id = {{site:String}}
          AND (source, order_id) IN (
              SELECT source, order_id FROM orders WHERE site_id = {{site:String}} AND {WINDOW})
        GROUP BY source, order_id
        HAVING first_paid > {{since:Int64}} AND first_paid <= {{until:Int64}}
           AND argMax(is_deleted, version) = 0
        ORDER BY first_paid, source, order_id
    """

    def describe(self, row: Any) -> Described:
        source, order_id, *values, first_paid = row
        data: dict[str, Any] = {"source": source, "order_id": order_id}
        for column, value in zip(ORDER_COLUMNS, values, strict=True):
            if column in MONEY:
                data[column] = _money(value)
            elif column == "ordered_at":
                data[column] = _iso(value)
            elif column in ("is_test", "is_subscription", "renewal"):
                data[column] = bool(value)
            else:
                data[column] = value
        return Described((source, order_id), first_paid, {"order": data}, not data["is_test"])


REFUND_COLUMNS = ("order_id", "payment_id", "kind", "refunded_at", "currency", "amount", "reason", "is_test")


class PurchaseRefunded(_RowSource):
    name = "refunds"
    event_type = "purchase.refunded"

    SQL = f"""
        SELECT source, refund_id,
               {", ".join(f"argMax({c}, version)" for c in REFUND_COLUMNS)},
               toUnixTimestamp64Milli(min(inserted_at)) AS first_seen
        FROM refunds
        WHERE site_id = {{site:String}}
          AND (source, refund_id) IN (
              SELECT source, refund_id FROM refunds WHERE site_id = {{site:String}} AND {WINDOW})
        GROUP BY source, refund_id
        HAVING first_seen > {{since:Int64}} AND first_seen <= {{until:Int64}}
           AND argMax(is_deleted, version) = 0
        ORDER BY first_seen, source, refund_id
    """

    def describe(self, row: Any) -> Described:
        source, refund_id, *values, first_seen = row
        refund = dict(zip(REFUND_COLUMNS, values, strict=True))
        data = {
            "source": source,
            "refund_id": refund_id,
            **refund,
            "amount": _money(refund["amount"]),
            "refunded_at": _iso(refund["refunded_at"]),
            "is_test": bool(refund["is_test"]),
        }
        return Described((source, refund_id), first_seen, {"refund": data}, not data["is_test"])


ANONYMOUS = ("visitor", "anonymous")
KNOWN = ("user", "email_sha256")


class VisitorIdentified(_RowSource):
    name = "identities"
    event_type = "visitor.identified"

    SQL = f"""
        SELECT from_type, from_id, to_type, to_id, argMax(source, version), min(linked_at),
               toUnixTimestamp64Milli(min(inserted_at)) AS first_seen
        FROM identity_links
        WHERE site_id = {{site:String}}
          AND ((from_type IN {{anonymous:Array(String)}} AND to_type IN {{known:Array(String)}})
               OR (to_type IN {{anonymous:Array(String)}} AND from_type IN {{known:Array(String)}}))
          AND (from_type, from_id, to_type, to_id) IN (
              SELECT from_type, from_id, to_type, to_id FROM identity_links
              WHERE site_id = {{site:String}} AND {WINDOW})
        GROUP BY from_type, from_id, to_type, to_id
        HAVING first_seen > {{since:Int64}} AND first_seen <= {{until:Int64}}
           AND argMax(is_deleted, version) = 0
        ORDER BY first_seen, from_type, from_id, to_type, to_id
    """

    def parameters(self, site_id: str, since: int, until: int) -> dict[str, Any]:
        return {
            **super().parameters(site_id, since, until),
            "anonymous": list(ANONYMOUS),
            "known": list(KNOWN),
        }

    def describe(self, row: Any) -> Described:
        from_type, from_id, to_type, to_id, source, linked_at, first_seen = row
        anonymous, known = (
            ((from_type, from_id), (to_type, to_id))
            if from_type in ANONYMOUS
            else ((to_type, to_id), (from_type, from_id))
        )
        data = {
            "visitor": {"type": anonymous[0], "id": anonymous[1]},
            "identifier": {"type": known[0], "id": known[1]},
            "source": source,
            "linked_at": _iso(linked_at),
        }
        return Described((from_type, from_id, to_type, to_id), first_seen, data)


# Hits stored in a window are looked for among those timestamped from LATE_HITS before it (the
# events table is ordered by day: this bounds the scan) to SKEW after it (a clock a minute ahead).
LATE_HITS_MS = 7 * 86_400_000
SKEW_MS = 2 * 60_000
GOAL_PAGE = 10_000


class GoalCompleted(_RowSource):
    """`goal_conversions` (touchline.goals.conversions) of the hits stored in the window, once the
    aggregation has sessionised them (so the session's source is in the event), under the goals
    as they are when it is read. Keyed on the completion's own id (`<goal id>:<event id>`)."""

    name = "goals"
    event_type = "goal.completed"

    def __init__(
        self,
        site_settings: Callable[[str], AttributionSettings],
        aggregated_ms: Callable[[str], int | None],
        settle_ms: int = 5000,
    ) -> None:
        super().__init__(settle_ms)
        self._settings = site_settings
        self._aggregated_ms = aggregated_ms

    def position(self, sql: Sql, site_id: str, now_ms: int) -> int:
        # The aggregation's run stamps its start as its position: hits stored before it (minus
        # the settle margin for rows not yet visible then) have their sessions.
        aggregated = self._aggregated_ms(site_id)
        return min(now_ms, aggregated or 0) - self.settle_ms

    def rows(self, sql: Sql, site_id: str, since: int, until: int) -> Iterable[Any]:
        settings = self._settings(site_id)
        if not any(goal.active for goal in settings.goals):
            return []
        return self._window(sql, site_id, settings, since, until)

    def _window(
        self, sql: Sql, site_id: str, settings: AttributionSettings, since: int, until: int
    ) -> list[dict[str, Any]]:
        # One millisecond cannot be split (one insert stamps its rows alike): read it whole.
        limit = GOAL_PAGE if until - since > 1 else 2**62
        found = goal_conversions(
            sql,
            site_id,
            settings,
            _at(since - LATE_HITS_MS),
            _at(until + SKEW_MS),
            inserted_since=_at(since + 1),
            inserted_until=_at(until),
            revenue_after=False,
            limit=limit,
        )
        if len(found) < limit:
            return sorted(found, key=lambda r: (r["inserted_at"], r["conversion_id"]))
        # A full page may have left some out: read the window in two halves instead.
        middle = (since + until) // 2
        return self._window(sql, site_id, settings, since, middle) + self._window(
            sql, site_id, settings, middle, until
        )

    def describe(self, row: Any) -> Described:
        has_value = bool(row["currency"]) or row["goal_value"] != 0
        conversion = {
            "conversion_id": row["conversion_id"],
            "goal": {"id": row["goal_id"], "name": row["goal_name"]},
            "visitor_id": row["visitor_id"],
            "person_id": row["person_id"],
            "session_id": row["session_id"],
            "source": row["source"],
            "channel": row["channel"],
            "campaign": row["campaign"],
            "converted_at": _iso(row["converted_at"]),
            "value": _money(row["goal_value"]) if has_value else None,
            "currency": row["currency"] or None,
        }
        return Described((row["conversion_id"],), _epoch_ms(row["inserted_at"]), {"conversion": conversion})


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(max(ms, 0) / 1000, UTC)


def _epoch_ms(value: datetime) -> int:
    at = value if value.tzinfo else value.replace(tzinfo=UTC)
    return int(at.timestamp() * 1000)


CREDIT_TOUCH = (
    "touch_index",
    "channel",
    "source",
    "medium",
    "campaign",
    "credit",
    "attributed_revenue",
)
# Every order conversion's live credits as of the last completed aggregation run (`until`):
# the latest version of each (conversion, model, touch) at or below it, tombstones dropped.
_CREDITS = f"""
    SELECT conversion_id, model,
           {", ".join(f"argMax({c}, version) AS {c}" for c in CREDIT_TOUCH if c != "touch_index")},
           touch_index, argMax(converted_at, version) AS converted_at, argMax(currency, version) AS currency,
           argMax(revenue, version) AS revenue
    FROM attribution_credits
    WHERE site_id = {{site:String}} AND conversion_kind = 'order' AND version <= {{until:UInt64}}
      AND {{scope}}
    GROUP BY conversion_id, model, touch_index
    HAVING argMax(is_deleted, version) = 0
"""
_FINGERPRINTS = """
    SELECT ids.conversion_id,
           if(count(c.model) = 0, toUInt64(0),
              cityHash64(arraySort(groupArray(tuple(c.model, c.touch_index, c.channel, c.source, c.medium,
                                                    c.campaign, toString(c.attributed_revenue)))))) AS fp
    FROM ({ids}) AS ids
    LEFT JOIN ({credits}) AS c ON c.conversion_id = ids.conversion_id
    GROUP BY ids.conversion_id
"""


class AttributionUpdated:
    """An order's credits changed in a completed aggregation run (any model, any touchpoint, any
    cent): position = the credits' version, up to the aggregation's own watermark (a run in
    progress is not read); the change is against the fingerprint last sent for the order."""

    name = "attribution"
    event_type = "attribution.updated"
    stateful = True

    def __init__(self, completed_version: Any) -> None:
        # site id -> the version of its last completed aggregation run (its watermark), or None
        self._completed = completed_version

    def position(self, sql: Sql, site_id: str, now_ms: int) -> int:
        return int(self._completed(site_id) or 0)

    def start(self, sql: Sql, site_id: str, created_ms: int, until: int) -> int:
        """The first pass remembers every order's current credits and sends nothing: only
        changes after the subscription are news."""
        ids = (
            "SELECT DISTINCT conversion_id FROM attribution_credits "
            "WHERE site_id = {site:String} AND conversion_kind = 'order'"
        )
        self._remember(sql, site_id, ids, until)
        return until

    def read(self, sql: Sql, site_id: str, since: int, until: int) -> list[OutgoingEvent]:
        if until <= since:
            return []
        changed = self._changed(sql, site_id, since, until)
        if not changed:
            return []
        params = {"site": site_id, "until": until, "ids": list(changed)}
        rows = sql.rows(
            _CREDITS.replace("{scope}", "conversion_id IN {ids:Array(String)}")
            + " ORDER BY conversion_id, model, touch_index",
            params,
        )
        by_conversion: dict[str, dict[str, Any]] = {}
        models: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        for (
            conversion_id,
            model,
            channel,
            source,
            medium,
            campaign,
            credit,
            attributed,
            touch,
            at,
            cur,
            rev,
        ) in rows:
            by_conversion.setdefault(
                conversion_id, {"converted_at": _iso(at), "currency": cur, "revenue": _money(rev)}
            )
            models[conversion_id][model].append(
                {
                    "touch_index": int(touch),
                    "channel": channel,
                    "source": source,
                    "medium": medium,
                    "campaign": campaign,
                    "credit": round(float(credit), 6),
                    "attributed_revenue": _money(attributed),
                }
            )
        events = []
        for conversion_id, fingerprint in sorted(changed.items()):
            source, _, order_id = conversion_id.partition(":")
            summary = by_conversion.get(
                conversion_id, {"converted_at": None, "currency": "", "revenue": "0.00"}
            )
            events.append(
                OutgoingEvent(
                    id=event_id(site_id, self.event_type, conversion_id, fingerprint),
                    type=self.event_type,
                    created=until // 1000,
                    site_id=site_id,
                    data={
                        "order": {"source": source, "order_id": order_id, "conversion_id": conversion_id},
                        **summary,
                        "models": {m: touches for m, touches in sorted(models[conversion_id].items())},
                        "aggregation_version": until,
                    },
                )
            )
        return events

    def sent(self, sql: Sql, site_id: str, events: list[OutgoingEvent], until: int) -> None:
        if events:
            ids = [e.data["order"]["conversion_id"] for e in events]
            self._remember(sql, site_id, "SELECT arrayJoin({ids:Array(String)}) AS conversion_id", until, ids)

    def _changed(self, sql: Sql, site_id: str, since: int, until: int) -> dict[str, int]:
        ids = (
            "SELECT DISTINCT conversion_id FROM attribution_credits WHERE site_id = {site:String} "
            "AND conversion_kind = 'order' AND version > {since:UInt64} AND version <= {until:UInt64}"
        )
        query = f"""
            SELECT f.conversion_id, f.fp FROM ({_fingerprints(ids)}) AS f
            LEFT JOIN (SELECT conversion_id, fingerprint FROM webhook_attribution_state FINAL
                       WHERE site_id = {{site:String}}) AS s ON s.conversion_id = f.conversion_id
            WHERE f.fp != s.fingerprint AND NOT (f.fp = 0 AND s.conversion_id = '')
        """
        rows = sql.rows(query, {"site": site_id, "since": since, "until": until})
        return {str(conversion_id): int(fp) for conversion_id, fp in rows}

    def _remember(
        self, sql: Sql, site_id: str, ids: str, until: int, id_list: list[str] | None = None
    ) -> None:
        sql.command(
            "INSERT INTO webhook_attribution_state (site_id, conversion_id, fingerprint, version) "
            f"SELECT {{site:String}}, conversion_id, fp, {{until:UInt64}} FROM ({_fingerprints(ids)})",
            {"site": site_id, "until": until, "ids": id_list or []},
        )


def _fingerprints(ids: str) -> str:
    credits = _CREDITS.replace("{scope}", f"conversion_id IN ({ids})")
    return _FINGERPRINTS.format(ids=ids, credits=credits)


def sources(
    aggregated: Callable[[str], Watermark | None],
    site_settings: Callable[[str], AttributionSettings],
    settle_ms: int = 5000,
) -> list[Source]:
    """Every source, in the order the dispatcher reads them; `aggregated` is a site's aggregation
    watermark (its last completed run), `site_settings` its goals and attribution window."""

    def completed_version(site_id: str) -> int | None:
        mark = aggregated(site_id)
        return mark.version if mark else None

    def aggregated_ms(site_id: str) -> int | None:
        mark = aggregated(site_id)
        return mark.position_ms if mark else None

    return [
        PurchaseCreated(settle_ms),
        PurchaseRefunded(settle_ms),
        VisitorIdentified(settle_ms),
        GoalCompleted(site_settings, aggregated_ms, settle_ms),
        AttributionUpdated(completed_version),
    ]
