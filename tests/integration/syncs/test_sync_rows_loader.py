"""The sync tables are in the pipeline too: their rows load through the events queue's loader."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from clickhouse_connect.driver.client import Client

from touchline.envelope import Row, envelope_json
from touchline.load.batch import LoadBatch
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.syncs import rows
from touchline.warehouse.client import connect

AT = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def _rows() -> list[tuple[str, Row]]:
    common = {"synced_at": AT, "version": 1}
    return [
        (
            "campaign_statistics",
            rows.CampaignStatisticsRow(
                site_id="s",
                campaign_id="c",
                campaign_message_id="m",
                date=date(2026, 9, 1),
                open_rate_pct=rows.pct(0.25),
                **common,
            ),
        ),
        (
            "flow_statistics",
            rows.FlowStatisticsRow(
                site_id="s", flow_id="f", flow_message_id="m", date=date(2026, 9, 1), **common
            ),
        ),
        (
            "form_statistics",
            rows.FormStatisticsRow(site_id="s", form_id="f", date=date(2026, 9, 1), **common),
        ),
        (
            "segment_statistics",
            rows.SegmentStatisticsRow(
                site_id="s", segment_id="g", date=date(2026, 9, 1), total_members=5, **common
            ),
        ),
        (
            "products",
            rows.ProductRow(
                site_id="s",
                source="shopify",
                product_id="p",
                tags=["a"],
                min_price=Decimal("1.5"),
                created_at=AT,
                updated_at=AT,
                version=1,
            ),
        ),
        (
            "integration_customers",
            rows.IntegrationCustomerRow(
                site_id="s", source="hubspot", customer_id="1", created_at=AT, updated_at=AT, version=1
            ),
        ),
        (
            "customer_events",
            rows.CustomerEventRow(
                site_id="s",
                source="gorgias",
                event_id="ticket:1",
                event_type="ticket",
                occurred_at=AT,
                updated_at=AT,
                event_details='{"status":"open"}',
                version=1,
            ),
        ),
    ]


def test_every_sync_table_loads_from_an_envelope(warehouse_url: str) -> None:
    client: Client = connect(warehouse_url)
    batch = LoadBatch(ClickHouseRowSink(client))
    for index, (table, row) in enumerate(_rows()):
        batch.add(envelope_json(table, row), key=str(index))
    inserted, rejected, _ = batch.flush()
    assert rejected == [] and sum(inserted.values()) == 7
    for table, _row in _rows():
        assert client.query(f"SELECT count() FROM {table} FINAL").result_rows[0][0] == 1, table
    assert client.query("SELECT open_rate_pct FROM campaign_statistics").result_rows[0][0] == 25.0
