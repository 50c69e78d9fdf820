"""Fixtures for the devstack tests: a shared moto server, and a process environment put back."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from touchline_dev.devstack.moto_backend import MotoServer, aws_client

FIXTURE_TEMPLATE = Path(__file__).parent / "fixtures" / "template.yaml"


@pytest.fixture
def fixture_template() -> Path:
    return FIXTURE_TEMPLATE


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def moto(moto_server: MotoServer) -> MotoServer:
    """The shared server, emptied for this test."""
    moto_server.reset()
    return moto_server


@pytest.fixture
def sqs(moto: MotoServer) -> Any:
    return aws_client("sqs", moto.url)


@pytest.fixture
def dynamodb(moto: MotoServer) -> Any:
    return aws_client("dynamodb", moto.url)


@pytest.fixture
def restore_process() -> Iterator[None]:
    """The stack points os.environ (and TZ) at its moto and extends sys.path; undo both."""
    environ, path = dict(os.environ), list(sys.path)
    yield
    os.environ.clear()
    os.environ.update(environ)
    sys.path[:] = path
    time.tzset()
