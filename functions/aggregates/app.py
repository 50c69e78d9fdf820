"""AggregatesFunction: every 15 minutes, sessions + attribution + rollups + due commerce jobs for every
site; `{"job": "commerce"}` runs only the commerce jobs, all of them (`touchline commerce run`).

With `AggregationGroups` > 1 the schedule and a direct invoke (either job) only queue one run per
site group on AggregationQueue, and each queued message runs its group's sites
(touchline.aggregate.groups)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.aggregate.groups import GroupRun, Schedule
from touchline.aggregate.service import aggregation_groups, queue_groups, scheduled, scheduled_commerce

logger = Logger(service="aggregates")
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=True)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:  # AggregationQueue: one group's run per message
        with processor(records=event["Records"], handler=lambda record: _group(record, context)):
            processor.process()
        return dict(processor.response())
    request = Schedule.model_validate(event or {})
    if aggregation_groups() > 1:  # every run waits on its site group's queue
        queued = queue_groups(request, datetime.now(UTC))
        logger.info("queued aggregation runs", extra={"groups": queued, "job": request.job})
        return {"queued": queued}
    return _run(request, context, None)


def _group(record: SQSRecord, context: LambdaContext) -> None:
    request = GroupRun.model_validate_json(record.body)
    _run(request, context, (request.group, request.groups))


def _run(request: Schedule, context: LambdaContext, group: tuple[int, int] | None) -> dict[str, Any]:
    if request.job == "commerce":  # `touchline commerce run`
        done = scheduled_commerce(request.site, request.full, group)
        logger.info("commerce", extra=done)
        return done
    result = scheduled(
        site_id=request.site,
        full=request.full,
        refit=request.refit,
        remaining_ms=context.get_remaining_time_in_millis,
        group=group,
    )
    logger.info("aggregated", extra={**result.as_dict(), "group": group})
    return result.as_dict()
