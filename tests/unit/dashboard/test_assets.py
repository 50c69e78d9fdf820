"""How the built dashboard is served: cache headers by file name, the app page for every
client-side route, gzip, ETags, and nothing outside the build directory."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from touchline.dashboard.assets import IMMUTABLE, REVALIDATE, DashboardAssets

INDEX = (
    b"<!doctype html><html><head><script type=module src=/assets/index-Ab12.js></script></head></html>" * 5
)
SCRIPT = b"console.log('dashboard');\n" * 40


@pytest.fixture
def assets(tmp_path: Path) -> DashboardAssets:
    root = tmp_path / "static"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / "assets" / "index-Ab12.js").write_bytes(SCRIPT)
    (root / "favicon.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("not served")
    return DashboardAssets(root, connect_src=("http://127.0.0.1:4566",))


def test_hashed_assets_are_immutable_and_gzipped(assets: DashboardAssets) -> None:
    served = assets.serve("/assets/index-Ab12.js", accept_encoding="gzip, deflate, br")
    assert served.status == 200
    assert served.headers["Cache-Control"] == IMMUTABLE
    assert served.headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert served.headers["Content-Encoding"] == "gzip" and served.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(served.body) == SCRIPT
    plain = assets.serve("/assets/index-Ab12.js", accept_encoding="gzip;q=0")
    assert plain.body == SCRIPT and "Content-Encoding" not in plain.headers
    assert assets.serve("/assets/index-Zz99.js").status == 404  # an old build's file: no fallback


@pytest.mark.parametrize(
    "path", ["/", "/shop.example.com", "/shop.example.com/attribution?period=7d", "/sign-in"]
)
def test_every_app_route_is_the_index_page_revalidated_each_time(assets: DashboardAssets, path: str) -> None:
    served = assets.serve(path)
    assert served.status == 200 and served.body == INDEX
    assert served.headers["Cache-Control"] == REVALIDATE
    assert served.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = served.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "connect-src 'self' http://127.0.0.1:4566" in csp
    assert served.headers["X-Frame-Options"] == "DENY"
    again = assets.serve(path, if_none_match=served.headers["ETag"])
    assert again.status == 304 and again.body == b""


def test_shared_links_may_be_embedded(assets: DashboardAssets) -> None:
    served = assets.serve("/share/abc123")
    assert served.status == 200 and served.body == INDEX
    assert "frame-ancestors *" in served.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in served.headers


def test_api_paths_are_json_404s_not_the_app(assets: DashboardAssets) -> None:
    for path in ("/api/v2/nothing", "/v1/unknown", "/webhooks/x/y", "/js/other.js", "/_dev/x"):
        served = assets.serve(path)
        assert served.status == 404 and served.body == b'{"message":"Not Found"}', path
        assert served.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "path", ["/assets/../../secret.txt", "/../secret.txt", "/assets/..%2f..%2fsecret.txt", "/assets\\..\\x"]
)
def test_nothing_outside_the_build_directory_is_served(assets: DashboardAssets, path: str) -> None:
    served = assets.serve(path)
    assert b"not served" not in served.body
    assert served.status in (200, 404)


def test_root_files_are_cached_an_hour(assets: DashboardAssets) -> None:
    served = assets.serve("/favicon.svg")
    assert served.status == 200 and served.headers["Content-Type"] == "image/svg+xml"
    assert served.headers["Cache-Control"] == "public, max-age=3600"


def test_an_unbuilt_dashboard_says_how_to_build_it(tmp_path: Path) -> None:
    served = DashboardAssets(tmp_path / "missing").serve("/")
    assert served.status == 503 and b"sam build" in served.body


def test_the_index_pages_inline_scripts_are_allowed_by_their_hash_and_no_other(tmp_path: Path) -> None:
    import base64
    import hashlib

    inline = b"\n  window.early = fetch('/api/v1/sites');\n"
    root = tmp_path / "static"
    root.mkdir()
    module = b"<script type=module src=/assets/a.js></script>"
    page = b"<html><head><script>" + inline + b"</script>" + module + b"</head></html>"
    (root / "index.html").write_bytes(page)
    csp = DashboardAssets(root).serve("/shop.example.com").headers["Content-Security-Policy"]
    digest = base64.b64encode(hashlib.sha256(inline).digest()).decode()
    # The browser hashes exactly the text between the tags; the module script needs no hash.
    assert f"script-src 'self' 'sha256-{digest}';" in csp
    assert csp.count("'sha256-") == 1 and "unsafe-inline" not in csp
