"""The scheduled aggregation: sessions, multi-touch attribution and daily rollups in ClickHouse.

Definitions live in docs/attribution.md; tests/oracle holds a pure-Python reference the SQL is
checked against.
"""
