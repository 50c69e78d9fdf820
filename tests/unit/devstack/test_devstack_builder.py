"""`BuildMethod: makefile` functions: the local stack runs their make target as `sam build` does
and imports the handler from what the target wrote."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from touchline_dev.devstack.builder import ARTIFACTS, BuildError, build_function, needs_build
from touchline_dev.devstack.intrinsics import PseudoParameters, Resolver
from touchline_dev.devstack.lambda_runtime import load_handler
from touchline_dev.devstack.template import FunctionSpec, function_spec, load_template

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  MadeFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: makefile
    Properties:
      CodeUri: made/
      Handler: app.handler
      Runtime: python3.11
  PlainFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: plain/
      Handler: app.handler
      Runtime: python3.11
"""

# The target copies the handler and a generated file; the generated file has a real
# prerequisite, so a second build with nothing changed does not regenerate it.
MAKEFILE = """\
HERE := $(dir $(abspath $(lastword $(MAKEFILE_LIST))))
build-MadeFunction: $(ARTIFACTS_DIR)/data.txt
\tcp $(HERE)src.py $(ARTIFACTS_DIR)/app.py
$(ARTIFACTS_DIR)/data.txt: $(HERE)data.in
\techo generated >> $(HERE)runs.log
\tcp $(HERE)data.in $@
"""


@pytest.fixture
def template_dir(tmp_path: Path) -> Path:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    made = tmp_path / "made"
    made.mkdir()
    (made / "Makefile").write_text(MAKEFILE)
    (made / "src.py").write_text(
        textwrap.dedent(
            """\
            from pathlib import Path
            def handler(event, context):
                return (Path(__file__).parent / "data.txt").read_text()
            """
        )
    )
    (made / "data.in").write_text("built\n")
    (tmp_path / "plain").mkdir()
    return tmp_path


def _specs(template_dir: Path) -> dict[str, FunctionSpec]:
    template = load_template(template_dir / "template.yaml")
    resolver = Resolver(template, pseudo=PseudoParameters(stack_name="t"))
    return {
        logical_id: function_spec(template, template.resources[logical_id], resolver)
        for logical_id in ("MadeFunction", "PlainFunction")
    }


def test_the_make_target_builds_into_artifacts_and_the_handler_runs_from_there(template_dir: Path) -> None:
    specs = _specs(template_dir)
    made, plain = specs["MadeFunction"], specs["PlainFunction"]
    assert needs_build(made) and not needs_build(plain)
    artifacts, _ = build_function(made, template_dir)
    assert artifacts == (template_dir / ARTIFACTS / "MadeFunction").resolve()
    handler = load_handler(artifacts, "app.handler", "made_test")
    assert handler({}, None) == "built\n"

    build_function(made, template_dir)
    assert (template_dir / "made" / "runs.log").read_text() == "generated\n"  # up to date: not rebuilt
    (template_dir / "made" / "data.in").write_text("changed\n")
    build_function(made, template_dir)
    assert (artifacts / "data.txt").read_text() == "changed\n"


def test_a_failing_target_is_a_build_error_with_its_output(template_dir: Path) -> None:
    (template_dir / "made" / "Makefile").write_text(
        "build-MadeFunction:\n\t@echo cannot build: no compiler; exit 3\n"
    )
    with pytest.raises(BuildError, match="make build-MadeFunction failed:\ncannot build: no compiler"):
        build_function(_specs(template_dir)["MadeFunction"], template_dir)


def test_a_missing_makefile_is_a_build_error(template_dir: Path) -> None:
    (template_dir / "made" / "Makefile").unlink()
    with pytest.raises(BuildError, match="does not exist"):
        build_function(_specs(template_dir)["MadeFunction"], template_dir)
