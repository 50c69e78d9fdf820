"""The warehouse tables the built-in metrics read, as `Table`s of the registry.

Every relation starts from the site and the date range (bound parameters) and reads with
`FINAL`, so redelivered rows never count twice. Aliases are fixed so dimensions can name their
columns once: `e` events, `s` sessions, `c` attribution credits, `o` orders, `r` refunds.
"""

from __future__ import annotations

from datetime import timedelta

from touchline.query.compile import CompileContext
from touchline.query.registry import REGISTRY

# Hits that are not events in Plausible's sense (engagement pings measure time on page; identify,
# group and the device and object events are bookkeeping): excluded from visitors, events and
# pageviews, as the sessions exclude them.
NON_EVENTS = ("engagement", "identify", "device", "group", "object", "consent")
# A session starts at most this long before a hit it contains (docs/attribution.md: 24 h cut).
SESSION_SPAN = timedelta(hours=24)
# What hits are joined to their sessions on: the visitor id's 64-bit hash, not the String id. An
# ASOF join's hash table on a UInt64 key is built and probed ~25% faster (bench_overview_sql);
# two visitors share a hash with odds of ~n²/2⁶⁵ (3·10⁻⁸ for a million), the risk the hashed
# visitor counts already take (docs/query-api.md).
VISITOR_KEY = "cityHash64(visitor_id) AS visitor_key"


def range_clause(ctx: CompileContext, column: str) -> str:
    """`column` within the query's date range (half-open), both bounds bound."""
    p = ctx.params
    start = p.add(ctx.query.date_range.start, "DateTime64(3, 'UTC')")
    end = p.add(ctx.query.date_range.end, "DateTime64(3, 'UTC')")
    return f"{column} >= {start} AND {column} < {end}"


def site_clause(ctx: CompileContext) -> str:
    """The query's site, bound."""
    return f"site_id = {ctx.params.string(ctx.query.site.site_id)}"


class EventsTable:
    """Hits (`events FINAL`), joined to their session when a visit dimension is involved.

    A hit's session is the visitor's latest session that started at or before it (sessions of a
    visitor never overlap): an ASOF join on (visitor_id, timestamp ≥ session_start). Hits newer
    than the last aggregation have no session yet, so visit dimensions see them as empty.
    """

    name = "events"
    alias = "e"
    time_column = "e.timestamp"
    event_types_excluded = NON_EVENTS
    only_type = ""

    def relation(self, ctx: CompileContext, where: str, with_sessions: bool | None = None) -> str:
        types = (
            f"event_type = {ctx.params.string(self.only_type)}"
            if self.only_type
            else f"event_type NOT IN {ctx.params.strings(list(self.event_types_excluded))}"
        )
        scope = f"{site_clause(ctx)} AND {range_clause(ctx, 'timestamp')} AND {types}"
        # The top-level event filters, applied to the hits before anything is joined to them.
        restriction = ctx.visitor_restriction() if with_sessions is None else None
        hits = f"{scope} AND {restriction}" if restriction else scope
        join = ctx.needs_sessions() if with_sessions is None else with_sessions
        visits = None
        if join:
            p = ctx.params
            start = p.add(ctx.query.date_range.start - SESSION_SPAN, "DateTime64(3, 'UTC')")
            end = p.add(ctx.query.date_range.end, "DateTime64(3, 'UTC')")
            window = f"session_start >= {start} AND session_start < {end}"
            # Only visitors whose sessions can pass the visit filters: a hit's session is one of
            # its visitor's, so no answer changes. Not on top of an event filter's cut below,
            # which leaves fewer rows than the two extra session reads cost.
            visits = ctx.visit_restriction(window) if with_sessions is None and restriction is None else None
            only = f" AND {visits}" if visits else ""
            if restriction is not None:
                # Only the sessions of visitors with a matching hit (hits without FINAL: a
                # duplicate changes no visitor set).
                only += f" AND visitor_id IN (SELECT e.visitor_id FROM events AS e WHERE {hits})"
            in_window = f"{site_clause(ctx)} AND {window}{only}"
            sessions = f"(SELECT *, {VISITOR_KEY} FROM sessions FINAL WHERE {in_window}) AS s"
        key = f", {VISITOR_KEY}" if join else ""
        cut = f" AND {visits}" if visits else ""
        events = f"(SELECT *{key} FROM events AS e FINAL WHERE {hits}{cut}) AS e"
        if join:
            on = "e.visitor_key = s.visitor_key AND e.timestamp >= s.session_start"
            events += f" ASOF LEFT JOIN {sessions} ON {on}"
        return f"FROM {events} WHERE {where}"


