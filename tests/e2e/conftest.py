"""Every e2e test starts `touchline dev`, which builds the dashboard (DashboardFunction's make
target) before it serves. Build it once up front, so a fresh clone's first `npm ci` is not paid
inside some test's readiness timeout."""

from __future__ import annotations

from pathlib import Path

import pytest

from touchline_dev.devstack.builder import build_function, needs_build
from touchline_dev.devstack.intrinsics import PseudoParameters, Resolver
from touchline_dev.devstack.template import SERVERLESS_FUNCTION, function_spec, load_template

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def built_functions() -> None:
    template = load_template(ROOT / "template.yaml")
    resolver = Resolver(template, pseudo=PseudoParameters(stack_name="touchline"))
    for resource in template.of_type(SERVERLESS_FUNCTION):
        spec = function_spec(template, resource, resolver)
        if needs_build(spec):
            build_function(spec, template.base_dir)
