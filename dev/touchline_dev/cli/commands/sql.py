"""`touchline sql QUERY`: ask the warehouse, through the running stack when there is one."""

from __future__ import annotations

import argparse
import json
from typing import Any

from touchline_dev.cli import context


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    sql = commands.add_parser("sql", parents=[common], help="run a query against the warehouse")
    sql.add_argument("query")
    sql.add_argument("--format", choices=["tsv", "json"], default="tsv")
    sql.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    columns, rows = context.query(context.data_dir(args.data_dir), args.query)
    print(format_rows(columns, rows, args.format))
    return 0


def format_rows(columns: list[str], rows: list[list[Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=str)
    return "\n".join("\t".join(_tsv_cell(v) for v in row) for row in rows)


def _tsv_cell(value: Any) -> str:
    text = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
