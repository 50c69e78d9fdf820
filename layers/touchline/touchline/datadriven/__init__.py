"""Data-driven attribution: Markov-chain removal effects (k = 1…3) and Shapley values, fitted on
every journey (converted or not) and applied to each conversion's own path.

`markov` and `shapley` hold the mathematics (pure, no I/O); `paths` aggregates journeys into
path counts in ClickHouse; `fit` fits every model and stores it; `credits` applies a fit to
conversions, to the cent. Definitions, assumptions and caveats: docs/attribution.md.
"""

from __future__ import annotations

MARKOV_ORDERS = {"markov": 1, "markov_k2": 2, "markov_k3": 3}
MODELS = (*MARKOV_ORDERS, "shapley")
# Which touches a model sees (docs/attribution.md, "Variants").
TOUCHES = ("all", "clicks_only", "paid_only")
CONVERSION_KINDS = ("order", "goal")
