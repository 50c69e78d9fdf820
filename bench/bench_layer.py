"""The Lambda layer's unzipped size: what every cold start of every function pulls in.

Builds TouchlineLayer with `sam build` (as `make test` does) into a temporary directory and
prints its total unzipped size against Lambda's 250 MB limit (function code and layers together),
and the largest packages in it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import ROOT

LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run() -> list[tuple[str, str]]:
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "build"
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "SAM_CLI_TELEMETRY": "0",
        }
        subprocess.run(
            [str(bin_dir / "sam"), "build", "TouchlineLayer", "--no-cached", "--build-dir", str(build)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
        )
        python = build / "TouchlineLayer" / "python"
        total = _size(python)
        packages = sorted(
            ((_size(p), p.name) for p in python.iterdir() if p.is_dir() and not p.name.endswith("-info")),
            reverse=True,
        )
    figures = [
        ("layer unzipped (MB)", f"{total / 1e6:.1f}"),
        ("share of Lambda's 250 MB unzipped limit", f"{total / LAMBDA_UNZIPPED_LIMIT:.0%}"),
    ]
    figures += [(f"  {name} (MB)", f"{size / 1e6:.1f}") for size, name in packages[:8]]
    return figures
