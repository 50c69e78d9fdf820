"""Identity resolution figures: `resolve()` in the embedded ClickHouse on a realistic link graph.

Baseline, measured in the same run: streaming the same links out of ClickHouse and running a
Python union-find over them (without writing anything back), the alternative design.
"""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.common import timed

PEOPLE = 20_000


def links(people: int) -> list[str]:
    """Per person: 1-4 devices linked to the user id, an email, sometimes a Stripe customer."""
    from touchline.identity.rows import IdentityLinkRow

    at = datetime(2026, 11, 1, tzinfo=UTC)
    rng = random.Random(7)
    rows = []
    for p in range(people):
        user = ("user", f"u{p}")
        for d in range(rng.randint(1, 4)):
            rows.append(IdentityLinkRow.between("site1", ("anonymous", f"a{p}-{d}"), user, "identify", at))
        rows.append(IdentityLinkRow.between("site1", user, ("email_sha256", f"{p:064x}"), "identify", at))
        if p % 5 == 0:
            rows.append(IdentityLinkRow.between("site1", ("stripe_customer", f"cus_{p}"), user, "stripe", at))
    return [row.to_json() for row in rows]


def union_find(edges: list[tuple[str, str]]) -> int:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    return len({find(x) for x in list(parent)})


def run() -> list[tuple[str, str]]:
    from touchline.identity.resolve import resolve
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate
    from touchline.warehouse.sql import ClientSql

    with tempfile.TemporaryDirectory() as tmp:
        client = connect(f"chdb://{Path(tmp) / 'ch'}?database=bench")
        migrate(client)
        rows = links(PEOPLE)
        client.raw_insert("identity_links", insert_block="\n".join(rows).encode(), fmt="JSONEachRow")
        first = resolve(ClientSql(client), "site1")
        again = resolve(ClientSql(client), "site1")
        assert first.persons == PEOPLE and again.changed == 0

        def python_components() -> None:
            edges = [
                (f"{a}:{b}", f"{c}:{d}")
                for a, b, c, d in client.query(
                    "SELECT from_type, from_id, to_type, to_id FROM identity_links FINAL"
                ).result_rows
            ]
            assert union_find(edges) == PEOPLE

        baseline = timed(python_components)
    return [
        (f"identity resolve, {len(rows):,} links / {PEOPLE:,} people, first run s", f"{first.seconds:.2f}"),
        ("  rerun with nothing changed s (writes nothing)", f"{again.seconds:.2f}"),
        ("  rounds of label propagation", str(first.rounds)),
        ("  baseline: stream links out + Python union-find s (no write-back)", f"{baseline:.2f}"),
        ("  resolve / baseline", f"{first.seconds / baseline:.1f}x"),
    ]


if __name__ == "__main__":
    for label, figure in run():
        print(f"{label:<80} {figure}")
