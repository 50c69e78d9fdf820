"""Providers by name, imported on first use (a run needs one; the CLI lists them without importing)."""

from __future__ import annotations

import importlib

from touchline.syncs.providers.base import Provider

_MODULES = {
    "klaviyo": ("touchline.syncs.providers.klaviyo", "KLAVIYO"),
    "shopify": ("touchline.syncs.providers.shopify", "SHOPIFY"),
    "hubspot": ("touchline.syncs.providers.hubspot", "HUBSPOT"),
    "gorgias": ("touchline.syncs.providers.gorgias", "GORGIAS"),
}
NAMES = tuple(_MODULES)


def provider(name: str) -> Provider:
    if name not in _MODULES:
        raise KeyError(f"unknown provider {name!r}: one of {', '.join(NAMES)}")
    module, attribute = _MODULES[name]
    found: Provider = getattr(importlib.import_module(module), attribute)
    return found
