"""docs/webhooks.md's verification snippets, run for real against Touchline's signer: the Python
one in this process, the JavaScript one under Node.js (skipped only where node is missing)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from helpers import ROOT
from touchline.outgoing_webhooks import signing
from touchline.outgoing_webhooks.events import OutgoingEvent, event_id

DOC = (ROOT / "docs" / "webhooks.md").read_text()
SECRET = "whsec_" + "ab12" * 12


def snippet(language: str) -> str:
    found = re.search(rf"```{language} verify\n(.*?)```", DOC, re.S)
    assert found, f"docs/webhooks.md has no ```{language} verify block"
    return found.group(1)


def body() -> bytes:
    return OutgoingEvent(
        id=event_id("site", "purchase.created", "api", "o-1"),
        type="purchase.created",
        created=1_764_669_600,
        site_id="site",
        data={"order": {"order_id": "o-1", "amount": "49.90", "currency": "EUR", "note": "café ✓"}},
    ).body()


def cases() -> list[tuple[str, bytes, str, bool]]:
    """(what, body, header, should verify)."""
    raw = body()
    now = int(time.time())
    good = signing.sign(SECRET, raw, now)
    rotated = f"{good},v1={'0' * 64}"
    return [
        ("signed now", raw, good, True),
        ("a second v1 (rotation)", raw, rotated, True),
        ("tampered body", raw.replace(b"49.90", b"4.90"), good, False),
        ("other secret", raw, signing.sign("whsec_other", raw, now), False),
        ("ten minutes old", raw, signing.sign(SECRET, raw, now - 600), False),
        ("no v1", raw, f"t={now}", False),
        ("garbage", raw, "nonsense", False),
        ("empty", raw, "", False),
    ]


def test_the_python_snippet_verifies_touchlines_signatures() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(snippet("python"), "docs/webhooks.md", "exec"), namespace)
    verify: Callable[[str, bytes, str], bool] = namespace["verify_touchline_signature"]
    for what, raw, header, expected in cases():
        assert verify(SECRET, raw, header) is expected, what
        # Touchline's own verifier agrees with the documented one.
        try:
            signing.verify(SECRET, raw, header)
            ours = True
        except signing.SignatureError:
            ours = False
        assert ours is expected, what


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_javascript_snippet_verifies_touchlines_signatures() -> None:
    program = (
        snippet("js")
        + """
const cases = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(cases.map(([secret, body, header]) =>
  verifyTouchlineSignature(secret, Buffer.from(body, 'base64'), header))));
"""
    )
    import base64

    inputs = [(SECRET, base64.b64encode(raw).decode(), header) for _, raw, header, _ in cases()]
    done = subprocess.run(
        ["node", "-e", program],
        input=json.dumps(inputs),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == [expected for *_, expected in cases()]
