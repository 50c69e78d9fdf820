"""Sessionisation in ClickHouse: a visitor's hits → sessions, per docs/attribution.md.

A hit starts a new session when it is the visitor's first, comes more than 30 minutes after
the previous hit, is signed in as another user than the hit before (a shared browser: each
session is one user's, docs/identity.md), or carries a non-direct acquisition different from the
latest non-direct one of its session; a session is then cut into 24-hour pieces counted from its
start. Within a run of one user's hits without a 30-minute gap, "the latest non-direct
acquisition of the session" equals "the latest non-direct acquisition before this hit in the
run" (each non-direct hit either matched
the session or started a new one with its own), which is what makes the rule expressible with
array functions over a visitor's sorted hits (cumulative sums and fills, one pass each) instead
of a row-by-row loop. Arrays rather than window functions: one sort per visitor instead of five
over all hits.
"""

from __future__ import annotations

SESSION_GAP_MS = 30 * 60 * 1000
SESSION_MAX_MS = 24 * 60 * 60 * 1000
# Hits that make and extend sessions. Engagement pings only measure time on page; identify,
# group and the device and object semantic events (docs/devices.md, docs/objects.md) are
# bookkeeping.
NON_HIT_EVENT_TYPES = ("engagement", "identify", "device", "group", "object", "consent")

# Positions in a visitor's hit tuple (the `h` array below).
_HIT = (
    "ts, eid, direct, acq, event_type, interactive, pathname, channel, referrer_source, utm_medium, "
    "utm_campaign, utm_content, utm_term, click_id, click_id_type, referrer, hostname, device_type, "
    "browser, os, country, region, city, utm_source, browser_version, os_version, uid, name, revenue, "
    "currency"
)
_AT = {name.strip(): i for i, name in enumerate(_HIT.split(","), 1)}


# The session columns its first hit decides. A session's key names that hit (`session_id` is its
# event id, and an event's fields never change), so every version of a key holds the same values
# in them, and so does its tombstone (a copy of the row it deletes, touchline.aggregate.staging).
# A filter on these alone can drop a key's rows before FINAL picks its latest version, without
# changing what FINAL keeps (a PREWHERE: touchline.query.compile, `first_hit_prewhere`).
FIRST_HIT_COLUMNS = frozenset(
    {
        "site_id",
        "visitor_id",
        "session_id",
        "session_start",
        "channel",
        "source",
        "utm_source",
        "medium",
        "campaign",
        "content",
        "term",
        "click_id",
        "click_id_type",
        "referrer",
        "landing_page",
        "hostname",
        "device_type",
        "browser",
        "browser_version",
        "os",
        "os_version",
        "country",
        "region",
        "city",
    }
)

# The fields of `sessions.hit_list` (migration 0059), in its tuple's order, by their `_HIT` names.
HIT_LIST_FIELDS = ("ts", "event_type", "name", "pathname", "revenue", "currency")


def _fields(names: tuple[str, ...], hit: str) -> str:
    return ", ".join(f"tupleElement({hit}, {_AT[n]})" for n in names)


def _first(column: str) -> str:
    return f"tupleElement(g[1], {_AT[column]})"


