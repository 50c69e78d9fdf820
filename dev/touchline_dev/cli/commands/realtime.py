"""`touchline realtime SITE [--watch]`: who is on the site now, as `GET /api/v1/realtime` answers."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from touchline_dev.cli.engine import run_realtime


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    realtime = commands.add_parser(
        "realtime",
        parents=[common],
        help="visitors in the last 5 minutes, their pages, sources, countries; the last 30 minutes",
    )
    realtime.add_argument("site", help="site id or domain")
    realtime.add_argument("--format", choices=["table", "json"], default="table")
    realtime.add_argument(
        "--watch", type=float, metavar="SECONDS", help="ask again every SECONDS (Ctrl-C stops)"
    )
    realtime.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    while True:
        answer = run_realtime(args, args.site)
        print(json.dumps(answer) if args.format == "json" else _table(answer), flush=True)
        if not args.watch:
            return 0
        time.sleep(max(1.0, args.watch))


def _table(answer: dict[str, Any]) -> str:
    window = f"last {answer['active_minutes']} minutes, as of {answer['as_of']}"
    lines = [f"{answer['visitors']} current visitors ({window})"]
    for title, key in (("pages", "page"), ("sources", "source"), ("countries", "country")):
        rows = answer[title]
        lines.append(f"{title}: " + (", ".join(f"{r[key]} {r['visitors']}" for r in rows) or "-"))
    bars = " ".join(str(m["visitors"]) for m in answer["minutes"])
    lines.append(f"visitors per minute (oldest first): {bars}")
    return "\n".join(lines)
