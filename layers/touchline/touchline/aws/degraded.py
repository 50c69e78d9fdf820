"""Reporting that a function carries on without a dependency: a log line and a metric.

Some failures are better survived than passed on (a collector hit must not be lost because the
salt store is briefly unreachable), but never silently: each one counts `Degraded` with the
failing `dependency` as a dimension (alarmed on in template.yaml, `DegradedAlarm`), and the
first of a kind per container, then one every `log_every` seconds, is logged with its context
and the error, so a lasting failure (a missing permission) is visible from its first minute.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from aws_lambda_powertools import Metrics

from touchline.aws.metrics import count

log = logging.getLogger("touchline.degraded")
DEGRADED = "Degraded"


class DegradedReporter:
    def __init__(self, log_every: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._metrics = Metrics(
            namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Touchline"),
            service=os.environ.get("POWERTOOLS_SERVICE_NAME", "touchline"),
        )
        self._log_every = log_every
        self._clock = clock
        self._logged: dict[tuple[str, str], float] = {}

    def __call__(self, dependency: str, error: BaseException, /, **context: object) -> None:
        count(self._metrics, DEGRADED, dependency=dependency)
        kind = (dependency, type(error).__name__)
        now = self._clock()
        if now < self._logged.get(kind, float("-inf")):
            return
        self._logged[kind] = now + self._log_every
        log.warning(
            "%s failed; carrying on degraded: %s",
            dependency,
            error,
            extra={"dependency": dependency, "error_type": type(error).__name__, **context},
        )
