"""A one-line progress bar on stderr, redrawn in place (no dependency; only the CLI imports it).

Syncs read records oldest first, so how far a stream has got in *time* is a good measure of a
backfill's progress: the bar fills from where the stream started (its watermark, or the first
record of a backfill) to now.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import TextIO

WIDTH = 24


def fraction(origin: datetime | None, reached: datetime | None, now: datetime) -> float | None:
    if origin is None or reached is None or now <= origin:
        return None
    return max(0.0, min(1.0, (reached - origin) / (now - origin)))


class ProgressLine:
    def __init__(self, out: TextIO = sys.stderr, enabled: bool | None = None, interval: float = 0.1) -> None:
        self.out = out
        self.enabled = out.isatty() if enabled is None else enabled
        self.interval = interval
        self._drawn = 0.0
        self._width = 0
        self._started = time.monotonic()

    def update(
        self,
        label: str,
        records: int,
        origin: datetime | None,
        reached: datetime | None,
        force: bool = False,
    ) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn < self.interval:
            return
        self._drawn = now
        done = fraction(origin, reached, datetime.now(UTC))
        bar = "?" * WIDTH if done is None else "#" * round(done * WIDTH) + "." * (WIDTH - round(done * WIDTH))
        percent = "  ?%" if done is None else f"{done * 100:3.0f}%"
        rate = records / max(now - self._started, 1e-6)
        at = f"  at {reached:%Y-%m-%d %H:%M}" if reached else ""
        line = f"{label:<30.30} [{bar}] {percent}  {records:,} records  {rate:,.0f}/s{at}"
        self.out.write("\r" + line.ljust(self._width))
        self._width = len(line)
        self.out.flush()

    def finish(self, text: str) -> None:
        """Replace the bar with a final line (or just print it when there is no bar)."""
        if self.enabled and self._width:
            self.out.write("\r" + " " * self._width + "\r")
        self.out.write(text + "\n")
        self.out.flush()
        self._width = 0
        self._started = time.monotonic()
