"""Money as processors send it → exact `Decimal` major units, by each currency's decimal places.

Stripe sends integers in the currency's minor unit; how many minor units make one major unit is
the ISO 4217 exponent (JPY, KRW: 0; USD, EUR: 2; KWD, BHD: 3), except for the few currencies where
Stripe documents its own rule (https://docs.stripe.com/currencies: MGA is zero-decimal there, ISK
is sent with two decimals). Shopify and the payments API send major units as decimal strings or
numbers, which must not carry more places than the currency has. Floats never touch an amount.
"""

from __future__ import annotations

import importlib.util
import json
import os
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache

# ISO 4217 currencies whose minor unit is not 1/100 (everything else has exponent 2).
_ZERO = "BIF BYR CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
ISO_EXPONENTS: dict[str, int] = {
    **{code: 0 for code in _ZERO.split()},
    **{code: 3 for code in _THREE.split()},
    "CLF": 4,
    "UYW": 4,
}
# Where Stripe's minor unit differs from ISO 4217 (docs.stripe.com/currencies, "zero-decimal" and
# "special cases").
STRIPE_EXPONENTS: dict[str, int] = {**ISO_EXPONENTS, "MGA": 0, "ISK": 2}
# Decimal(18, 4) in ClickHouse: 14 integer digits.
MAX_AMOUNT = Decimal("99999999999999.9999")


class InvalidAmount(ValueError):
    """An amount or currency that cannot be stored exactly."""


# Withdrawn since 2008 but still in processors' and shops' order history (backfills, old
# refunds): accepted so such money is not refused. XXX ("no currency") and XTS (testing) are
# ISO 4217 codes that are not money.
WITHDRAWN = frozenset("BYR CUC CYP EEK HRK LTL LVL MRO MTL SIT SKK SLL STD VEF ZMK ZWL".split())  # noqa: SIM905
NOT_MONEY = frozenset({"XXX", "XTS"})


def normalize_currency(code: str) -> str:
    """Three ASCII letters, upper-cased: the shape only (see `iso_currency` for the list)."""
    currency = code.strip().upper()
    if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        raise InvalidAmount(f"not an ISO 4217 currency code: {code!r}")
    return currency


@cache
def listed_currencies() -> frozenset[str]:
    """ISO 4217's active codes as pycountry ships them (its data file, read without importing
    the package: 1 ms, not 250), plus `WITHDRAWN`, less `NOT_MONEY`."""
    spec = importlib.util.find_spec("pycountry")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:  # pragma: no cover - pycountry is a requirement of the layer
        raise RuntimeError("pycountry is not installed: it holds the ISO 4217 list")
    with open(os.path.join(locations[0], "databases", "iso4217.json"), "rb") as data:
        active = {entry["alpha_3"] for entry in json.load(data)["4217"]}
    return frozenset((active | WITHDRAWN) - NOT_MONEY)


def is_listed(currency: str) -> bool:
    return currency in listed_currencies()


def iso_currency(code: str) -> str:
    """A currency code where money enters (hits, the tracking and payments APIs, syncs): upper
    case and in ISO 4217 (`listed_currencies`), else `InvalidAmount`. "NAN" is three letters."""
    currency = normalize_currency(code)
    if not is_listed(currency):
        raise InvalidAmount(f"{currency!r} is not an ISO 4217 currency code")
    return currency


def exponent(currency: str, table: dict[str, int] = ISO_EXPONENTS) -> int:
    return table.get(normalize_currency(currency), 2)


def from_minor(amount: int, currency: str, table: dict[str, int] = ISO_EXPONENTS) -> Decimal:
    """`1999` USD → `19.99`; `1999` JPY → `1999`; `1999` KWD → `1.999`."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount(f"minor-unit amount must be an integer, got {amount!r}")
    value = Decimal(amount).scaleb(-exponent(currency, table))
    return _checked(value)


def from_stripe(amount: int, currency: str) -> Decimal:
    return from_minor(amount, currency, STRIPE_EXPONENTS)


STORED_PLACES = Decimal("0.0001")  # Decimal(18, 4)


def from_minor_decimal(
    amount: str | int | Decimal, currency: str, table: dict[str, int] = ISO_EXPONENTS
) -> Decimal:
    """A decimal string of minor units (Stripe's `unit_amount_decimal`: `"1250.5"` USD → `12.505`),
    rounded half-even to the 4 places the warehouse stores (unit prices may carry fractions of a cent)."""
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise InvalidAmount(f"not an amount: {amount!r}") from None
    if not value.is_finite():
        raise InvalidAmount(f"not an amount: {amount!r}")
    # Checked before quantizing: a quantize past Decimal's 28 digits raises InvalidOperation.
    major = _checked(value.scaleb(-exponent(currency, table)))
    return major.quantize(STORED_PLACES, ROUND_HALF_EVEN)


def from_major(amount: str | int | float | Decimal, currency: str) -> Decimal:
    """`"19.99"` USD → `19.99`; refuses more decimal places than the currency has (`"1.5"` JPY)."""
    if isinstance(amount, bool):
        raise InvalidAmount(f"not an amount: {amount!r}")
    try:
        # A float goes through its shortest repr, so 19.99 is 19.99, not 19.989999….
        value = Decimal(repr(amount)) if isinstance(amount, float) else Decimal(str(amount).strip())
    except InvalidOperation:
        raise InvalidAmount(f"not an amount: {amount!r}") from None
    if not value.is_finite():
        raise InvalidAmount(f"not an amount: {amount!r}")
    _checked(value)  # before quantizing: past Decimal's 28 digits that raises InvalidOperation
    places = exponent(currency)
    if value != value.quantize(Decimal(1).scaleb(-places)):
        code = normalize_currency(currency)
        raise InvalidAmount(f"{amount} has more decimal places than {code} allows ({places})")
    return _checked(value)


def _checked(value: Decimal) -> Decimal:
    if abs(value) > MAX_AMOUNT:
        raise InvalidAmount(f"amount {value} is too large")
    return value
