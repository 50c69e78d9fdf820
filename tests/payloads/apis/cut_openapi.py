"""Cut a provider's OpenAPI document down to the operations a sync calls (how apis/*.json were made).

    python tests/payloads/apis/cut_openapi.py FULL.json OUT.json get_profiles get_events …
    python tests/payloads/apis/cut_openapi.py --responses FULL.json OUT.json get_events …

Keeps `openapi`, `info`, `servers`, and for each named operation its path item (that method only)
with parameters and request body, every schema they reach through `$ref` (transitively), and
drops responses (the fakes write their own answers; the requests are what the real API refuses).
With `--responses` it keeps the responses instead (and the schemas they reach): the document the
fakes' answers are checked against.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.add(node["$ref"])
        for value in node.values():
            found |= refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= refs(value)
    return found


def cut(document: dict[str, Any], operations: set[str], responses: bool = False) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("operationId") in operations:
                if responses:
                    kept = {"operationId": operation["operationId"], "responses": operation["responses"]}
                else:
                    kept = {k: v for k, v in operation.items() if k != "responses"}
                    kept["responses"] = {"default": {"description": "cut: see tests/payloads/apis/README.md"}}
                paths.setdefault(path, {})[method] = kept
    missing = operations - {op["operationId"] for item in paths.values() for op in item.values()}
    if missing:
        raise SystemExit(f"not in the document: {sorted(missing)}")
    components: dict[str, dict[str, Any]] = {}
    pending = refs(paths)
    while pending:
        ref = pending.pop()
        _, section, name = ref.rsplit("/", 2)
        if name in components.get(section, {}):
            continue
        value = document["components"][section][name]
        components.setdefault(section, {})[name] = value
        pending |= refs(value)
    return {
        "openapi": document["openapi"],
        "info": document["info"],
        "servers": document.get("servers", []),
        "paths": paths,
        "components": components,
    }


if __name__ == "__main__":
    arguments = sys.argv[1:]
    keep_responses = "--responses" in arguments
    full, out, *names = [a for a in arguments if a != "--responses"]
    with open(full) as source:
        result = cut(json.load(source), set(names), keep_responses)
    with open(out, "w") as target:
        json.dump(result, target, indent=1, sort_keys=True)
        target.write("\n")
