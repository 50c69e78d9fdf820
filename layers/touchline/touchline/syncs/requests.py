"""What SyncFunction is asked to do, and by when it must stop.

Three ways in: the 15-minute schedule (`{"action": "fan_out"}`: queue one run per connected
site+provider), a SyncQueue message (`{"site_id", "provider"}`: run one) and a direct invoke
(`{"action": "run", "site_id", "provider", "full", "since", "max_seconds"}`, which `touchline
sync run` uses through the local stack). A run stops fetching `reserve_seconds` before the
Lambda's own timeout (or after `max_seconds`), so its last flush and checkpoint always happen.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from touchline.syncs.deadline import Deadline, RemainingTime


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

    @property
    def since_utc(self) -> datetime | None:
        """`since` with a zone: a bare date-time is UTC."""
        if self.since is not None and self.since.tzinfo is None:
            return self.since.replace(tzinfo=UTC)
        return self.since

    def deadline(self, context: RemainingTime, reserve_seconds: float) -> Deadline:
        deadline = Deadline.from_context(context, reserve_seconds)
        if self.max_seconds is not None:
            deadline = deadline.earliest(Deadline.after(self.max_seconds))
        return deadline


Request = TypeAdapter[FanOut | Run](Annotated[FanOut | Run, Field(discriminator="action")])
