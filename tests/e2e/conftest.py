"""Every e2e test starts `touchline dev`, which builds the dashboard (DashboardFunction's make
target) before it serves. Build it once up front, so a fresh clone's first `npm ci` is not paid
inside some test's readiness timeout. The dashboard's tests share one seeded stack and browser
(below)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

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


# ---------------------------------------------------------------------- the dashboard's world
#
# The dashboard's two test modules share one seeded stack and one Chromium (seeding and starting
# are most of their cost): each starts on first use and stops as soon as the next test does not
# ask for it, so the stack does not idle through the rest of the session.


class _Shared:
    def __init__(self, fixture: str, start: Any) -> None:
        self.fixture, self._start = fixture, start
        self._stack: ExitStack | None = None
        self.value: Any = None

    def get(self, factory: pytest.TempPathFactory) -> Any:
        if self._stack is None:
            stack = ExitStack()
            self.value = stack.enter_context(self._start(factory))
            self._stack = stack
        return self.value

    def close(self) -> None:
        stack, self._stack, self.value = self._stack, None, None
        if stack is not None:
            stack.close()


def _browser(_factory: pytest.TempPathFactory) -> Any:
    from dashboard_tools import launched
    from tag_tools import ensure_chromium

    return launched(pytest.importorskip("playwright.sync_api"), ensure_chromium())


def _site(factory: pytest.TempPathFactory) -> Any:
    from dashboard_world import seeded_site

    return seeded_site(factory.mktemp("dashboard"))


_SHARED = [_Shared("dashboard_browser", _browser), _Shared("dashboard_site", _site)]


@pytest.fixture
def dashboard_browser(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Chromium (Debian's, headless), shared by the dashboard's tests."""
    return _SHARED[0].get(tmp_path_factory)


@pytest.fixture
def dashboard_site(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The seeded stack of tests/e2e/dashboard_world.py, shared by the dashboard's tests."""
    return _SHARED[1].get(tmp_path_factory)


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    for shared in _SHARED:
        if nextitem is None or shared.fixture not in getattr(nextitem, "fixturenames", ()):
            shared.close()
