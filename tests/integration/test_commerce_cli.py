"""`touchline commerce run` and `touchline report customers|products|baskets`, as an operator runs them."""

from __future__ import annotations

import json

import boto3
import pytest

from commerce_shop import load_shop
from helpers import TABLE
from touchline.config.sites import SiteStore
from touchline.warehouse.client import connect
from touchline_dev.cli.main import main


def test_commerce_run_and_reports(
    aws: dict[str, str], warehouse_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    site = SiteStore(boto3.client("dynamodb"), TABLE).add("shop.example.com").site_id
    load_shop(connect(warehouse_url), site_id=site)
    assert (
        main(["sites", "set", site, "--basket-min-co-purchases", "2", "--basket-lift-threshold", "1.2"]) == 0
    )
    assert "at least 2 co-purchases, frequently_bought from lift 1.2" in capsys.readouterr().out
    assert main(["sites", "set", site, "--cart-abandon-hours", "6"]) == 0  # docs/carts.md
    assert "carts abandoned after 6 hours" in capsys.readouterr().out
    assert main(["sites", "set", site, "--cart-abandon-hours", "0"]) != 0
    assert "cart abandonment must be more than 0" in capsys.readouterr().err
    assert main(["commerce", "run", "--site", site]) == 0
    ran = json.loads(capsys.readouterr().out)
    assert [j["ran"] for j in ran["commerce"][0]["jobs"]] == [True, True, True, True]

    assert main(["report", "customers", "--site", site, "--by", "churn", "--limit", "5"]) == 0
    out = capsys.readouterr().out
    assert "segments (USD)" in out and "customers by churn" in out
    assert main(["report", "customers", "--site", site, "--currency", "EUR", "--format", "json"]) == 0
    customers = json.loads(capsys.readouterr().out)
    assert customers["currency"] == "EUR" and sum(r["metrics"][0] for r in customers["segments"]) > 0
    assert main(["report", "products", "--site", site, "--limit", "3", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["products"]) == 3
    assert main(["report", "baskets", "--site", site, "--product", "p1"]) == 0
    assert "bought together" in capsys.readouterr().out
