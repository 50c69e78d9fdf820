"""campaign_daily_aggregates and account_metrics_daily, recomputed for whole days.

Campaign rows come from the Klaviyo campaign statistics (per send date and channel) beside what
Touchline's own last-touch attribution credits to that channel. Account rows are per day and
currency: orders and customers from the staged orders, email and SMS revenue from attribution,
and Klaviyo's reported flow and campaign revenue, sends, opens and clicks on the row of the
site's primary currency (Klaviyo reports in the account's currency; see docs/commerce.md).
"""

from __future__ import annotations

from touchline.commerce.money_sql import divide_money

# Touchline channel (GA4 default channel group) ↔ Klaviyo send channel.
CHANNELS = {"Email": "email", "SMS": "sms", "Mobile Push Notifications": "push-notification"}


def _channel_sql(column: str) -> str:
    names = ", ".join(f"'{k}'" for k in CHANNELS)
    values = ", ".join(f"'{v}'" for v in CHANNELS.values())
    return f"transform({column}, [{names}], [{values}], '')"


TOP_TAGS = 5  # top_tags: the day's and channel's tags with the most campaign revenue


def campaigns_select(dates: str) -> str:
    ranked = "arraySort(v -> ({sign}v.1, v.2), groupArray((revenue, campaign_id, name)))[1]"
    return f"""
WITH
stats AS (
    SELECT * FROM campaign_statistics FINAL
    WHERE site_id = {{site:String}} AND date IN (SELECT date FROM {dates})),
per_campaign AS (
    SELECT date, send_channel, campaign_id, max(campaign_name) AS name,
           arraySort(groupUniqArrayArray(tags)) AS tags,
           toDecimal128(round(sum(conversion_value), 4), 4) AS revenue
    FROM stats GROUP BY date, send_channel, campaign_id),
tagged AS (
    SELECT date, send_channel,
           arraySlice(arrayMap(v -> v.2, arraySort(v -> (-v.1, v.2), groupArray((revenue, tag)))), 1,
                      {TOP_TAGS}) AS top_tags,
           mapFromArrays(groupArray(tag), groupArray(toDecimal64(revenue, 4))) AS tag_performance
    FROM (SELECT date, send_channel, tag, sum(revenue) AS revenue
          FROM per_campaign ARRAY JOIN tags AS tag GROUP BY date, send_channel, tag ORDER BY tag)
    GROUP BY date, send_channel),
extremes AS (
    SELECT date, send_channel, {ranked.format(sign="-")} AS best, {ranked.format(sign="")} AS worst
    FROM per_campaign GROUP BY date, send_channel),
totals AS (
    SELECT date, send_channel, uniqExact(campaign_id) AS campaigns,
           arraySort(groupUniqArray(campaign_id)) AS campaign_ids,
           sum(recipients) AS recipients, sum(delivered) AS delivered, sum(opens) AS opens,
           sum(clicks) AS clicks, sum(conversions) AS conversions, sum(opens_unique) AS opens_unique,
           sum(clicks_unique) AS clicks_unique, sum(conversion_uniques) AS conversion_uniques,
           toDecimal128(round(sum(conversion_value), 4), 4) AS revenue
    FROM stats GROUP BY date, send_channel),
klaviyo_credit AS (
    SELECT concat(source, ':', order_id) AS conversion_id, attributed_kind
    FROM klaviyo_attributions FINAL WHERE site_id = {{site:String}} AND attributed_kind != ''),
credited AS (
    SELECT date, send_channel, sumIf(n, NOT flow) AS orders, sumIf(n, flow) AS flow_orders,
           mapFromArrays(groupArrayIf(currency, NOT flow), groupArrayIf(amount, NOT flow)) AS revenue,
           mapFromArrays(groupArrayIf(currency, flow), groupArrayIf(amount, flow)) AS flow_revenue
    FROM (SELECT toDate(a.converted_at) AS date, {_channel_sql("a.channel")} AS send_channel,
                 k.attributed_kind = 'flow' AS flow, a.currency AS currency,
                 sum(a.credit) AS n, toDecimal64(sum(a.attributed_revenue), 4) AS amount
          FROM (SELECT * FROM attribution_credits FINAL
                WHERE site_id = {{site:String}} AND model = 'last_touch' AND conversion_kind = 'order'
                  AND toDate(converted_at) IN (SELECT date FROM {dates})) AS a
          LEFT JOIN klaviyo_credit AS k ON k.conversion_id = a.conversion_id
          WHERE send_channel != ''
          GROUP BY date, send_channel, flow, currency
          ORDER BY currency)
    GROUP BY date, send_channel)
SELECT {{site:String}} AS site_id, t.date AS date, t.send_channel AS send_channel,
       toUInt32(t.campaigns) AS total_campaigns, t.campaign_ids AS campaigns_sent,
       toUInt64(round(t.recipients)) AS total_recipients, toUInt64(round(t.delivered)) AS total_delivered,
       toUInt64(round(t.opens)) AS total_opens, toUInt64(round(t.clicks)) AS total_clicks,
       toUInt64(round(t.conversions)) AS total_conversions,
       toDecimal64(t.revenue, 4) AS total_revenue,
       {divide_money("t.revenue", "t.campaigns", "'XXX'")} AS avg_revenue_per_campaign,
       {divide_money("t.revenue", "toUInt64(round(t.recipients))", "'XXX'")} AS avg_revenue_per_recipient,
       if(t.delivered > 0, 100 * t.opens_unique / t.delivered, 0) AS open_rate_pct,
       if(t.delivered > 0, 100 * t.clicks_unique / t.delivered, 0) AS click_rate_pct,
       if(t.delivered > 0, 100 * t.conversion_uniques / t.delivered, 0) AS conversion_rate_pct,
       e.best.2 AS best_campaign_id, e.best.3 AS best_campaign_name,
       toDecimal64(e.best.1, 4) AS best_campaign_revenue,
       e.worst.2 AS worst_campaign_id, e.worst.3 AS worst_campaign_name,
       toDecimal64(e.worst.1, 4) AS worst_campaign_revenue,
       c.orders AS attributed_orders, c.revenue AS attributed_revenue,
       g.top_tags AS top_tags, g.tag_performance AS tag_performance,
       c.flow_orders AS flow_attributed_orders, c.flow_revenue AS flow_attributed_revenue,
       toUInt64({{version:UInt64}}) AS version, toUInt8(0) AS is_deleted
FROM totals AS t
INNER JOIN extremes AS e ON e.date = t.date AND e.send_channel = t.send_channel
LEFT JOIN credited AS c ON c.date = t.date AND c.send_channel = t.send_channel
LEFT JOIN tagged AS g ON g.date = t.date AND g.send_channel = t.send_channel
"""


