"""Powertools' HTTP resolver without every other event handler Powertools has.

`import aws_lambda_powertools.event_handler.api_gateway` first runs the package's `__init__`,
which imports all of its resolvers: AppSync (and with it asyncio and ssl), AppSync Events,
Bedrock agents, VPC Lattice, the local HTTP resolver. The collector uses none of them, and they
were about a tenth of its cold import (docs/performance.md). `defer_event_handler_init()`
registers the package without running its `__init__`: its submodules import as usual, and the
first time a name is asked of the package itself (`from aws_lambda_powertools.event_handler
import Response`), the real `__init__` runs, so such imports keep working anywhere in the process
(the local stack runs every function in one)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

PACKAGE = "aws_lambda_powertools.event_handler"


def defer_event_handler_init() -> None:
    """Register the package uninitialised, unless it is imported already."""
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    module = importlib.util.module_from_spec(spec)  # __path__ set: submodules import as usual
    loader = spec.loader

    def __getattr__(name: str) -> Any:  # PEP 562: only names the module does not hold yet
        if name.startswith("__") and name != "__all__":
            raise AttributeError(name)
        if importlib.util.find_spec(f"{PACKAGE}.{name}") is not None:  # `from … import a_submodule`
            return importlib.import_module(f"{PACKAGE}.{name}")
        module.__dict__.pop("__getattr__", None)
        loader.exec_module(module)  # the real __init__, now (submodules already loaded are reused)
        return getattr(module, name)

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[PACKAGE] = module
