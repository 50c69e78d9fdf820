"""How long a sync may keep going: the Lambda's remaining time minus a reserve, or no limit.

A run checks the deadline between pages and before every wait; once it has passed, the run
flushes what it fetched, saves its watermarks and stops, and the next run resumes. The reserve is
the time that final flush and save need.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol


class RemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


class Deadline:
    def __init__(self, remaining: Callable[[], float]) -> None:
        self._remaining = remaining

    @classmethod
    def unlimited(cls) -> Deadline:
        return cls(lambda: math.inf)

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        end = clock() + seconds
        return cls(lambda: end - clock())

    @classmethod
    def from_context(cls, context: RemainingTime, reserve_seconds: float = 60.0) -> Deadline:
        """Powertools/Lambda context: stop `reserve_seconds` before the function's timeout."""
        return cls(lambda: context.get_remaining_time_in_millis() / 1000 - reserve_seconds)

    def earliest(self, other: Deadline) -> Deadline:
        return Deadline(lambda: min(self.remaining(), other.remaining()))

    def remaining(self) -> float:
        """Seconds left (may be negative once passed; `inf` without a limit)."""
        return self._remaining()

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0
