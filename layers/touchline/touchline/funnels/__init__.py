"""Funnels: ordered steps (page patterns or goals) within a time window, computed in ClickHouse
(docs/goals-funnels.md)."""