_PRIMARY = "if(count() = 0, 'USD', argMin(currency, (-toInt64({k}), -toInt64({n}), currency)))"
_KLAVIYO = "source = 'klaviyo' OR startsWith(source_event, 'klaviyo:')"


def primary_currency_select() -> str:
    """The currency Klaviyo's statistics are put under: that of most Klaviyo-synced orders, else of
    most orders, else USD (ties: alphabetical); over the paid orders."""
    return f"""
    SELECT {_PRIMARY.format(k="klaviyo", n="orders")} AS currency
    FROM (SELECT currency, countIf({_KLAVIYO}) AS klaviyo, count() AS orders
          FROM orders FINAL WHERE site_id = {{site:String}} AND status = 'paid'
          GROUP BY currency)"""


def primary_currency_moved_select(newer: str) -> str:
    """Whether the orders matching `newer` (those inserted since the last run) changed the primary
    currency: the primary currency without them and with them, from one pass over the orders."""
    before = _PRIMARY.format(k="klaviyo_before", n="orders_before").replace("count()", "sum(orders_before)")
    return f"""
    SELECT ({before}) != ({_PRIMARY.format(k="klaviyo", n="orders")})
    FROM (SELECT currency, countIf({_KLAVIYO}) AS klaviyo, count() AS orders,
                 countIf(({_KLAVIYO}) AND NOT ({newer})) AS klaviyo_before,
                 countIf(NOT ({newer})) AS orders_before
          FROM orders FINAL WHERE site_id = {{site:String}} AND status = 'paid'
          GROUP BY currency)"""


