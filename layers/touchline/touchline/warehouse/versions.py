"""Per-site data versions: what the query cache keys on (migration 0050, docs/query-api.md).

Every insert into a table the query engine reads moves its site's version by itself (a
materialized view adds a row to `data_versions` inside the INSERT). A mutation fires no view, so
the code that mutates rows in place (GDPR deletes) calls `bump` once the mutation is done.
"""

from __future__ import annotations

from collections.abc import Iterable

from touchline.warehouse.sql import Sql

# The tables the query engine reads (each has a `<table>_data_version` view in migration 0050);
# tests/unit/test_query_data_version.py checks that the engine reads no other table.
VERSIONED_TABLES = (
    "events",
    "sessions",
    "attribution_credits",
    "attribution_fits",
    "journeys",
    "orders",
    "order_line_items",
    "refunds",
    "identity_links",
    "devices",
    "customer_profiles",
    "products_master",
    "product_relationships",
    "identity_map",
    "objects",
    "relationships",
    "video_events",
    "cart_events",
    "wishlist_events",
    "product_reviews",
    "consent_events",
)

BUMP_SQL = """
INSERT INTO data_versions (site_id, table_name, writes, rows, stored_at, nonce)
SELECT {site:String}, arrayJoin({tables:Array(String)}), 1, 0, now64(3, 'UTC'), rand64()
"""


def bump(sql: Sql, site_id: str, tables: Iterable[str]) -> None:
    """Move `site_id`'s version for `tables` (after changing their rows other than by INSERT)."""
    versioned = sorted(set(tables) & set(VERSIONED_TABLES))
    if versioned:
        sql.command(BUMP_SQL, {"site": site_id, "tables": versioned})
