"""`touchline query '<json>'`: run any Stats API v2 query locally, as `POST /api/v2/query` would."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from touchline_dev.cli.engine import run_query
from touchline_dev.cli.errors import CliError


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    query = commands.add_parser(
        "query",
        parents=[common],
        help="run a Stats API v2 query (JSON, or - for stdin) against the local warehouse",
        description="Runs the query through the same engine as POST /api/v2/query (docs/query-api.md), "
        "as the operator: every site is readable, no key or rate limit applies.",
    )
    query.add_argument(
        "json",
        help='the query, e.g. \'{"site_id": "shop.example.com", "metrics": ["visitors"], '
        '"date_range": "7d"}\'',
    )
    query.add_argument("--compact", action="store_true", help="one line of JSON instead of indented")
    query.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.json == "-" else args.json
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise CliError(f"the query is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise CliError("the query must be a JSON object")
    result = run_query(args, payload)
    print(json.dumps(result, ensure_ascii=False, indent=None if args.compact else 2))
    return 0
