"""Minor units → exact major units, by currency exponent; major units checked against it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from touchline.revenue.money import (
    NOT_MONEY,
    WITHDRAWN,
    InvalidAmount,
    exponent,
    from_major,
    from_minor,
    from_minor_decimal,
    from_stripe,
    is_listed,
    iso_currency,
    listed_currencies,
)


@pytest.mark.parametrize(
    ("minor", "currency", "major"),
    [
        (1999, "usd", "19.99"),
        (1999, "JPY", "1999"),
        (1999, "KRW", "1999"),
        (1999, "kwd", "1.999"),
        (1999, "BHD", "1.999"),
        (5, "EUR", "0.05"),
        (0, "USD", "0"),
    ],
)
def test_from_minor_uses_the_iso_exponent(minor: int, currency: str, major: str) -> None:
    assert from_minor(minor, currency) == Decimal(major)


def test_stripe_special_cases_differ_from_iso() -> None:
    assert from_minor(1000, "MGA") == Decimal("10.00")  # ISO: 2 decimals
    assert from_stripe(1000, "MGA") == Decimal(1000)  # Stripe: zero-decimal
    assert from_minor(1000, "ISK") == Decimal(1000)  # ISO: 0 decimals
    assert from_stripe(1000, "ISK") == Decimal("10.00")  # Stripe: sent with two decimals


@given(st.integers(min_value=0, max_value=10**14 - 1), st.sampled_from(["USD", "JPY", "KWD", "EUR", "CLF"]))
def test_minor_units_round_trip_exactly(minor: int, currency: str) -> None:
    major = from_minor(minor, currency)
    assert major.scaleb(exponent(currency)) == minor


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("19.99", "USD", "19.99"),
        (19.99, "USD", "19.99"),
        ("1500.00", "JPY", "1500"),
        ("1.234", "KWD", "1.234"),
    ],
)
def test_from_major_accepts_the_currency_places(amount: str | float, currency: str, expected: str) -> None:
    assert from_major(amount, currency) == Decimal(expected)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("1.5", "JPY"),
        ("19.999", "USD"),
        ("1.2345", "KWD"),
        ("abc", "USD"),
        ("NaN", "USD"),
        ("1e20", "USD"),
        ("1e400", "USD"),
        (str(10**30), "JPY"),
    ],
)
def test_from_major_refuses_what_cannot_be_stored_exactly(amount: str, currency: str) -> None:
    with pytest.raises(InvalidAmount):
        from_major(amount, currency)


@pytest.mark.parametrize("currency", ["US", "usdx", "12$", ""])
def test_bad_currency_codes_are_refused(currency: str) -> None:
    with pytest.raises(InvalidAmount):
        from_minor(100, currency)


def test_amounts_beyond_decimal_18_4_are_refused() -> None:
    with pytest.raises(InvalidAmount):
        from_minor(10**14, "JPY")


@pytest.mark.parametrize("amount", ["1e400", str(10**40), 10**40])
def test_fractional_minor_units_beyond_decimal_precision_are_refused(amount: str | int) -> None:
    """Past Decimal's 28 digits a quantize raises InvalidOperation (a 5xx), not InvalidAmount."""
    with pytest.raises(InvalidAmount):
        from_minor_decimal(amount, "USD")


def test_the_iso_4217_list_is_pycountrys_plus_withdrawn_codes_less_non_money() -> None:
    """Issue 13: "NAN" is three letters, not a currency. The list is the maintained one
    (pycountry's ISO 4217 data, read without importing pycountry), not a hand-kept copy."""
    import pycountry

    active = {currency.alpha_3 for currency in pycountry.currencies}
    assert listed_currencies() == (active | WITHDRAWN) - NOT_MONEY
    assert {"USD", "EUR", "JPY", "KWD", "CLF", "XOF", "HRK", "SLL"} <= listed_currencies()
    for code in ("NAN", "XXX", "XTS", "ABC", "USX"):
        assert not is_listed(code)
        with pytest.raises(InvalidAmount, match="not an ISO 4217"):
            iso_currency(code)
    assert iso_currency(" usd ") == "USD"
    assert exponent("BYR") == 0  # a withdrawn zero-decimal code keeps its places