def account_select(orders: str, dates: str) -> str:
    """Rows for the days in `dates`; the days a week earlier are computed too, for the growth."""
    klaviyo = """
        SELECT date, sumIf(conversion_value, kind = 'flow') AS flow_revenue,
               sumIf(conversion_value, kind = 'campaign') AS campaign_revenue,
               sumIf(recipients, send_channel = 'email') AS emails,
               sumIf(recipients, send_channel = 'sms') AS sms,
               sum(opens) AS opens, sum(clicks) AS clicks
        FROM (SELECT 'campaign' AS kind, date, send_channel, conversion_value, recipients, opens, clicks
              FROM campaign_statistics FINAL WHERE site_id = {site:String} AND date IN (SELECT date FROM days)
              UNION ALL
              SELECT 'flow', date, send_channel, conversion_value, recipients, opens, clicks
              FROM flow_statistics FINAL WHERE site_id = {site:String} AND date IN (SELECT date FROM days))
        GROUP BY date
    """
    return f"""
WITH
days AS (SELECT date FROM {dates} UNION DISTINCT SELECT date - 7 FROM {dates}),
main_currency AS ({primary_currency_select()}),
firsts AS (SELECT person_id, min(toDate(ordered_at)) AS first_day FROM {orders}
           WHERE person_id != '' GROUP BY person_id),
placed AS (
    SELECT toDate(o.ordered_at) AS date, o.currency AS currency, o.person_id AS person_id, o.net AS net,
           o.person_id != '' AND f.first_day = toDate(o.ordered_at) AS is_new
    FROM {orders} AS o LEFT JOIN firsts AS f ON f.person_id = o.person_id
    WHERE toDate(o.ordered_at) IN (SELECT date FROM days)),
order_days AS (
    SELECT date, currency, count() AS orders, sum(net) AS revenue,
           uniqExactIf(person_id, person_id != '') AS customers,
           uniqExactIf(person_id, is_new) AS new_customers,
           uniqExactIf(person_id, person_id != '' AND NOT is_new) AS repeat_customers,
           sumIf(net, is_new) AS new_revenue, sumIf(net, person_id != '' AND NOT is_new) AS repeat_revenue
    FROM placed GROUP BY date, currency),
credit_days AS (
    SELECT toDate(converted_at) AS date, currency,
           sumIf(attributed_revenue, channel = 'Email') AS email_revenue,
           sumIf(attributed_revenue, channel = 'SMS') AS sms_revenue,
           sumIf(credit, channel = 'Email') AS email_orders, sumIf(credit, channel = 'SMS') AS sms_orders
    FROM attribution_credits FINAL
    WHERE site_id = {{site:String}} AND model = 'last_touch' AND conversion_kind = 'order'
      AND toDate(converted_at) IN (SELECT date FROM days)
    GROUP BY date, currency),
klaviyo_days AS ({klaviyo}),
keys AS (
    SELECT date, currency FROM order_days
    UNION DISTINCT SELECT date, currency FROM credit_days
    UNION DISTINCT SELECT date, (SELECT currency FROM main_currency) FROM klaviyo_days),
base AS (
    SELECT k.date AS date, k.currency AS currency,
           toDecimal128(ifNull(o.revenue, 0), 4) AS total_revenue,
           toDecimal128(ifNull(c.email_revenue, 0), 4) AS email_revenue,
           toDecimal128(ifNull(c.sms_revenue, 0), 4) AS sms_revenue,
           k.currency = (SELECT currency FROM main_currency) AS is_primary,
           if(is_primary, toDecimal128(round(ifNull(kl.flow_revenue, 0), 4), 4), toDecimal128(0, 4))
               AS flow_revenue,
           if(is_primary, toDecimal128(round(ifNull(kl.campaign_revenue, 0), 4), 4), toDecimal128(0, 4))
               AS campaign_revenue,
           toUInt32(ifNull(o.orders, 0)) AS total_orders,
           toUInt32(round(ifNull(c.email_orders, 0))) AS email_orders,
           toUInt32(round(ifNull(c.sms_orders, 0))) AS sms_orders,
           toUInt32(ifNull(o.customers, 0)) AS unique_customers,
           toUInt32(ifNull(o.new_customers, 0)) AS new_customers,
           toUInt32(ifNull(o.repeat_customers, 0)) AS repeat_customers,
           toDecimal128(ifNull(o.new_revenue, 0), 4) AS new_customer_revenue,
           toDecimal128(ifNull(o.repeat_revenue, 0), 4) AS repeat_customer_revenue,
           toUInt64(if(is_primary, round(ifNull(kl.emails, 0)), 0)) AS total_emails_sent,
           toUInt64(if(is_primary, round(ifNull(kl.sms, 0)), 0)) AS total_sms_sent,
           toUInt64(if(is_primary, round(ifNull(kl.opens, 0)), 0)) AS total_opens,
           toUInt64(if(is_primary, round(ifNull(kl.clicks, 0)), 0)) AS total_clicks
    FROM keys AS k
    LEFT JOIN order_days AS o ON o.date = k.date AND o.currency = k.currency
    LEFT JOIN credit_days AS c ON c.date = k.date AND c.currency = k.currency
    LEFT JOIN klaviyo_days AS kl ON kl.date = k.date)
SELECT {{site:String}} AS site_id, b.date AS date, b.currency AS currency,
       toDecimal64(b.total_revenue, 4) AS total_revenue, toDecimal64(b.email_revenue, 4) AS email_revenue,
       toDecimal64(b.sms_revenue, 4) AS sms_revenue, toDecimal64(b.flow_revenue, 4) AS flow_revenue,
       toDecimal64(b.campaign_revenue, 4) AS campaign_revenue, b.total_orders AS total_orders,
       b.email_orders AS email_orders, b.sms_orders AS sms_orders,
       {divide_money("b.total_revenue", "b.total_orders", "b.currency")} AS avg_order_value,
       b.unique_customers AS unique_customers, b.new_customers AS new_customers,
       b.repeat_customers AS repeat_customers,
       toDecimal64(b.new_customer_revenue, 4) AS new_customer_revenue,
       toDecimal64(b.repeat_customer_revenue, 4) AS repeat_customer_revenue,
       b.total_emails_sent AS total_emails_sent, b.total_sms_sent AS total_sms_sent,
       b.total_opens AS total_opens, b.total_clicks AS total_clicks,
       {divide_money("b.email_revenue", "b.total_emails_sent", "b.currency")} AS revenue_per_email,
       {divide_money("b.sms_revenue", "b.total_sms_sent", "b.currency")} AS revenue_per_sms,
       {
        divide_money(
            "b.email_revenue + b.sms_revenue", "b.total_emails_sent + b.total_sms_sent", "b.currency"
        )
    }
           AS revenue_per_recipient,
       if(p.total_revenue > 0,
          100 * (toFloat64(b.total_revenue) - toFloat64(p.total_revenue)) / toFloat64(p.total_revenue), NULL)
           AS revenue_growth_pct,
       if(p.total_orders > 0, 100 * (toInt64(b.total_orders) - p.total_orders) / p.total_orders, NULL)
           AS order_growth_pct,
       if(p.unique_customers > 0,
          100 * (toInt64(b.unique_customers) - p.unique_customers) / p.unique_customers, NULL)
           AS customer_growth_pct,
       toUInt64({{version:UInt64}}) AS version, toUInt8(0) AS is_deleted
FROM base AS b
LEFT JOIN base AS p ON p.date = b.date - 7 AND p.currency = b.currency
WHERE b.date IN (SELECT date FROM {dates})
"""


