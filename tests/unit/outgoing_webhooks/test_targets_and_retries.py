"""Where webhooks may go (SSRF rules, with a fake resolver) and the retry schedule."""

from __future__ import annotations

import pytest

from touchline.outgoing_webhooks.deliver import retry_delay
from touchline.outgoing_webhooks.targets import UnsafeTarget, resolve_target


def resolver(answers: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    return lambda host, port: answers[host]


PUBLIC = {"hooks.example.com": ["93.184.216.34"], "v6.example.com": ["2606:2800:220:1:248:1893:25c8:1946"]}


@pytest.mark.parametrize(
    ("url", "answers"),
    [
        ("https://internal.example.com/x", {"internal.example.com": ["10.0.0.5"]}),
        ("https://meta.example.com/x", {"meta.example.com": ["169.254.169.254"]}),
        ("https://mixed.example.com/x", {"mixed.example.com": ["93.184.216.34", "192.168.1.9"]}),
        ("https://rebind.example.com/x", {"rebind.example.com": ["127.0.0.1"]}),
        ("https://cgnat.example.com/x", {"cgnat.example.com": ["100.64.0.1"]}),
        ("https://mapped.example.com/x", {"mapped.example.com": ["::ffff:10.0.0.1"]}),
        ("https://ula.example.com/x", {"ula.example.com": ["fd00::1"]}),
        ("https://nothing.example.com/x", {"nothing.example.com": []}),
        ("https://0.0.0.0/x", {}),
        ("https://[::1]/x", {}),
        ("http://hooks.example.com/x", PUBLIC),
        ("https://u:p@hooks.example.com/x", PUBLIC),
        ("https://hooks.example.com/x#frag", PUBLIC),
        ("gopher://hooks.example.com/", PUBLIC),
        ("https:///nohost", PUBLIC),
        ("https://hooks.example.com:99999/", PUBLIC),
    ],
)
def test_refused_in_production(url: str, answers: dict[str, list[str]]) -> None:
    with pytest.raises(UnsafeTarget):
        resolve_target(url, allow_loopback=False, resolve=resolver(answers))


def test_public_targets_connect_to_the_checked_address() -> None:
    target = resolve_target("https://hooks.example.com:8443/in?x=1", resolve=resolver(PUBLIC))
    assert (target.address, target.host, target.port, target.path) == (
        "93.184.216.34",
        "hooks.example.com",
        8443,
        "/in?x=1",
    )
    assert resolve_target("https://v6.example.com/", resolve=resolver(PUBLIC)).port == 443


def test_loopback_only_where_allowed() -> None:
    local = {"localhost": ["127.0.0.1"], "lan.example.com": ["192.168.0.2"]}
    assert resolve_target("http://localhost:8080/h", True, resolver(local)).address == "127.0.0.1"
    with pytest.raises(UnsafeTarget):
        resolve_target("http://localhost:8080/h", False, resolver(local))
    with pytest.raises(UnsafeTarget):  # loopback allowed is not "private allowed"
        resolve_target("https://lan.example.com/h", True, resolver(local))
    with pytest.raises(UnsafeTarget):  # nor plain http to a public host
        resolve_target("http://hooks.example.com/h", True, resolver(PUBLIC))


def test_backoff_doubles_with_jitter_and_stops_at_sqs_limit() -> None:
    assert [retry_delay(n, 30, lambda: 0.5) for n in range(1, 8)] == [30, 60, 120, 240, 480, 900, 900]
    assert retry_delay(1, 30, lambda: 0.0) == 27 and retry_delay(1, 30, lambda: 1.0) == 33
    assert retry_delay(3, 0) == 0