class EngagementsTable(EventsTable):
    """Engagement pings only: time on page and scroll depth (the tag's `engagement` events)."""

    name = "engagements"
    only_type = "engagement"


class SessionsTable:
    """Sessions (`sessions FINAL`, written by the aggregation), dated by their start."""

    name = "sessions"
    alias = "s"
    time_column = "s.session_start"

    def relation(self, ctx: CompileContext, where: str) -> str:
        inner = (
            f"SELECT * FROM sessions FINAL WHERE {site_clause(ctx)} AND {range_clause(ctx, 'session_start')}"
        )
        return f"FROM ({inner}) AS s WHERE {where}"


class CreditsTable:
    """Attribution credits (`attribution_credits FINAL`), dated by the conversion."""

    name = "credits"
    alias = "c"
    time_column = "c.converted_at"

    def relation(self, ctx: CompileContext, where: str) -> str:
        in_range = range_clause(ctx, "converted_at")
        inner = f"SELECT * FROM attribution_credits FINAL WHERE {site_clause(ctx)} AND {in_range}"
        return f"FROM ({inner}) AS c WHERE {where}"


class OrdersTable:
    """Paid, non-test orders dated by `ordered_at`, as `touchline report revenue` counts them.

    A PaymentIntent row whose payment another row (its invoice or checkout session) names is the
    same payment, counted there. `linked`: the order carries a visitor id, or its customer id or
    email hash reaches a visitor within two hops of identity links (docs/revenue.md).
    """

    name = "orders"
    alias = "o"
    time_column = "o.ordered_at"
    # The order as a conversion (attribution_credits.conversion_id): how visit filters reach it.
    conversion_key = "concat(o.source, ':', o.order_id)"

    def relation(self, ctx: CompileContext, where: str) -> str:
        site = site_clause(ctx)
        inner = f"""
            WITH
                edges AS (
                    SELECT from_type AS a_type, from_id AS a_id, to_type AS b_type, to_id AS b_id
                    FROM identity_links FINAL WHERE {site}
                    UNION ALL
                    SELECT to_type, to_id, from_type, from_id FROM identity_links FINAL WHERE {site}),
                next_to_visitor AS (SELECT a_type, a_id FROM edges WHERE b_type = 'visitor'),
                reaches_visitor AS (
                    SELECT a_type, a_id FROM next_to_visitor
                    UNION DISTINCT
                    SELECT e.a_type, e.a_id FROM edges AS e
                    INNER JOIN next_to_visitor AS n ON e.b_type = n.a_type AND e.b_id = n.a_id),
                named_payments AS (
                    SELECT source, payment_id FROM orders FINAL
                    WHERE {site} AND status = 'paid' AND payment_id != '' AND order_id != payment_id)
            SELECT *,
                visitor_id != ''
                    OR (customer_id != ''
                        AND (customer_id_type, customer_id) IN (SELECT a_type, a_id FROM reaches_visitor))
                    OR (email_sha256 != ''
                        AND ('email_sha256', email_sha256) IN (SELECT a_type, a_id FROM reaches_visitor))
                    AS linked
            FROM orders FINAL
            WHERE {site} AND status = 'paid' AND is_test = 0 AND {range_clause(ctx, "ordered_at")}
              AND NOT (order_id = payment_id
                       AND (source, payment_id) IN (SELECT source, payment_id FROM named_payments))"""
        return f"FROM ({inner}) AS o WHERE {where}"


class RefundsTable:
    """Refunds per payment (the greater of its refunds and its latest cumulative total, so one
    reported both ways counts once), dated by the payment's first refund in the range."""

    name = "refunds"
    alias = "r"
    time_column = "r.first_refunded_at"
    # The refunded order's conversion id (its order id, else the payment's, as conversions net them).
    conversion_key = "concat(r.source, ':', r.order_key)"

    def relation(self, ctx: CompileContext, where: str) -> str:
        inner = f"""
            SELECT currency, source, payment_id, min(refunded_at) AS first_refunded_at,
                   any(if(order_id != '', order_id, payment_id)) AS order_key,
                   greatest(sumIf(amount, kind = 'refund'), maxIf(amount, kind = 'cumulative')) AS refunded
            FROM refunds FINAL
            WHERE {site_clause(ctx)} AND is_test = 0 AND {range_clause(ctx, "refunded_at")}
            GROUP BY currency, source, payment_id"""
        return f"FROM ({inner}) AS r WHERE {where}"


for _table in (
    EventsTable(),
    EngagementsTable(),
    SessionsTable(),
    CreditsTable(),
    OrdersTable(),
    RefundsTable(),
):
    REGISTRY.table(_table)
