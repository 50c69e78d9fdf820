"""The data-driven models in the query language: `attributed_revenue:markov`, `…:markov_k2`,
`…:markov_k3`, `…:shapley` (and `attributed_conversions:` / `attributed_orders:` /
`attributed_goal_value:`), read from `attribution_credits` like the rule-based models
(docs/attribution.md, "Data-driven models")."""

from __future__ import annotations

from touchline.datadriven import MODELS
from touchline.query.builtin.attribution import register_model

for _model in MODELS:
    register_model(_model)
