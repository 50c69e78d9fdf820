"""The served tag (touchline.min.js) is exactly what `make tag` builds from touchline.js."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from tag_tools import NODE_DIR, ROOT, ensure_node_modules

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]  # may run `npm ci` first

TAG_DIR = ROOT / "layers" / "touchline" / "touchline" / "tag"
BUILT = "../../../layers/touchline/touchline/tag/touchline.min.js"


def test_the_minified_tag_is_built_from_the_current_source(tmp_path: Path) -> None:
    bin_dir = ensure_node_modules() / ".bin"
    script = json.loads((NODE_DIR / "package.json").read_text())["scripts"]["build:tag"]
    assert BUILT in script
    rebuilt = tmp_path / "touchline.min.js"
    # The package's own build command (as `npm run` would run it), writing to a scratch file.
    done = subprocess.run(
        script.replace(BUILT, str(rebuilt)),
        shell=True,
        cwd=NODE_DIR,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert rebuilt.read_bytes() == (TAG_DIR / "touchline.min.js").read_bytes(), (
        "touchline.min.js is stale: run `make tag` and commit it"
    )
