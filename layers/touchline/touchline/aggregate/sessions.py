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
    argMin(eid, (ts, eid)) AS session_id,
    min(ts) AS session_start,
    max(ts) AS session_end,
    toUInt32(intDiv(dateDiff('millisecond', min(ts), max(ts)), 1000)) AS duration_s,
    toUInt32(count()) AS hits,
    toUInt32(countIf(event_type = 'pageview')) AS pageviews,
    toUInt32(countIf(event_type = 'goal')) AS goals,
    toUInt8(pageviews <= 1 AND countIf(event_type != 'pageview' AND interactive = 1) = 0) AS is_bounce,
    if(argMin(channel, (ts, eid)) != '', argMin(channel, (ts, eid)),
       if(argMin(direct, (ts, eid)), 'Direct', 'Unassigned')) AS channel,
    argMin(referrer_source, (ts, eid)) AS source,
    argMin(utm_medium, (ts, eid)) AS medium,
    argMin(utm_campaign, (ts, eid)) AS campaign,
    argMin(utm_content, (ts, eid)) AS content,
    argMin(utm_term, (ts, eid)) AS term,
    argMin(click_id, (ts, eid)) AS click_id,
    argMin(click_id_type, (ts, eid)) AS click_id_type,
    argMin(referrer, (ts, eid)) AS referrer,
    argMin(pathname, (ts, eid)) AS landing_page,
    argMaxIf(pathname, (ts, eid), event_type = 'pageview') AS exit_page,
    argMin(hostname, (ts, eid)) AS hostname,
    argMin(device_type, (ts, eid)) AS device_type,
    argMin(browser, (ts, eid)) AS browser,
    argMin(os, (ts, eid)) AS os,
    argMin(country, (ts, eid)) AS country,
    argMin(region, (ts, eid)) AS region,
    argMin(city, (ts, eid)) AS city,
    toUInt64(%(version)s) AS version,
    toUInt8(0) AS is_deleted
FROM pieces
GROUP BY site_id, visitor_id, acq_no, piece
"""


def sessions_select(visitor_scope: str) -> str:
    """The SELECT producing the `sessions` rows of every visitor matching `visitor_scope`."""
    return SESSIONS_SELECT.replace("{visitor_scope}", visitor_scope)
