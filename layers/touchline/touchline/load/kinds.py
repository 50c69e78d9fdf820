"""Every kind of row the loader accepts: the envelope `kind` is the ClickHouse table it goes to.

Adding a table to the pipeline = a migration creating it, a `Row` model for it, and a line
here. The loader validates each message against the model its kind names (a tagged union, so
pydantic-core picks the model without trying the others).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

from touchline.accounts.audit import AuditRow
from touchline.consent.rows import ConsentEventRow
from touchline.envelope import Row
from touchline.identity.rows import IdentityLinkRow, PersonRow
from touchline.ingest.rows import EventRow
from touchline.outgoing_webhooks.log import DeliveryRow
from touchline.revenue.rows import OrderLineItemRow, OrderRow, RefundRow
from touchline.syncs import rows as syncs
from touchline.tracking.carts import CartEventRow, ProductReviewRow, WishlistEventRow
from touchline.tracking.devices import DeviceRow
from touchline.tracking.objects import ObjectEventRow, ObjectRow, RelationshipRow
from touchline.tracking.video import VideoEventRow

# table name -> row model
ROW_MODELS: dict[str, type[Row]] = {
    "events": EventRow,
    "identity_links": IdentityLinkRow,
    "orders": OrderRow,
    "order_line_items": OrderLineItemRow,
    "refunds": RefundRow,
    "people": PersonRow,
    "campaign_statistics": syncs.CampaignStatisticsRow,
    "klaviyo_attributions": syncs.KlaviyoAttributionRow,
    "flow_statistics": syncs.FlowStatisticsRow,
    "form_statistics": syncs.FormStatisticsRow,
    "segment_statistics": syncs.SegmentStatisticsRow,
    "products": syncs.ProductRow,
    "integration_customers": syncs.IntegrationCustomerRow,
    "customer_events": syncs.CustomerEventRow,
    "audit_log": AuditRow,
    "devices": DeviceRow,
    "objects": ObjectRow,
    "relationships": RelationshipRow,
    "object_events": ObjectEventRow,
    "video_events": VideoEventRow,
    "consent_events": ConsentEventRow,
    "cart_events": CartEventRow,
    "wishlist_events": WishlistEventRow,
    "product_reviews": ProductReviewRow,
    "webhook_deliveries": DeliveryRow,
}


class Envelope(BaseModel):
    """What every envelope has; the generated per-kind models add `kind` and `row`."""

    model_config = ConfigDict(extra="forbid")

    v: Literal[1]


@cache
def envelope_adapter() -> TypeAdapter[Any]:
    models = [
        create_model(
            f"{table.title().replace('_', '')}Envelope",
            __base__=Envelope,
            kind=(Literal[table], ...),
            row=(model, ...),
        )
        for table, model in ROW_MODELS.items()
    ]
    if len(models) == 1:
        return TypeAdapter(models[0])
    return TypeAdapter(Annotated[Union[tuple(models)], Field(discriminator="kind")])  # noqa: UP007