# -- incremental runs: only the changed days' orders and their customers' are resolved -----------

KEY_COLUMNS = "source String, order_id String"


def changed_keys_select(newer: str) -> str:
    """Orders inserted (any version) or refunded since the last run."""
    return f"""
    SELECT source, order_id FROM orders WHERE site_id = {{site:String}} AND {newer}
    UNION ALL
    SELECT source, if(order_id != '', order_id, payment_id) FROM refunds
    WHERE site_id = {{site:String}} AND {newer}"""


def in_keys(keys: str) -> str:
    """An `orders` condition (orders.orders_select's scope) on the key: read by the primary index."""
    return f"(source, order_id) IN (SELECT source, order_id FROM {keys})"


def related_ids_select(keys: str, persons: str = "") -> str:
    """Every identifier an order of the customers of the orders `keys` (and of `persons`, a
    select of person ids) can carry: the orders' own customer ids, email hashes and visitors
    (any version; their fallback ids), and every identifier identity resolution ever mapped to a
    person any of those is mapped to. A superset, read without resolving any order."""
    also = f" OR person_id IN ({persons})" if persons else ""
    return f"""
    WITH own AS (
        SELECT DISTINCT arrayJoin([customer_id, email_sha256, visitor_id]) AS id_value FROM orders
        WHERE site_id = {{site:String}} AND (source, order_id) IN (SELECT source, order_id FROM {keys}))
    SELECT id_value FROM own WHERE id_value != ''
    UNION DISTINCT
    SELECT id_value FROM identity_map
    WHERE site_id = {{site:String}} AND id_value != '' AND (person_id IN (
        SELECT person_id FROM identity_map
        WHERE site_id = {{site:String}} AND id_value IN (SELECT id_value FROM own)){also})"""


