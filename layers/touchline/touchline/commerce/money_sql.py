"""Money in SQL: amounts rounded half away from zero to their currency's minor unit."""

from __future__ import annotations

from touchline.revenue.money import ISO_EXPONENTS


def currency_parameters() -> dict[str, list[str] | list[int]]:
    codes = sorted(ISO_EXPONENTS)
    return {"exp_codes": codes, "exp_values": [ISO_EXPONENTS[c] for c in codes]}


def exponent_sql(currency: str) -> str:
    return f"transform({currency}, {{exp_codes:Array(String)}}, {{exp_values:Array(UInt8)}}, 2)"


def round_money(value: str, currency: str) -> str:
    """`value` (a Decimal expression) rounded to `currency`'s minor unit, as Decimal(18, 4).

    ClickHouse rounds Decimals half away from zero, as the oracle's ROUND_HALF_UP does; the places
    must be constants, hence one branch per exponent in use.
    """
    places = exponent_sql(currency)
    return (
        f"toDecimal64(multiIf({places} = 0, round({value}, 0), {places} = 3, round({value}, 3), "
        f"{places} = 4, round({value}, 4), round({value}, 2)), 4)"
    )


def divide_money(total: str, count: str, currency: str) -> str:
    """total / count to the minor unit (0 when count is 0). Eight places before rounding: truncating
    there never moves a value across a half-unit boundary at four places or fewer."""
    return round_money(
        f"if({count} = 0, toDecimal128(0, 8), "
        f"toDecimal128({total}, 8) / toDecimal128(greatest({count}, 1), 0))",
        currency,
    )
