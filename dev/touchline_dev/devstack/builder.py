"""Functions with `Metadata: BuildMethod: makefile`, built as `sam build` builds them.

SAM runs `make -f <CodeUri>/Makefile build-<LogicalId>` with `ARTIFACTS_DIR` set and deploys
what the target put there; the local stack runs the same target and imports the handler from
that directory, so what runs locally is what ships. Unlike `sam build` (a fresh scratch copy
every time) the artifacts directory is kept between starts, under `.aws-sam/dev/<LogicalId>`
beside the template, so a Makefile with real prerequisites rebuilds only what changed. A file
lock makes concurrent starts on one checkout take turns.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from pathlib import Path

from .template import FunctionSpec, TemplateError

ARTIFACTS = Path(".aws-sam") / "dev"
# A first build may install packages (npm ci); later ones are usually no-ops.
BUILD_TIMEOUT_SECONDS = 600


class BuildError(TemplateError):
    """The function's build target failed; the message carries the end of its output."""


def needs_build(spec: FunctionSpec) -> bool:
    return (spec.build_method or "").lower() == "makefile"


def build_function(spec: FunctionSpec, template_dir: Path) -> tuple[Path, float]:
    """Run the function's make target; return (its artifacts directory, seconds it took)."""
    makefile = spec.code_dir / "Makefile"
    if not makefile.is_file():
        raise BuildError(f"{spec.logical_id}: BuildMethod makefile but {makefile} does not exist")
    make = shutil.which("make")
    if make is None:
        raise BuildError(f"{spec.logical_id}: `make` is not on PATH (BuildMethod makefile)")
    artifacts = (template_dir / ARTIFACTS / spec.logical_id).resolve()
    artifacts.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(artifacts.parent / f"{spec.logical_id}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            done = subprocess.run(
                [make, "--no-print-directory", "-f", str(makefile), f"build-{spec.logical_id}"],
                cwd=spec.working_directory or spec.code_dir,
                env={**os.environ, "ARTIFACTS_DIR": str(artifacts)},
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise BuildError(
                f"{spec.logical_id}: make build-{spec.logical_id} ran over {BUILD_TIMEOUT_SECONDS} s"
            ) from None
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-3000:]
        raise BuildError(f"{spec.logical_id}: make build-{spec.logical_id} failed:\n{output}")
    return artifacts, time.perf_counter() - started
