"""The collector's cold import skips Powertools' other event handlers, and every way of importing
from the event-handler package still works afterwards in the same process (the local stack runs
all functions in one)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CODE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location('app', 'functions/collector/app.py')
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
skipped = [n for n in ('aws_lambda_powertools.event_handler.appsync', 'asyncio') if n not in sys.modules]
from aws_lambda_powertools.event_handler import AppSyncResolver, Response, content_types
import aws_lambda_powertools.event_handler as package
from aws_lambda_powertools.event_handler import api_gateway
print(json.dumps({
    "skipped": skipped,
    "same_response": Response is api_gateway.Response is module.Response,
    "package_names": [n for n in package.__all__ if not hasattr(package, n)],
    "appsync": AppSyncResolver.__module__,
    "json": content_types.APPLICATION_JSON,
}))
"""


def test_the_collector_imports_no_other_resolver_and_the_package_still_imports_whole() -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", CODE], cwd=root, capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {
        "skipped": ["aws_lambda_powertools.event_handler.appsync", "asyncio"],
        "same_response": True,
        "package_names": [],
        "appsync": "aws_lambda_powertools.event_handler.appsync",
        "json": "application/json",
    }
