"""`touchline dev`: the local stack that serves template.yaml without Docker."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from touchline_dev.cli import context
from touchline_dev.cli.errors import CliError


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    dev = commands.add_parser("dev", parents=[common], help="run the local stack (no Docker)")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.add_argument("--template", default="template.yaml", help="SAM template to serve")
    dev.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from touchline_dev.devstack.runner import serve

    template = Path(args.template)
    if not template.exists():
        raise CliError(f"{template} not found: run from the repository root or pass --template")
    serve(host=args.host, port=args.port, data_dir=context.data_dir(args.data_dir), template=template)
    return 0
