"""The warehouse tables the built-in metrics read, as `Table`s of the registry.

Every relation starts from the site and the date range (bound parameters) and reads with
`FINAL`, so redelivered rows never count twice. Aliases are fixed so dimensions can name their
columns once: `e` events, `s` sessions, `c` attribution credits, `o` orders, `r` refunds.
"""

from __future__ import annotations

import re
from datetime import timedelta

from touchline.query.compile import CompileContext
from touchline.query.registry import REGISTRY

# Hits that are not events in Plausible's sense (engagement pings measure time on page; identify,
# group and the device and object events are bookkeeping): excluded from visitors, events and
# pageviews, as the sessions exclude them.
NON_EVENTS = ("engagement", "identify", "device", "group", "object", "consent")
# A session starts at most this long before a hit it contains (docs/attribution.md: 24 h cut).
SESSION_SPAN = timedelta(hours=24)
# The visitor id's 64-bit hash, what visitors are counted by (touchline.query.builtin.traffic) and
# hits joined to their sessions on: sessions store it (migration 0060), hits get it computed. An
# ASOF join's hash table on a UInt64 key is built and probed ~25% faster than on the String id
# (bench_overview_sql); two visitors share a hash with odds of ~n²/2⁶⁵ (3·10⁻⁸ for a million),
# the risk the hashed visitor counts already take (docs/query-api.md).
VISITOR_HASH = "cityHash64(visitor_id) AS visitor_hash"
# The hit columns a session's `hit_list` holds (migration 0059; its visitor is the session's): a
# statement over hits under a visit filter that reads no others is answered from the matching
# sessions alone, without joining the period's hits to their sessions.
SESSION_HIT_COLUMNS = frozenset(
    {"timestamp", "event_type", "name", "pathname", "revenue", "currency", "visitor_id", "visitor_hash"}
)
_HIT_COLUMN = re.compile(r"\be\.([a-z_]+)")


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

    Under a visit dimension or filter, a statement that reads only the hit columns sessions list
    (`SESSION_HIT_COLUMNS`) reads the matching sessions' hit lists: each hit beside the session
    the aggregation put it in, and hits newer than the last run not at all (yet). Any other is
    joined: a hit's session is then the visitor's latest session that started at or before it
    (an ASOF join on the visitor and timestamp ≥ session_start), and a hit the aggregation has
    not reached gets its visitor's previous session in the window, or a session of defaults.
    """

    name = "events"
    alias = "e"
    time_column = "e.timestamp"
    event_types_excluded = NON_EVENTS
    only_type = ""

    def relation(self, ctx: CompileContext, where: str, with_sessions: bool | None = None) -> str:
        if with_sessions is None and ctx.needs_sessions() and self._reads_session_hits(ctx, where):
            return self._session_hits(ctx, where)
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
            # The window before FINAL (a session's start is its first hit's: FIRST_HIT_COLUMNS);
            # the visit filters not, as a hit's session must be found before it is tested.
            sessions = (
                f"(SELECT *, visitor_hash FROM sessions FINAL PREWHERE {window} "
                f"WHERE {site_clause(ctx)} AND {window}{only}) AS s"
            )
        cut = f" AND {visits}" if visits else ""
        events = f"(SELECT *, {VISITOR_HASH} FROM events AS e FINAL WHERE {hits}{cut}) AS e"
        if join:
            on = "e.visitor_hash = s.visitor_hash AND e.timestamp >= s.session_start"
            events += f" ASOF LEFT JOIN {sessions} ON {on}"
        return f"FROM {events} WHERE {where}"

    def _reads_session_hits(self, ctx: CompileContext, where: str) -> bool:
        """Whether the subquery reads only hit columns its sessions' hit lists hold."""
        # Outside a metric subquery (a funnel reads hits its own way) the columns are unknown.
        if not ctx.current_selects or self.only_type or self.event_types_excluded != NON_EVENTS:
            return False
        return _hit_columns(ctx, where) <= SESSION_HIT_COLUMNS

    def _session_hits(self, ctx: CompileContext, where: str) -> str:
        """The hits of the period as their sessions list them, each beside its session.

        Only sessionised hits: those newer than the last aggregation run appear under visit
        filters after the next one, as visit-only statements (on sessions) count them. Only the
        hit list's fields the subquery reads are read, each its own stream.
        """
        p = ctx.params
        start = p.add(ctx.query.date_range.start - SESSION_SPAN, "DateTime64(3, 'UTC')")
        end = p.add(ctx.query.date_range.end, "DateTime64(3, 'UTC')")
        window = f"session_start >= {start} AND session_start < {end}"
        fields = sorted((_hit_columns(ctx, where) | {"timestamp"}) - {"visitor_id", "visitor_hash"})
        # Named `e.<column>` as the hits' columns are; the hit's visitor is its session's.
        lists = ", ".join(f"hit_list.{f} AS hit_{f}" for f in fields)
        visitor = "visitor_id AS `e.visitor_id`, visitor_hash, visitor_hash AS `e.visitor_hash`"
        sessions = (
            f"(SELECT * EXCEPT (hit_list), {visitor}, {lists} "
            f"FROM sessions AS s FINAL{ctx.first_hit_prewhere(window=window)} "
            f"WHERE {site_clause(ctx)} AND {window}) AS s"
        )
        hits = ", ".join(f"s.hit_{f} AS `e.{f}`" for f in fields)
        return f"FROM {sessions} ARRAY JOIN {hits} WHERE {range_clause(ctx, '`e.timestamp`')} AND {where}"


