"""The SAM application builds and lints without Docker.

Runs the SAM CLI that sits next to the test interpreter (``.venv/bin/sam``) from the repository
root: ``sam validate --lint`` (cfn-lint: any warning fails) and ``sam build`` into a temporary
build directory with the cache off. Then checks what ends up where: the layer carries the
``touchline`` package and its runtime dependencies (built for arm64), every function of the
template carries only its handler code, and neither the layer nor any function ships a dev-only
module (the local stack, the CLI, their YAML/moto/chdb/pytest dependencies).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sam

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SAM = BIN / "sam"
# Dev-only distributions and packages: never shipped, neither in the layer nor in a function.
DEV_ONLY = frozenset({"touchline_dev", "yaml", "_yaml", "moto", "chdb", "pytest", "_pytest", "samtranslator"})
# The local stack and the CLI must not reappear inside the shipped `touchline` package either.
DEV_ONLY_IN_TOUCHLINE = frozenset({"devstack", "cli"})
# Functions get every dependency from TouchlineLayer; these must not be vendored into them.
NOT_IN_FUNCTIONS = (*DEV_ONLY, "clickhouse_connect", "pydantic", "touchline")


def _functions() -> list[str]:
    from touchline_dev.devstack.template import SERVERLESS_FUNCTION, load_template

    return sorted(r.logical_id for r in load_template(REPO / "template.yaml").of_type(SERVERLESS_FUNCTION))


FUNCTIONS = _functions()
ARTIFACTS = ["TouchlineLayer", *FUNCTIONS]


def _sam(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    assert SAM.is_file(), f"SAM CLI not found at {SAM} (pip install -e '.[dev]')"
    env = {
        **os.environ,
        # lambda-builders looks up `python3.11` on PATH: use the venv's interpreter and pip.
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "SAM_CLI_TELEMETRY": "0",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    }
    return subprocess.run(
        [str(SAM), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _top_level_names(directory: Path) -> set[str]:
    """Importable top-level names in an artifact dir (``pkg/``, ``mod.py``, ``pkg-1.0.dist-info``)."""
    names = set()
    for entry in directory.iterdir():
        name = entry.name
        for suffix in (".dist-info", ".egg-info", ".data", ".py"):
            if name.endswith(suffix):
                name = name.removesuffix(suffix).split("-")[0]
                break
        names.add(name.lower())
    return names


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sam") / "build"
    proc = _sam("build", "--no-cached", "--build-dir", str(out), timeout=240)
    assert proc.returncode == 0, f"sam build failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def test_validate_lint() -> None:
    proc = _sam("validate", "--lint", "--template-file", "template.yaml", timeout=120)
    assert proc.returncode == 0, f"sam validate --lint failed:\n{proc.stdout}\n{proc.stderr}"
    assert "is a valid SAM Template" in proc.stdout


def test_build_writes_every_artifact(build_dir: Path) -> None:
    assert (build_dir / "template.yaml").is_file()
    assert (build_dir / "TouchlineLayer" / "python").is_dir()
    for function in FUNCTIONS:
        assert (build_dir / function / "app.py").is_file(), f"{function} has no handler app.py"


def test_layer_has_touchline_and_runtime_dependencies(build_dir: Path) -> None:
    python = build_dir / "TouchlineLayer" / "python"
    assert (python / "touchline" / "__init__.py").is_file()
    names = _top_level_names(python)
    for required in ("pydantic", "pydantic_core", "aws_lambda_powertools", "clickhouse_connect", "orjson"):
        assert required in names, f"{required} missing from the layer"


def _shipped_dev_modules(artifact: Path) -> list[str]:
    root = artifact / "python" if (artifact / "python").is_dir() else artifact
    found = sorted(_top_level_names(root) & DEV_ONLY)
    for package in root.rglob("touchline"):
        found += [str(p.relative_to(root)) for p in package.iterdir() if p.stem in DEV_ONLY_IN_TOUCHLINE]
    return found


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_no_dev_only_module_is_shipped(build_dir: Path, artifact: str) -> None:
    shipped = _shipped_dev_modules(build_dir / artifact)
    assert not shipped, f"{artifact} ships dev-only modules {shipped}"


def test_every_function_is_checked() -> None:
    assert len(FUNCTIONS) >= 7 and "CollectorFunction" in FUNCTIONS


def test_layer_ships_the_browser_tag(build_dir: Path) -> None:
    shipped = build_dir / "TouchlineLayer" / "python" / "touchline" / "tag" / "touchline.min.js"
    assert shipped.read_bytes() == (REPO / "layers/touchline/touchline/tag/touchline.min.js").read_bytes()


def test_layer_is_built_for_arm64(build_dir: Path) -> None:
    extensions = list((build_dir / "TouchlineLayer" / "python" / "pydantic_core").glob("*.so"))
    assert extensions, "pydantic_core has no compiled extension in the layer"
    assert all("aarch64" in ext.name for ext in extensions), [ext.name for ext in extensions]


def test_layer_has_argon2_built_for_arm64(build_dir: Path) -> None:
    """Shared-link passwords (docs/accounts.md): argon2-cffi's compiled bindings, for Graviton."""
    python = build_dir / "TouchlineLayer" / "python"
    assert (python / "argon2" / "__init__.py").is_file()
    bindings = list((python / "_argon2_cffi_bindings").glob("*.so"))
    assert bindings, "argon2-cffi-bindings has no compiled extension in the layer"
    for extension in bindings:
        header = extension.read_bytes()[:20]
        assert header[:4] == b"\x7fELF" and header[18:20] == b"\xb7\x00", f"{extension.name} is not aarch64"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_functions_get_dependencies_only_from_the_layer(build_dir: Path, function: str) -> None:
    names = _top_level_names(build_dir / function)
    vendored = sorted(names.intersection(NOT_IN_FUNCTIONS))
    assert not vendored, f"{function} vendors {vendored}; dependencies belong in TouchlineLayer"


def test_dashboard_ships_the_built_app_and_no_sources(build_dir: Path) -> None:
    """`BuildMethod: makefile`: Vite's output beside the handler, never node_modules or sources."""
    function = build_dir / "DashboardFunction"
    assert sorted(p.name for p in function.iterdir()) == ["app.py", "static"]
    index = (function / "static" / "index.html").read_text()
    scripts = list((function / "static" / "assets").glob("index-*.js"))
    assert scripts and f"/assets/{scripts[0].name}" in index
    assert not list(function.rglob("node_modules")) and not list(function.rglob("*.tsx"))
