"""Sessionisation in ClickHouse: a visitor's hits → sessions, per docs/attribution.md.

A hit starts a new session when it is the visitor's first, comes more than 30 minutes after
the previous hit, or carries a non-direct acquisition different from the latest non-direct one
of its session; a session is then cut into 24-hour pieces counted from its start. Within a run
of hits without a 30-minute gap, "the latest non-direct acquisition of the session" equals "the
latest non-direct acquisition before this hit in the run" (each non-direct hit either matched
the session or started a new one with its own), which is what makes the rule expressible with
window functions instead of a row-by-row loop.
"""

from __future__ import annotations

SESSION_GAP_MS = 30 * 60 * 1000
SESSION_MAX_MS = 24 * 60 * 60 * 1000
# Hits that make and extend sessions. Engagement pings only measure time on page; identify is
# bookkeeping.
NON_HIT_EVENT_TYPES = ("engagement", "identify")

SESSIONS_SELECT = f"""
WITH
hits AS (
    SELECT
        site_id, visitor_id, toString(event_id) AS eid, timestamp AS ts, event_type, interactive,
        pathname, hostname, referrer, channel, referrer_source, utm_medium, utm_campaign,
        utm_content, utm_term, click_id, click_id_type, device_type, browser, os, country, region,
        city,
        referrer_source = '' AND utm_medium = '' AND utm_campaign = '' AND click_id = '' AS direct,
        concat(referrer_source, '\\x1f', utm_medium, '\\x1f', utm_campaign, '\\x1f', click_id) AS acq
    FROM events FINAL
    WHERE site_id = %(site)s AND event_type NOT IN {NON_HIT_EVENT_TYPES!r} AND ({{visitor_scope}})
),
gaps AS (
    SELECT *,
        row_number() OVER byvisitor AS rn,
        lagInFrame(ts) OVER byvisitor AS prev_ts
    FROM hits
    WINDOW byvisitor AS (PARTITION BY visitor_id ORDER BY ts, eid
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
runs AS (
    SELECT *,
        sum(toUInt64(rn = 1 OR dateDiff('millisecond', prev_ts, ts) > {SESSION_GAP_MS}))
            OVER (PARTITION BY visitor_id ORDER BY ts, eid ROWS UNBOUNDED PRECEDING) AS run_no
    FROM gaps
),
acquisitions AS (
    SELECT *,
        row_number() OVER (PARTITION BY visitor_id, run_no ORDER BY ts, eid) AS run_rn,
        anyLast(if(direct, NULL, acq)) OVER (
            PARTITION BY visitor_id, run_no ORDER BY ts, eid
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_acq
    FROM runs
),
starts AS (
    SELECT *,
        sum(toUInt64(run_rn = 1 OR (NOT direct AND (prev_acq IS NULL OR prev_acq != acq))))
            OVER (PARTITION BY visitor_id ORDER BY ts, eid ROWS UNBOUNDED PRECEDING) AS acq_no
    FROM acquisitions
),
pieces AS (
    SELECT *,
        intDiv(dateDiff('millisecond', min(ts) OVER (PARTITION BY visitor_id, acq_no), ts),
               {SESSION_MAX_MS}) AS piece
    FROM starts
)
SELECT
    site_id,
    visitor_id,
    tupleElement(head, 1) AS session_id,
    first_ts AS session_start,
    last_ts AS session_end,
    toUInt32(intDiv(dateDiff('millisecond', first_ts, last_ts), 1000)) AS duration_s,
    toUInt32(n_hits) AS hits,
    toUInt32(n_pageviews) AS pageviews,
    toUInt32(n_goals) AS goals,
    toUInt8(n_pageviews <= 1 AND n_interactive = 0) AS is_bounce,
    if(tupleElement(head, 2) != '', tupleElement(head, 2), if(tupleElement(head, 3), 'Direct', 'Unassigned'))
        AS channel,
    tupleElement(head, 4) AS source,
    tupleElement(head, 5) AS medium,
    tupleElement(head, 6) AS campaign,
    tupleElement(head, 7) AS content,
    tupleElement(head, 8) AS term,
    tupleElement(head, 9) AS click_id,
    tupleElement(head, 10) AS click_id_type,
    tupleElement(head, 11) AS referrer,
    tupleElement(head, 12) AS landing_page,
    last_page AS exit_page,
    tupleElement(head, 13) AS hostname,
    tupleElement(head, 14) AS device_type,
    tupleElement(head, 15) AS browser,
    tupleElement(head, 16) AS os,
    tupleElement(head, 17) AS country,
    tupleElement(head, 18) AS region,
    tupleElement(head, 19) AS city,
    toUInt64(%(version)s) AS version,
    toUInt8(0) AS is_deleted
FROM (
    SELECT
        site_id,
        visitor_id,
        -- One argMin over a tuple, keyed by the hit's position: twenty argMins over (ts, eid)
        -- made this query five times slower.
        argMin((eid, channel, direct, referrer_source, utm_medium, utm_campaign, utm_content, utm_term,
                click_id, click_id_type, referrer, pathname, hostname, device_type, browser, os, country,
                region, city), rn) AS head,
        min(ts) AS first_ts,
        max(ts) AS last_ts,
        count() AS n_hits,
        countIf(event_type = 'pageview') AS n_pageviews,
        countIf(event_type = 'goal') AS n_goals,
        countIf(event_type != 'pageview' AND interactive = 1) AS n_interactive,
        argMaxIf(pathname, rn, event_type = 'pageview') AS last_page
    FROM pieces
    GROUP BY site_id, visitor_id, acq_no, piece
)
"""


def sessions_select(visitor_scope: str) -> str:
    """The SELECT producing the `sessions` rows of every visitor matching `visitor_scope`."""
    return SESSIONS_SELECT.replace("{visitor_scope}", visitor_scope)