SESSIONS_SELECT = f"""
WITH
hits AS (
    SELECT
        site_id, visitor_id, toString(event_id) AS eid, timestamp AS ts, event_type, interactive,
        pathname, hostname, referrer, channel, referrer_source, utm_medium, utm_campaign,
        utm_content, utm_term, click_id, click_id_type, device_type, browser, os, country, region,
        city, utm_source, browser_version, os_version, user_id AS uid, name, revenue, currency,
        referrer_source = '' AND utm_medium = '' AND utm_campaign = '' AND click_id = '' AS direct,
        concat(referrer_source, '\\x1f', utm_medium, '\\x1f', utm_campaign, '\\x1f', click_id) AS acq
    -- No FINAL: a redelivered event is an identical row, dropped by arrayDistinct below, which
    -- costs far less than merging the whole table.
    FROM events
    WHERE site_id = {{site:String}} AND event_type NOT IN {{non_hit_event_types:Array(String)}}
      AND ({{visitor_scope}}) AND ({{hit_window}})
),
visitors AS (
    SELECT site_id, visitor_id, arraySort(x -> (x.1, x.2), arrayDistinct(groupArray(({_HIT})))) AS h,
           max(uid != '') AS signed
    FROM hits
    GROUP BY site_id, visitor_id
),
marked AS (
    SELECT site_id, visitor_id, h, signed,
        arrayEnumerate(h) AS idx,
        arrayMap(x -> x.1, h) AS tss,
        -- the 30-minute rule: runs of hits without a gap
        arrayMap(i -> i = 1 OR dateDiff('millisecond', tss[i - 1], tss[i]) > {SESSION_GAP_MS}, idx)
            AS gap_starts,
        arrayCumSum(arrayMap(g -> toUInt32(g), gap_starts)) AS visit_no,
        -- who is signed in at each hit (docs/identity.md, "Shared devices"): its own user id, else
        -- the next signed-in hit's of its visit, else the previous one's, else nobody (''). Only
        -- for browsers that were ever signed in: the others map over an empty `sidx`, for free.
        if(signed, idx, []) AS sidx,
        arrayMap(i -> tupleElement(h[i], {_AT["uid"]}), sidx) AS uids,
        arrayReverseFill(x -> x != 0, arrayMap(i -> if(uids[i] != '', i, 0), sidx)) AS signed_next,
        arrayFill(x -> x != 0, arrayMap(i -> if(uids[i] != '', i, 0), sidx)) AS signed_upto,
        arrayMap(i -> multiIf(
                signed_next[i] != 0 AND visit_no[signed_next[i]] = visit_no[i], uids[signed_next[i]],
                signed_upto[i] != 0 AND visit_no[signed_upto[i]] = visit_no[i], uids[signed_upto[i]],
                ''), sidx) AS users,
        -- a visit is cut where the signed-in user changes: runs of one user without a gap
        if(signed, arrayCumSum(arrayMap(i -> toUInt32(gap_starts[i] OR users[i] != users[i - 1]), sidx)),
           visit_no) AS run_no,
        -- the latest non-direct hit before each hit (0: none)
        arrayFill(x -> x != 0, arrayMap(i -> if(tupleElement(h[i], {_AT["direct"]}), 0, i), idx)) AS nd_upto,
        arrayMap(i -> if(i = 1, 0, nd_upto[i - 1]), idx) AS nd_before,
        -- a non-direct hit whose acquisition differs from the session's latest non-direct one
        arrayMap(i -> run_no[i] != run_no[i - 1] OR (NOT tupleElement(h[i], {_AT["direct"]}) AND (
                     nd_before[i] = 0 OR run_no[nd_before[i]] != run_no[i]
                     OR tupleElement(h[nd_before[i]], {_AT["acq"]}) != tupleElement(h[i], {_AT["acq"]}))),
                 idx) AS starts,
        -- then 24-hour pieces from each session's first hit
        arrayFill(x -> x != 0, arrayMap(i -> if(starts[i], i, 0), idx)) AS start_of,
        arrayMap(i -> intDiv(dateDiff('millisecond', tss[start_of[i]], tss[i]), {SESSION_MAX_MS}), idx)
            AS piece,
        arrayMap(i -> starts[i] OR piece[i] != piece[i - 1], idx) AS splits
    FROM visitors
)
SELECT
    site_id,
    visitor_id,
    users[gi[1]] AS user_id,
    {_first("eid")} AS session_id,
    {_first("ts")} AS session_start,
    tupleElement(g[-1], {_AT["ts"]}) AS session_end,
    toUInt32(intDiv(dateDiff('millisecond', session_start, session_end), 1000)) AS duration_s,
    toUInt32(length(g)) AS hits,
    -- what event-level statements under a visit filter read instead of joining hits to sessions
    arrayMap(x -> ({_fields(HIT_LIST_FIELDS, "x")}), g) AS hit_list,
    toUInt32(arrayCount(x -> tupleElement(x, {_AT["event_type"]}) = 'pageview', g)) AS pageviews,
    toUInt32(arrayCount(x -> tupleElement(x, {_AT["event_type"]}) = 'goal', g)) AS goals,
    toUInt8(pageviews <= 1 AND arrayCount(x -> tupleElement(x, {_AT["event_type"]}) != 'pageview'
                                          AND tupleElement(x, {_AT["interactive"]}) = 1, g) = 0) AS is_bounce,
    if({_first("channel")} != '', {_first("channel")}, if({_first("direct")}, 'Direct', 'Unassigned'))
        AS channel,
    {_first("referrer_source")} AS source,
    {_first("utm_source")} AS utm_source,
    {_first("utm_medium")} AS medium,
    {_first("utm_campaign")} AS campaign,
    {_first("utm_content")} AS content,
    {_first("utm_term")} AS term,
    {_first("click_id")} AS click_id,
    {_first("click_id_type")} AS click_id_type,
    {_first("referrer")} AS referrer,
    {_first("pathname")} AS landing_page,
    tupleElement(arrayFilter(x -> tupleElement(x, {_AT["event_type"]}) = 'pageview', g)[-1],
                 {_AT["pathname"]}) AS exit_page,
    {_first("hostname")} AS hostname,
    {_first("device_type")} AS device_type,
    {_first("browser")} AS browser,
    {_first("browser_version")} AS browser_version,
    {_first("os")} AS os,
    {_first("os_version")} AS os_version,
    {_first("country")} AS country,
    {_first("region")} AS region,
    {_first("city")} AS city,
    toUInt64({{version:UInt64}}) AS version,
    toUInt8(0) AS is_deleted
FROM marked
ARRAY JOIN arraySplit((x, split) -> split, h, splits) AS g, arraySplit((x, split) -> split, idx, splits) AS gi
"""


