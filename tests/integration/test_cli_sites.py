"""Every command that takes a site takes its id or its domain, and refuses an unknown one."""

from __future__ import annotations

import json

import boto3
import pytest

from helpers import TABLE
from touchline.config.sites import SiteStore
from touchline_dev.cli.main import main


@pytest.mark.parametrize("given", ["shop.example.com", "https://www.shop.example.com/", "id"])
def test_a_report_takes_the_site_id_or_its_domain(
    aws: dict[str, str], warehouse_url: str, capsys: pytest.CaptureFixture[str], given: str
) -> None:
    site = SiteStore(boto3.client("dynamodb"), TABLE).add("shop.example.com")
    argv = ["report", "overview", "--site", site.site_id if given == "id" else given, "--format", "json"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["site_id"] == site.site_id


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "overview", "--site", "unknown.example.com"],
        ["report", "revenue", "--site", "unknown.example.com"],
        ["report", "attribution", "--site", "unknown.example.com"],
        ["people", "export", "--site", "unknown.example.com", "--user-id", "42"],
        ["identity", "resolve", "--site", "unknown.example.com"],
        ["aggregate", "run", "--site", "unknown.example.com"],
        ["goals", "list", "unknown.example.com"],
        ["tokens", "create", "unknown.example.com"],
    ],
)
def test_an_unknown_site_is_an_error_not_an_empty_answer(
    aws: dict[str, str], warehouse_url: str, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    SiteStore(boto3.client("dynamodb"), TABLE).add("shop.example.com")
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no site 'unknown.example.com'" in captured.err and "touchline sites list" in captured.err
