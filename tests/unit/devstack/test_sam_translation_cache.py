"""The SAM translation is cached on disk across processes, and a hit is what translating gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import TEMPLATE
from touchline_dev.iam import roles

PSEUDO = ("us-east-1", "123456789012", "aws", "touchline")


def _fresh(monkeypatch: pytest.MonkeyPatch, directory: str) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", PSEUDO[0])  # the translator asks boto3 for one
    monkeypatch.setenv(roles.CACHE_DIR_ENV, directory)
    roles._translated.cache_clear()


def test_a_cached_translation_equals_a_fresh_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    text = TEMPLATE.read_text()
    _fresh(monkeypatch, "")
    translated = roles._translated(text, PSEUDO)
    assert not list(tmp_path.iterdir())
    _fresh(monkeypatch, str(tmp_path))
    assert roles._translated(text, PSEUDO) == translated  # translated, then written
    assert len(list(tmp_path.glob("*.json"))) == 1
    _fresh(monkeypatch, str(tmp_path))
    assert roles._translated(text, PSEUDO) == translated  # read back
    assert "AggregatesFunctionRole" in translated["Resources"]
    roles._translated.cache_clear()


def test_the_key_follows_every_input(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(roles.CACHE_DIR_ENV, str(tmp_path))
    text = TEMPLATE.read_text()
    key = roles._cache_path(text, PSEUDO)
    assert key is not None and key.parent == tmp_path
    assert roles._cache_path(text, PSEUDO) == key
    assert roles._cache_path(text + "\n# changed", PSEUDO) != key
    assert roles._cache_path(text, ("eu-west-1", *PSEUDO[1:])) != key
    monkeypatch.setenv(roles.CACHE_DIR_ENV, "")
    assert roles._cache_path(text, PSEUDO) is None


def test_a_corrupt_entry_is_translated_again(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    text = TEMPLATE.read_text()
    _fresh(monkeypatch, str(tmp_path))
    key = roles._cache_path(text, PSEUDO)
    assert key is not None
    key.write_text('{"Resources": ')  # a half-written file
    assert "AggregatesFunctionRole" in roles._translated(text, PSEUDO)["Resources"]
    roles._translated.cache_clear()
