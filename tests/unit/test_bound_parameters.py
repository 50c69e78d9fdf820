"""Every value the layer sends ClickHouse is a server-side parameter (`{name:Type}`): no module
of the `touchline` package builds SQL with clickhouse-connect's client-side `%(name)s` binding,
which quotes values into the SQL text in Python."""

from __future__ import annotations

import re
from pathlib import Path

import touchline

CLIENT_SIDE = re.compile(r"%\(\w+\)s")


def test_no_client_side_placeholders_in_the_layer() -> None:
    root = Path(touchline.__file__).parent
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if CLIENT_SIDE.search(line)
    ]
    assert not found, found