def keys_with_ids_select(ids: str, keys: str) -> str:
    """The orders `keys` and every order (any version) carrying one of the identifiers `ids`: all
    orders of those orders' customers (resolved, the customers' rows are exactly theirs)."""
    return f"""
    SELECT source, order_id FROM {keys}
    UNION DISTINCT
    SELECT source, order_id FROM orders
    WHERE site_id = {{site:String}}
      AND (customer_id IN (SELECT id_value FROM {ids}) OR email_sha256 IN (SELECT id_value FROM {ids})
           OR visitor_id IN (SELECT id_value FROM {ids}))"""


def identity_changed_select(newer: str) -> str:
    """Every person an identifier inserted since the last run was ever mapped to (merged or split)."""
    return f"""
    SELECT person_id FROM identity_map
    WHERE site_id = {{site:String}} AND person_id != '' AND (id_type, id_value) IN (
        SELECT id_type, id_value FROM identity_map WHERE site_id = {{site:String}} AND {newer})"""


def changed_persons_select(keys: str, theirs: str, newer: str) -> str:
    """The customers of the changed orders `keys` (`identity` 0) and every person an identifier
    inserted since the last run was ever mapped to (`identity` 1)."""
    return f"""
    SELECT DISTINCT person_id, toUInt8(0) FROM {theirs}
    WHERE person_id != '' AND (source, order_id) IN (SELECT source, order_id FROM {keys})
    UNION ALL
    SELECT DISTINCT person_id, toUInt8(1) FROM ({identity_changed_select(newer)})"""


def changed_dates_select(keys: str, theirs: str, persons: str, newer: str) -> str:
    """The days to recompute: those of the changed orders (`keys`), the days a changed order moves
    a customer's new-or-repeat split on, the days persons whose identity changed ordered on, the
    days of rewritten attribution credits and synced Klaviyo statistics, and a week after each
    (growth). `theirs` holds all orders of `persons` (resolved)."""
    synced = "synced_at > fromUnixTimestamp64Milli(toInt64({since_ms:Int64}), 'UTC')"
    # A changed order moves its customer's new-or-repeat split on one other day at most: the
    # day of their first unchanged order, when the change is not later (it stops being the
    # first). What this misses (a voided first order) the daily full run puts right.
    first_days = f"""
        SELECT first_unchanged FROM (
            SELECT person_id, minIf(toDate(ordered_at), NOT changed) AS first_unchanged,
                   minIf(toDate(ordered_at), changed) AS first_changed, countIf(NOT changed) AS unchanged
            FROM (SELECT person_id, ordered_at,
                         (source, order_id) IN (SELECT source, order_id FROM {keys}) AS changed
                  FROM {theirs}
                  WHERE person_id IN (SELECT person_id FROM {persons} WHERE identity = 0))
            GROUP BY person_id)
        WHERE unchanged > 0 AND first_changed <= first_unchanged"""
    changed = f"""
        SELECT toDate(ordered_at) AS date FROM orders
        WHERE site_id = {{site:String}} AND (source, order_id) IN (SELECT source, order_id FROM {keys})
        UNION DISTINCT
        {first_days}
        UNION DISTINCT
        SELECT toDate(ordered_at) FROM {theirs}
        WHERE person_id IN (SELECT person_id FROM {persons} WHERE identity = 1)
        UNION DISTINCT
        SELECT toDate(converted_at) FROM attribution_credits
        WHERE site_id = {{site:String}} AND version > {{since_ms:Int64}}
        UNION DISTINCT
        SELECT toDate(converted_at) FROM attribution_credits
        WHERE site_id = {{site:String}} AND conversion_id IN (
            SELECT concat(source, ':', order_id) FROM klaviyo_attributions
            WHERE site_id = {{site:String}} AND {newer})
        UNION DISTINCT
        SELECT date FROM campaign_statistics WHERE site_id = {{site:String}} AND {synced}
        UNION DISTINCT
        SELECT date FROM flow_statistics WHERE site_id = {{site:String}} AND {synced}"""
    return f"SELECT DISTINCT day FROM ({changed}) ARRAY JOIN [date, date + 7] AS day"


def day_keys_select(dates: str) -> str:
    """Orders (any version) placed on the days `account_select` reads: `dates` and a week before."""
    return f"""
    SELECT source, order_id FROM orders
    WHERE site_id = {{site:String}}
      AND toDate(ordered_at) IN (SELECT date FROM {dates} UNION DISTINCT SELECT date - 7 FROM {dates})"""
