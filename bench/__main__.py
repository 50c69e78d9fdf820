"""Run every benchmark and print its figures."""

from __future__ import annotations

import importlib
import pkgutil

import bench


def main() -> None:
    for module_info in pkgutil.iter_modules(bench.__path__):
        if not module_info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"bench.{module_info.name}")
        print(f"== {module_info.name}")
        for label, figure in module.run():
            print(f"  {label:<72} {figure}")


if __name__ == "__main__":
    main()
