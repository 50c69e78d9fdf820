"""Journeys in ClickHouse: every conversion's path and every run of sessions that did not convert.

The data-driven models (touchline.datadriven) learn from both. A converted journey is exactly
the conversion's touchpoints as the rule-based models see them (read back from the `linear`
credit rows, which hold every touchpoint). A person's sessions that are no conversion's
touchpoint form non-converting journeys: consecutive pieces at most the lookback window long,
each counted from its first session, so a non-converting journey spans no more time than a
converting one may. See docs/attribution.md, "Journeys".
"""

from __future__ import annotations

from touchline.aggregate.persons import USER_MAP, VISITOR_MAP, session_person

NONE_PREFIX = "none:"

# Tuple positions: 1 touch order key, 2 session_id, 3 visitor_id, 4 touch_at, 5 channel, 6 source,
# 7 medium, 8 campaign, 9 content, 10 term, 11 device_type.
JOURNEYS_SELECT = f"""
WITH
visitor_map AS ({VISITOR_MAP}),
user_map AS ({USER_MAP}),
converted AS (
    SELECT conversion_id, any(conversion_kind) AS conversion_kind, any(conversion_name) AS conversion_name,
           any(person_id) AS person_id, any(converted_at) AS converted_at, any(currency) AS currency,
           any(revenue) AS revenue,
           arraySort(x -> x.1, groupArrayIf(
               (toInt64(touch_index), session_id, visitor_id, touch_at, channel, source, medium, campaign,
                content, term, device_type), touch_index > 0)) AS path
    FROM (SELECT * FROM attribution_credits FINAL
          WHERE site_id = {{site:String}} AND model = 'linear' AND ({{person_scope}}))
    GROUP BY conversion_id),
touched AS (SELECT DISTINCT tupleElement(t, 2) AS session_id FROM converted ARRAY JOIN path AS t),
untouched AS (
    SELECT {session_person()} AS person_id,
           (toUnixTimestamp64Milli(s.session_start), s.session_id, s.visitor_id, s.session_start,
            s.channel, toString(s.source), toString(s.medium), s.campaign, s.content, s.term,
            toString(s.device_type)) AS touch
    FROM (SELECT * FROM sessions FINAL WHERE site_id = {{site:String}} AND ({{touch_visitors}})) AS s
    LEFT JOIN visitor_map AS m ON m.visitor_id = s.visitor_id
    LEFT JOIN user_map AS u ON u.user_id = s.user_id
    WHERE ({{person_scope}}) AND s.session_id NOT IN (SELECT session_id FROM touched)),
by_person AS (
    SELECT person_id, arraySort(x -> (x.1, x.2), groupArray(touch)) AS touches,
           -- each touch's piece: the start of the piece it belongs to (a new piece begins at the
           -- first touch more than the lookback window after the current piece's start)
           arrayFold((acc, x) -> arrayPushBack(acc, if(empty(acc) OR x.1 - acc[-1] > {{lookback_ms:Int64}},
                                                       x.1, acc[-1])),
                     touches, emptyArrayInt64()) AS piece_of
    FROM untouched GROUP BY person_id),
pieces AS (
    SELECT person_id, piece
    FROM by_person
    ARRAY JOIN arraySplit((x, i) -> i = 1 OR piece_of[i] != piece_of[i - 1], touches,
                          arrayEnumerate(touches)) AS piece)
SELECT {{site:String}} AS site_id, conversion_id AS journey_id, person_id, toUInt8(1) AS converted,
       conversion_kind, conversion_name,
       if(empty(path), converted_at, path[1].4) AS started_at, converted_at AS ended_at,
       currency, toDecimal128(revenue, 4) AS revenue, toUInt16(length(path)) AS touch_count,
       arrayMap(x -> x.2, path) AS session_ids, arrayMap(x -> x.3, path) AS visitor_ids,
       arrayMap(x -> x.4, path) AS touch_ats, arrayMap(x -> x.5, path) AS channels,
       arrayMap(x -> toString(x.6), path) AS sources, arrayMap(x -> toString(x.7), path) AS mediums,
       arrayMap(x -> x.8, path) AS campaigns, arrayMap(x -> x.9, path) AS contents,
       arrayMap(x -> x.10, path) AS terms, arrayMap(x -> toString(x.11), path) AS device_types,
       toUInt64({{version:UInt64}}) AS version, toUInt8(0) AS is_deleted
FROM converted
UNION ALL
SELECT {{site:String}}, concat('{NONE_PREFIX}', piece[1].2), person_id, toUInt8(0), '', '',
       piece[1].4, piece[-1].4, '', toDecimal128(0, 4), toUInt16(length(piece)),
       arrayMap(x -> x.2, piece), arrayMap(x -> x.3, piece), arrayMap(x -> x.4, piece),
       arrayMap(x -> x.5, piece), arrayMap(x -> x.6, piece), arrayMap(x -> x.7, piece),
       arrayMap(x -> x.8, piece), arrayMap(x -> x.9, piece), arrayMap(x -> x.10, piece),
       arrayMap(x -> x.11, piece), toUInt64({{version:UInt64}}), toUInt8(0)
FROM pieces
"""


def journeys_select(person_scope: str = "1", touch_visitors: str = "1") -> str:
    """Journey rows of the persons matching `person_scope` (a clause over `person_id`);
    `touch_visitors` narrows the sessions read to a superset of those persons' visitors."""
    return JOURNEYS_SELECT.replace("{person_scope}", person_scope).replace("{touch_visitors}", touch_visitors)