def _hit_columns(ctx: CompileContext, where: str) -> set[str]:
    """The hit columns (`e.<name>`) the subquery being compiled reads."""
    return set(_HIT_COLUMN.findall(f"{ctx.current_selects} {where}"))


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
        in_range = range_clause(ctx, "session_start")
        before_final = ctx.first_hit_prewhere(window=in_range)
        inner = (
            f"SELECT *, visitor_hash FROM sessions AS s FINAL{before_final} "
            f"WHERE {site_clause(ctx)} AND {in_range}"
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

    def conversion_candidates(self, ctx: CompileContext) -> str:
        """The conversion ids of the range's orders (every version: a superset is enough)."""
        return (
            f"SELECT concat(source, ':', order_id) FROM orders "
            f"WHERE {site_clause(ctx)} AND {range_clause(ctx, 'ordered_at')}"
        )

    def relation(self, ctx: CompileContext, where: str) -> str:
        site = site_clause(ctx)
        named_payments = f"""named_payments AS (
                    SELECT source, payment_id FROM orders FINAL
                    WHERE {site} AND status = 'paid' AND payment_id != '' AND order_id != payment_id)"""
        linked, reaches = "", ""
        # `linked` only where a metric reads it (linked_*): its identity-link reads are ~5 ms of
        # subqueries that ClickHouse runs even when no selected column needs them. Outside a
        # metric subquery what is read is unknown, so it stays.
        if not ctx.current_selects or "o.linked" in f"{ctx.current_selects} {where}":
            reaches = f"""
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
                    INNER JOIN next_to_visitor AS n ON e.b_type = n.a_type AND e.b_id = n.a_id),"""
            linked = """,
                visitor_id != ''
                    OR (customer_id != ''
                        AND (customer_id_type, customer_id) IN (SELECT a_type, a_id FROM reaches_visitor))
                    OR (email_sha256 != ''
                        AND ('email_sha256', email_sha256) IN (SELECT a_type, a_id FROM reaches_visitor))
                    AS linked"""
        inner = f"""
            WITH{reaches}
                {named_payments}
            SELECT *{linked}
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

    def conversion_candidates(self, ctx: CompileContext) -> str:
        """The refunded orders' conversion ids: every order or payment id of the range's
        refunds (a payment's `order_key` is one of them)."""
        refunds = f"FROM refunds WHERE {site_clause(ctx)} AND {range_clause(ctx, 'refunded_at')}"
        return (
            f"SELECT concat(source, ':', order_id) {refunds} AND order_id != '' "
            f"UNION ALL SELECT concat(source, ':', payment_id) {refunds}"
        )

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
