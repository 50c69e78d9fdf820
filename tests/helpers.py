"""Helpers shared by tests: load the real Lambda handlers and their sample events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Tests and benchmarks import handlers the same way (as Lambda does: by file, own module name).
from bench.common import load_function as load_handler_module

__all__ = ["ROOT", "TABLE", "LambdaContextStub", "load_handler_module", "sample_event"]

ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / "events"
TABLE = "touchline-config"


def sample_event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return data


class LambdaContextStub:
    function_name = "test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
