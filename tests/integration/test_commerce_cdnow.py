"""CDNOW through the whole pipeline: transactions as orders, profiles as of the end of the 39-week
calibration, the published BG/NBD parameters, and the holdout comparison per frequency bucket."""

from __future__ import annotations

from typing import Any

from cdnow import holdout_table
from touchline.warehouse.client import connect


def test_cdnow_calibration_and_holdout(warehouse_url: str) -> None:
    client: Any = connect(warehouse_url)
    rows, (r, alpha_weeks, a, b) = holdout_table(client)
    # Fader, Hardie & Lee (2005): r = 0.243, alpha = 4.414 (weeks), a = 0.793, b = 2.426.
    assert [round(v, 2) for v in (r, alpha_weeks, a, b)] == [0.24, 4.41, 0.79, 2.43]
    assert [round(v, 3) for v in (r, alpha_weeks, a, b)] == [0.243, 4.414, 0.793, 2.426]
    buckets = {label: (n, actual, predicted) for label, n, actual, predicted in rows}
    assert buckets["all"][0] == 2357
    # The paper's figure: conditional expectations track the holdout, rising with calibration
    # frequency, a little under it (1,653 predicted vs 1,882 actual repeat purchase days).
    predicted = [buckets[k][2] for k in ("0", "1", "2", "3", "4", "5", "6", "7+")]
    assert predicted == sorted(predicted)
    assert 0.8 < buckets["all"][2] / buckets["all"][1] < 1.0
    for label in ("0", "3", "7+"):
        _, actual, expected = buckets[label]
        assert abs(expected - actual) / actual < 0.1, (label, actual, expected)
