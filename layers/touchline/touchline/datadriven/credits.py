"""Credits computed from journeys, in ClickHouse: `attribution_credits`-shaped rows for any model
under any touches variant.

The scheduled aggregation stores the data-driven models' credits from here (touches `all`);
reports and the query API compute the `clicks_only` / `paid_only` variants from here on demand,
for every model. A variant first drops touches (touchline.datadriven.paths); the model then
sees only the kept touches:

- data-driven models split the conversion's value among the distinct kept channels in
  proportion to their weight in the stored fit of that variant (removal effect or Shapley value),
  equally among a channel's touches; if all of them weigh 0 (channels the fit never saw), equally
  among the distinct channels;
- rule-based models apply their rule (docs/attribution.md) to the kept touches.

Every conversion's credits are then rounded to its currency's minor unit by the same largest
remainder rule as the stored rule-based credits, so they add up to its revenue exactly; a
conversion without touchpoints gets one `(none)` row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from touchline.aggregate.attribution import (
    DIRECT,
    LARGEST_REMAINDER_COLUMNS,
    NONE_CHANNEL,
    UNITS_COLUMNS,
    currency_parameters,
)
from touchline.aggregate.attribution import MODELS as RULE_BASED
from touchline.datadriven import MODELS as DATA_DRIVEN
from touchline.datadriven import TOUCHES
from touchline.datadriven.paths import PAID_CHANNELS, kept_mask

# The kept touches' fit weights: looked up in attribution_fits, so no value is spliced into SQL.
_WEIGHTS = """
weights AS (
    SELECT groupArray(concat(model, '|', conversion_kind, '|', channel)) AS weight_keys,
           groupArray(effect) AS weight_values,
           groupArrayIf(concat(model, '|', conversion_kind), channel = '' AND status = 'ok') AS fitted
    FROM attribution_fits FINAL
    WHERE site_id = {site:String} AND touches = {touches:String})"""

_WEIGHT = (
    "transform(concat(model, '|', conversion_kind, '|', {channel}), "
    "(SELECT weight_keys FROM weights), (SELECT weight_values FROM weights), 0.)"
)

# Credits of one model over the kept touches (positions `kept_at`, m of them), as an array over
# all touches (0 for the dropped ones).
_MODEL_CREDITS = f"""multiIf(
    model = 'first_touch', arrayMap(i -> toFloat64(indexOf(kept_at, i) = 1), idx),
    model = 'last_touch', arrayMap(i -> toFloat64(indexOf(kept_at, i) = m), idx),
    model = 'last_non_direct', arrayMap(i -> toFloat64(indexOf(kept_at, i) = if(last_non_direct_raw = 0, m,
                                                                           last_non_direct_raw)), idx),
    model = 'linear', arrayMap(i -> if(indexOf(kept_at, i) > 0, 1 / m, 0.), idx),
    model = 'time_decay',
        arrayMap(i -> if(indexOf(kept_at, i) > 0, decay[i] / arraySum(kept_decay), 0.), idx),
    model = 'position_based', arrayMap(i -> if(indexOf(kept_at, i) = 0, 0.,
        multiIf(m = 1, 1., m = 2, 0.5, indexOf(kept_at, i) = 1 OR indexOf(kept_at, i) = m, 0.4,
                0.2 / (m - 2))), idx),
    arrayMap(i -> if(kept[i] = 0, 0.,
                     if(total_weight > 0, {_WEIGHT.format(channel="channels[i]")} / total_weight,
                        1 / length(distinct_channels))
                     / countEqual(kept_channels, channels[i])), idx))"""

CREDITS_SELECT = f"""
WITH
{_WEIGHTS.strip()},
modelled AS (
    SELECT *, model
    FROM (SELECT * FROM journeys FINAL
          WHERE site_id = {{site:String}} AND converted = 1 AND ({{journey_scope}})) AS j
    ARRAY JOIN {{credit_models:Array(String)}} AS model
    WHERE has({{rule_based_models:Array(String)}}, model)
       OR has((SELECT fitted FROM weights), concat(model, '|', conversion_kind))),
weighted AS (
    SELECT *,
        length(channels) AS n,
        arrayEnumerate(channels) AS idx,
        {{kept_mask}} AS kept,
        arrayFilter(i -> kept[i] = 1, idx) AS kept_at,
        length(kept_at) AS m,
        arrayFilter((c, k) -> k = 1, channels, kept) AS kept_channels,
        arrayDistinct(kept_channels) AS distinct_channels,
        arraySum(arrayMap(c -> {_WEIGHT.format(channel="c")}, distinct_channels)) AS total_weight,
        arrayLastIndex(c -> c != '{DIRECT}', kept_channels) AS last_non_direct_raw,
        arrayMap(t -> exp2(-(toFloat64(dateDiff('millisecond', t, ended_at)) / {{half_life_ms:Float64}})),
                 touch_ats) AS decay,
        arrayFilter((d, k) -> k = 1, decay, kept) AS kept_decay,
        {_MODEL_CREDITS} AS model_credits,
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
    toUInt64({{version:UInt64}}) AS version, toUInt8(0) AS is_deleted
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
    """Credit rows (attribution_credits columns) of the converted journeys matching `journey_scope`
    (a clause over journeys' columns), under `touches`. Its parameters: `site`, `version` and
    `credit_parameters(...)`."""
    if touches not in TOUCHES:
        raise ValueError(f"touches must be one of {', '.join(TOUCHES)}")
    return CREDITS_SELECT.replace("{journey_scope}", journey_scope).replace("{kept_mask}", kept_mask(touches))


def credit_parameters(touches: str, models: Iterable[str], half_life_ms: float) -> dict[str, Any]:
    """The parameters of `credits_select` besides `site` and `version`."""
    chosen = list(models)
    unknown = [m for m in chosen if m not in RULE_BASED and m not in DATA_DRIVEN]
    if unknown or not chosen:
        raise ValueError(f"unknown models: {unknown}")
    return {
        "touches": touches,
        "credit_models": chosen,
        "rule_based_models": list(RULE_BASED),
        "paid_channels": list(PAID_CHANNELS),
        "half_life_ms": float(half_life_ms),
        **currency_parameters(),
    }