def sessions_select(visitor_scope: str, hit_window: str = "1") -> str:
    """The SELECT producing the `sessions` rows of every visitor matching `visitor_scope`, from
    the hits matching `hit_window` (a clause over `visitor_id` and `timestamp`)."""
    return SESSIONS_SELECT.replace("{visitor_scope}", visitor_scope).replace("{hit_window}", hit_window)


# A visitor's sessions can only change from the start of the run of hits (no gap over 30
# minutes) that their earliest new hit joins: everything before is separated from it by a gap.
WINDOWS_SELECT = f"""
WITH
new AS (
    SELECT visitor_id, min(timestamp) AS earliest FROM events
    WHERE site_id = {{site:String}} AND event_type NOT IN {{non_hit_event_types:Array(String)}}
      AND ({{newer}})
    GROUP BY visitor_id),
old AS (
    SELECT visitor_id, arraySort(x -> x.1, groupArray((session_start, session_end))) AS spans
    FROM sessions FINAL
    WHERE site_id = {{site:String}} AND visitor_id IN (SELECT visitor_id FROM new)
    GROUP BY visitor_id),
runs AS (
    SELECT n.visitor_id AS visitor_id, n.earliest AS earliest,
        arrayMap(x -> x.1, o.spans) AS starts,
        arrayMap(x -> x.2, o.spans) AS ends,
        arrayCumSum(arrayMap(i -> toUInt32(i = 1 OR dateDiff('millisecond', ends[i - 1], starts[i])
                                                   > {SESSION_GAP_MS}), arrayEnumerate(starts))) AS run_no,
        arrayLastIndex(x -> x <= n.earliest, starts) AS before
    FROM new AS n LEFT JOIN old AS o ON o.visitor_id = n.visitor_id)
SELECT visitor_id,
    if(before = 0 OR dateDiff('millisecond', ends[before], earliest) > {SESSION_GAP_MS}, earliest,
       starts[arrayFirstIndex(r -> r = run_no[before], run_no)]) AS window_start
FROM runs
"""


def window_clause(column: str, windows: str) -> str:
    """`column` at or after its visitor's window start (`windows`: visitor_id, window_start)."""
    return (
        f"{column} >= (SELECT min(window_start) FROM {windows}) AND {column} >= transform(visitor_id, "
        f"(SELECT groupArray(visitor_id) FROM {windows}), (SELECT groupArray(window_start) FROM {windows}), "
        "toDateTime64('2100-01-01 00:00:00', 3, 'UTC'))"
    )
