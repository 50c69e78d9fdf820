"""Query parameters survive the JSON trip to the local stack's `/_dev/sql` as the same values."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from touchline.warehouse.client import connect
from touchline_dev.sql_params import ParamsError, decode, encode

PARAMS = {
    "site": "it's a \\ site",
    "n": 3,
    "ids": ["a", "b'"],
    "pairs": [("visitor", "v1"), ("user", "u'2")],
    "at": datetime(2026, 11, 1, 12, 30, 0, 125000, tzinfo=UTC),
    "day": date(2026, 11, 1),
    "amount": Decimal("12.3400"),
}


def test_parameters_come_back_as_the_values_sent() -> None:
    assert decode(json.loads(json.dumps(encode(PARAMS)))) == PARAMS


def test_decoded_parameters_bind_server_side(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    row = client.query(
        "SELECT {site:String}, {ids:Array(String)}, "
        "('user', 'u''2') IN {pairs:Array(Tuple(String, String))}, "
        "{at:DateTime64(3, 'UTC')}, {amount:Decimal(18, 4)}",
        parameters=decode(json.loads(json.dumps(encode(PARAMS)))),
    ).result_rows[0]
    assert row[0] == PARAMS["site"] and row[1] == PARAMS["ids"] and row[2] == 1
    assert row[3].replace(tzinfo=UTC) == PARAMS["at"] and row[4] == PARAMS["amount"]


@pytest.mark.parametrize("payload", [[1], {"x": {"$what": 1}}, {"x": {"$datetime": "not a time"}}])
def test_bad_parameters_are_refused(payload: object) -> None:
    with pytest.raises(ParamsError):
        decode(payload)
