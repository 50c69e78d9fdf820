"""The tag as the collector serves it: size budget, ETag/304, gzip negotiation."""

from __future__ import annotations

import gzip
from importlib.resources import files

import pytest

from touchline.tag.asset import CACHE_CONTROL, TagAsset, accepts_gzip, tag_asset

# 2 KB until the consent call (docs/consent.md) added ~140 bytes.
GZIP_BUDGET = 2200


def test_the_served_script_is_within_its_gzipped_budget() -> None:
    asset = tag_asset()
    assert len(asset.gzipped) <= GZIP_BUDGET, f"{len(asset.gzipped)} bytes gzipped"
    assert gzip.decompress(asset.gzipped) == asset.source


def test_the_served_script_is_the_minified_build_not_the_source() -> None:
    source = files("touchline.tag").joinpath("touchline.js").read_bytes()
    served = tag_asset().source
    assert served == files("touchline.tag").joinpath("touchline.min.js").read_bytes()
    assert len(served) < len(source) * 0.6
    assert b"data-touchline-goal" in served and b"/api/event" in served


def test_first_request_gets_the_gzipped_body_with_caching_headers() -> None:
    asset = TagAsset(b"console.log('tag')")
    served = asset.serve(accept_encoding="gzip, deflate, br")
    assert served.status == 200
    assert gzip.decompress(served.body) == b"console.log('tag')"
    assert served.headers == {
        "ETag": asset.etag,
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
        "Content-Encoding": "gzip",
    }


def test_a_client_without_gzip_gets_the_plain_body() -> None:
    served = TagAsset(b"x()").serve(accept_encoding="identity")
    assert (served.status, served.body) == (200, b"x()")
    assert "Content-Encoding" not in served.headers


@pytest.mark.parametrize("form", ["{etag}", "{bare}", '"other", {etag}', "*"])
def test_a_matching_if_none_match_is_a_304_without_body(form: str) -> None:
    asset = TagAsset(b"x()")
    header = form.format(etag=asset.etag, bare=asset.etag.removeprefix("W/"))
    served = asset.serve(if_none_match=header, accept_encoding="gzip")
    assert (served.status, served.body) == (304, b"")
    assert served.headers["ETag"] == asset.etag


def test_a_changed_script_has_a_new_etag_so_old_copies_are_refetched() -> None:
    old, new = TagAsset(b"x()"), TagAsset(b"y()")
    assert old.etag != new.etag
    assert new.serve(if_none_match=old.etag).status == 200


def test_the_etag_and_gzip_bytes_are_the_same_in_every_container() -> None:
    assert TagAsset(b"x()").etag == TagAsset(b"x()").etag
    assert TagAsset(b"x()").gzipped == TagAsset(b"x()").gzipped


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip, deflate, br, zstd", True),
        ("br", False),
        ("", False),
        ("gzip;q=0", False),
        ("gzip;q=0.5, br", True),
        ("*", True),
        ("GZIP", True),
    ],
)
def test_accept_encoding(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted
