from __future__ import annotations

from touchline.enrichment.geo import Geo, IpCountry, from_headers, locate

IP_COUNTRY = IpCountry()


def test_cloudfront_viewer_headers_give_country_region_and_city() -> None:
    headers = {
        "cloudfront-viewer-country": "us",
        "cloudfront-viewer-country-region": "WA",
        "cloudfront-viewer-city": "Seattle",
    }
    assert locate(headers, "8.8.8.8", IP_COUNTRY) == Geo("US", "US-WA", "Seattle")


def test_cloudflare_country_header_and_unknown_placeholders() -> None:
    assert from_headers({"cf-ipcountry": "GB"}) == Geo("GB")
    assert from_headers({"cf-ipcountry": "XX"}) is None
    assert from_headers({"cf-ipcountry": "T1"}) is None  # Tor


def test_vercel_city_is_url_decoded() -> None:
    headers = {
        "x-vercel-ip-country": "BR",
        "x-vercel-ip-country-region": "SP",
        "x-vercel-ip-city": "S%C3%A3o%20Paulo",
    }
    assert from_headers(headers) == Geo("BR", "BR-SP", "São Paulo")


def test_generic_country_header() -> None:
    assert from_headers({"x-country-code": "de"}) == Geo("DE")


def test_without_headers_the_country_comes_from_the_ip() -> None:
    assert locate({}, "8.8.8.8", IP_COUNTRY) == Geo("US")
    assert locate({}, "2a03:2880:f10c:83:face:b00c:0:25de", IP_COUNTRY).country == "IE"


def test_private_missing_and_malformed_ips_have_no_country() -> None:
    for ip in ("10.0.0.1", "192.168.1.20", "::1", "", "not-an-ip"):
        assert locate({}, ip, IP_COUNTRY) == Geo()


def test_columns_never_include_the_ip() -> None:
    columns = locate({}, "8.8.8.8", IP_COUNTRY).columns()
    assert columns == {"country": "US", "region": "", "city": ""}
    assert "8.8.8.8" not in columns.values()
