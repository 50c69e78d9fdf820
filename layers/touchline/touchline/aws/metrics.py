"""Counts with their own dimensions, as CloudWatch embedded-metric-format lines.

Powertools' `Metrics.add_dimension` applies to every metric of the invocation's flush, so a
`reason` on one count would leak onto the others. `count` writes one EMF line per count with
the function's `service` dimension plus its own (bounded values: an error code, a dependency, a
table), so `HitsDropped` is one metric with a `reason` dimension, not one metric per reason.
"""

from __future__ import annotations

import json

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.base import SingleMetric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled


def count(metrics: Metrics, name: str, value: float = 1, **dimensions: str) -> None:
    """Publish `name` = `value` (a Count) under `service` and `dimensions`."""
    if not dimensions:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        return
    if is_metrics_disabled():
        return
    metric = SingleMetric(namespace=metrics.namespace)
    metric.add_metric(name=name, unit=MetricUnit.Count, value=value)
    if metrics.service:
        metric.add_dimension(name="service", value=metrics.service)
    for dimension, dimension_value in dimensions.items():
        metric.add_dimension(name=dimension, value=dimension_value or "none")
    print(json.dumps(metric.serialize_metric_set(), separators=(",", ":")), flush=True)
