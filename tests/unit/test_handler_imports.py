"""Handlers are thin: each imports, from touchline, only its own domain package (its service and
the request/answer types next to it) and the shared adapters of `touchline.aws` (the HTTP request
adapter, metrics, the client IP rule). import-linter checks the packages (pyproject.toml); the
handlers are files named app.py, not a package, so this checks them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers import ROOT, function_of

HANDLERS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
# The domain package each function's service lives in (its `touchline.<package>.service`).
OWN_PACKAGE = {
    "collector": ("ingest", "tag"),  # the collector also serves the browser tag
    "tracking_api": ("tracking",),
    "webhooks": ("revenue",),
    "loader": ("load",),
    "aggregates": ("aggregate",),
    "sync": ("syncs",),
    "query": ("query",),
    "dashboard": ("dashboard",),
    "accounts": ("accounts", "openapi"),  # it serves the OpenAPI document of every route, too
    "outgoing_webhooks": ("outgoing_webhooks",),
}


def _touchline_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("touchline"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("touchline"))
    return found


@pytest.mark.parametrize("handler", HANDLERS)
def test_a_handler_imports_its_service_and_the_shared_adapters_only(handler: str) -> None:
    function_of(handler)  # every handler belongs to a function of template.yaml
    assert handler in OWN_PACKAGE, f"functions/{handler}: say which domain package it fronts"
    allowed = {f"touchline.{p}" for p in OWN_PACKAGE[handler]} | {"touchline.aws"}
    stray = sorted(
        module
        for module in _touchline_imports(ROOT / "functions" / handler / "app.py")
        if not any(module == a or module.startswith(f"{a}.") for a in allowed)
    )
    assert not stray, f"functions/{handler}/app.py imports {stray}: go through its service"
    assert any(
        m.endswith(".service") or m.endswith(".wiring")
        for m in _touchline_imports(ROOT / "functions" / handler / "app.py")
    )
