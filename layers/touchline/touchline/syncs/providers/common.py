"""Small pieces every provider needs: times, emails, customer rows and their identity links."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache
from typing import Any

import orjson

from touchline.envelope import EARLIEST, LATEST
from touchline.identity.resolve import person_id
from touchline.identity.rows import IdentityLinkRow, PersonRow, email_sha256, normalize_email
from touchline.revenue.money import MAX_AMOUNT, InvalidAmount, exponent, iso_currency
from touchline.syncs.rows import IntegrationCustomerRow
from touchline.syncs.streams import Batch


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 with `Z` or an offset, or epoch seconds/milliseconds → aware UTC; None if absent
    or unusable (the caller skips and reports the record)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            moment = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
        else:
            text = str(value).strip()
            if text.isdigit():
                return parse_time(int(text))
            moment = datetime.fromisoformat(text)
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return moment if EARLIEST <= moment < LATEST else None


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def clean_email(value: Any) -> str:
    email = normalize_email(str(value)) if isinstance(value, str) else ""
    return email if "@" in email else ""


def json_text(values: Mapping[str, Any]) -> str:
    """Traits/details as a compact JSON object, dropping empty values."""
    return orjson.dumps(
        {k: v for k, v in values.items() if v not in (None, "", [], {})}, option=orjson.OPT_SORT_KEYS
    ).decode()


def add_customer(
    batch: Batch,
    *,
    site_id: str,
    source: str,
    id_type: str,
    customer_id: str,
    email: str,
    created_at: datetime | None,
    updated_at: datetime,
    phone: str = "",
    first_name: str = "",
    last_name: str = "",
    traits: Mapping[str, Any] | None = None,
) -> None:
    """One integration customer; its link to its email (how identity resolution reaches it); and
    the traits it carries as a `people` row under the person id resolution will give it."""
    hashed = email_sha256(email) if email else ""
    batch.add(
        "integration_customers",
        IntegrationCustomerRow(
            site_id=site_id,
            source=source,
            customer_id=customer_id,
            email=email,
            email_sha256=hashed,
            phone=(phone or "")[:64],
            first_name=(first_name or "")[:256],
            last_name=(last_name or "")[:256],
            traits=json_text(traits or {}),
            created_at=created_at or updated_at,
            updated_at=updated_at,
            version=millis(updated_at),
        ),
    )
    if hashed:
        batch.add(
            "identity_links",
            IdentityLinkRow.between(
                site_id, (id_type, customer_id), ("email_sha256", hashed), source, updated_at
            ),
        )
    person_traits = {"first_name": first_name, "last_name": last_name, "phone": phone, "source": source}
    batch.add(
        "people",
        PersonRow(
            site_id=site_id,
            person_id=person_id("email_sha256", hashed) if hashed else person_id(id_type, customer_id),
            email=email,
            email_sha256=hashed,
            traits=json_text(person_traits),
            first_seen=created_at or updated_at,
            last_seen=updated_at,
            version=millis(updated_at),
        ),
    )


def money(value: Any, currency: str) -> Decimal:
    """A provider amount (number or decimal string) → exact major units in the currency's places.

    Klaviyo and HubSpot send floats (`59.970000000000006`); rounding half-even to the currency's
    decimal places undoes the float noise without inventing precision. `currency` must already
    be a normalised code (`currency_code`). Hot in backfills: a few calls per line item.
    """
    if value is None or value == "" or isinstance(value, bool):
        return _ZERO
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidAmount(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise InvalidAmount(f"not an amount: {value!r}")
    rounded = amount.quantize(_quantum(currency), rounding=ROUND_HALF_EVEN)
    if abs(rounded) > MAX_AMOUNT:
        raise InvalidAmount(f"amount {value} is too large")
    return rounded


_ZERO = Decimal(0)


@cache
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-exponent(currency))


def currency_code(*candidates: Any, default: str) -> str:
    """The first currency the record names, else the account's: an ISO 4217 code, or
    `InvalidAmount` (the record is skipped and listed in the run's `skipped`, never stored under
    the account's currency by mistake)."""
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return iso_currency(candidate)
    return iso_currency(default)
