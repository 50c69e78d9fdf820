"""SyncFunction: third-party syncs (Klaviyo, Shopify, HubSpot, Gorgias) into ClickHouse.

Three ways in:
* the 15-minute ScheduleV2 (`{"action": "fan_out"}`): queue one run per connected site+provider;
* SyncQueue messages (`{"site_id", "provider"}`): run one, stopping cleanly before the timeout;
* a direct invoke (`{"action": "run", "site_id", "provider", "full", "since", "max_seconds"}`),
  which `touchline sync run` uses through the local stack.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from touchline.syncs import wiring
from touchline.syncs.deadline import Deadline
from touchline.syncs.http import SyncError
from touchline.syncs.runner import RunReport
from touchline.syncs.service import fan_out, run_sync

logger = Logger(service="sync")
metrics = Metrics(namespace="Touchline", service="sync")
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=True)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FanOut(_Request):
    action: Literal["fan_out"] = "fan_out"


class Run(_Request):
    action: Literal["run"] = "run"
    site_id: str = Field(min_length=1, max_length=64)
    provider: Literal["klaviyo", "shopify", "hubspot", "gorgias"]
    full: bool = False
    since: datetime | None = None
    max_seconds: float | None = Field(None, gt=0)


Request = TypeAdapter[FanOut | Run](Annotated[FanOut | Run, Field(discriminator="action")])


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        with processor(records=event["Records"], handler=lambda record: _queued(record, context)):
            processor.process()
        return dict(processor.response())
    request = Request.validate_python(event or {"action": "fan_out"})
    if isinstance(request, FanOut):
        queued = fan_out(wiring.integrations(), wiring.run_queue())
        if queued:
            logger.info("queued sync runs", extra={"runs": queued})
            metrics.add_metric(name="SyncRunsQueued", unit=MetricUnit.Count, value=queued)
        return {"queued": queued}
    return _run(request, context)


def _queued(record: SQSRecord, context: LambdaContext) -> None:
    request = Run.model_validate_json(record.body)
    try:
        _run(request, context)
    except SyncError as exc:  # disconnected since the fan-out: nothing to retry
        logger.warning("sync run dropped", extra={"site_id": request.site_id, "error": str(exc)})


def _run(request: Run, context: LambdaContext) -> dict[str, Any]:
    deadline = Deadline.from_context(context, wiring.settings().reserve_seconds)
    if request.max_seconds is not None:
        deadline = deadline.earliest(Deadline.after(request.max_seconds))
    since = request.since
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    report = run_sync(
        wiring.environment(),
        request.site_id,
        request.provider,
        deadline=deadline,
        full=request.full,
        since=since,
    )
    _measure(report)
    return report.summary()


def _measure(report: RunReport) -> None:
    rows = sum(p.rows for p in report.streams.values())
    metrics.add_metric(name=f"SyncRows_{report.provider}", unit=MetricUnit.Count, value=rows)
    if report.error:
        metrics.add_metric(name=f"SyncFailures_{report.provider}", unit=MetricUnit.Count, value=1)
        logger.warning("sync failed", extra=report.summary())
    else:
        logger.info("synced", extra=report.summary())
