"""A fit applied to conversions, in ClickHouse: `attribution_credits` rows for the data-driven models.

Each converted journey's value is split among the distinct channels of its (variant-filtered)
path in proportion to their weights (removal effects or Shapley values), equally among a
channel's touches, then rounded to the currency's minor unit by the same largest-remainder rule
as the rule-based models, so a conversion's rows add up to its revenue exactly. A path whose
channels all weigh 0 (a channel the fit never saw) is split equally among its distinct channels;
a conversion without touchpoints gets one `(none)` row, as under the rule-based models.
"""

from __future__ import annotations

from typing import Any

from touchline.aggregate.attribution import LARGEST_REMAINDER_COLUMNS, NONE_CHANNEL, UNITS_COLUMNS
from touchline.datadriven.fit import Fit
from touchline.datadriven.paths import kept_mask

_WEIGHT = "transform(concat(model, '|', conversion_kind, '|', {channel}), %(w_keys)s, %(w_values)s, 0.)"

CREDITS_SELECT = f"""
WITH
modelled AS (
    SELECT *, model
    FROM (SELECT * FROM journeys FINAL
          WHERE site_id = %(site)s AND converted = 1 AND ({{journey_scope}})) AS j
    ARRAY JOIN %(dd_models)s AS model
    WHERE has(%(dd_fitted)s, concat(model, '|', conversion_kind))),
weighted AS (
    SELECT *,
        length(channels) AS n,
        arrayEnumerate(channels) AS idx,
        {{kept_mask}} AS kept,
        arrayFilter((c, k) -> k = 1, channels, kept) AS kept_channels,
        arrayDistinct(kept_channels) AS distinct_channels,
        arraySum(arrayMap(c -> {_WEIGHT.format(channel="c")}, distinct_channels)) AS total_weight,
        arrayMap(i -> if(kept[i] = 0, 0.,
                         if(total_weight > 0, {_WEIGHT.format(channel="channels[i]")} / total_weight,
                            1 / length(distinct_channels))
                         / countEqual(kept_channels, channels[i])), idx) AS model_credits,
        {UNITS_COLUMNS}
    FROM modelled),
rounded AS (
    SELECT *,
        if(n = 0, [1.], model_credits) AS credits,
        {LARGEST_REMAINDER_COLUMNS}
    FROM weighted)
SELECT
    site_id, journey_id AS conversion_id, conversion_kind, conversion_name, person_id,
    ended_at AS converted_at, model,
    toUInt16(if(n = 0, 0, touch_index)) AS touch_index, toUInt16(n) AS touch_count,
    session_id, visitor_id, touch_at, channel, source, medium, campaign, content, term, device_type,
    credit, currency, toDecimal128(revenue, 4) AS revenue,
    toDecimal128(sign * share, 4) / intExp10(unit_exp) AS attributed_revenue,
    toUInt64(%(version)s) AS version, toUInt8(0) AS is_deleted
FROM rounded
ARRAY JOIN
    credits AS credit, shares AS share, arrayEnumerate(credits) AS touch_index,
    if(n = 0, [''], session_ids) AS session_id, if(n = 0, [''], visitor_ids) AS visitor_id,
    if(n = 0, [ended_at], touch_ats) AS touch_at,
    if(n = 0, ['{NONE_CHANNEL}'], arrayMap(c -> toString(c), channels)) AS channel,
    if(n = 0, [''], sources) AS source, if(n = 0, [''], mediums) AS medium,
    if(n = 0, [''], campaigns) AS campaign, if(n = 0, [''], contents) AS content,
    if(n = 0, [''], terms) AS term, if(n = 0, [''], device_types) AS device_type
WHERE credit > 0
"""


def credits_select(touches: str = "all", journey_scope: str = "1") -> str:
    """Credit rows (attribution_credits columns) of the converted journeys in `journey_scope`
    (a clause over journeys' columns), for the fits in `weight_parameters`."""
    return CREDITS_SELECT.replace("{journey_scope}", journey_scope).replace("{kept_mask}", kept_mask(touches))


def weight_parameters(fits: list[Fit]) -> dict[str, Any]:
    """The usable fits as query parameters (placeholders keep the arrays typed when there are none)."""
    usable = [f for f in fits if f.ok]
    keys = [f"{f.model}|{f.conversion_kind}|{c}" for f in usable for c in sorted(f.effects)]
    values = [f.effects[c] for f in usable for c in sorted(f.effects)]
    return {
        "dd_models": sorted({f.model for f in usable}) or ["\x00none"],
        "dd_fitted": [f"{f.model}|{f.conversion_kind}" for f in usable] or ["\x00none"],
        "w_keys": keys or ["\x00none"],
        "w_values": values or [0.0],
    }
