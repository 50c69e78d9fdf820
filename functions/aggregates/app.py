"""AggregatesFunction: every 15 minutes, sessions + attribution + rollups + due commerce jobs for every
site; `{"job": "commerce"}` runs only the commerce jobs, all of them (`touchline commerce run`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.aggregate.service import scheduled, scheduled_commerce

logger = Logger(service="aggregates")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("job") == "commerce":  # `touchline commerce run`
        done = scheduled_commerce(event.get("site") or None, bool(event.get("full")))
        logger.info("commerce", extra=done)
        return done
    result = scheduled(
        site_id=event.get("site") or None,
        full=bool(event.get("full")),
        refit=bool(event.get("refit")),
        remaining_ms=context.get_remaining_time_in_millis,
    )
    logger.info("aggregated", extra=result.as_dict())
    return result.as_dict()
