from __future__ import annotations

import pytest

from touchline.enrichment.useragent import Agent, UserAgentParser, device_type

from . import agents as ua

PARSER = UserAgentParser()


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (ua.CHROME_WINDOWS, Agent("Chrome", "131.0", "Windows", "10", "desktop")),
        (ua.CHROME_MAC, Agent("Chrome", "131.0", "macOS", "10.15", "desktop")),
        (ua.EDGE_WINDOWS, Agent("Edge", "131.0", "Windows", "10", "desktop")),
        (ua.FIREFOX_WINDOWS, Agent("Firefox", "133.0", "Windows", "10", "desktop")),
        (ua.FIREFOX_LINUX, Agent("Firefox", "132.0", "Ubuntu", "", "desktop")),
        (ua.SAFARI_MAC, Agent("Safari", "17.6", "macOS", "10.15", "desktop")),
        (ua.SAFARI_IPHONE, Agent("Safari", "17.5", "iOS", "17.5", "mobile")),
        (ua.CHROME_IPHONE, Agent("Chrome", "131.0", "iOS", "18.1", "mobile")),
        (ua.SAFARI_IPAD, Agent("Safari", "17.5", "iOS", "17.5", "tablet")),
        (ua.CHROME_ANDROID_PHONE, Agent("Chrome", "131.0", "Android", "10", "mobile")),
        (ua.SAMSUNG_PHONE, Agent("Samsung Internet", "26.0", "Android", "14", "mobile")),
        (ua.CHROME_ANDROID_TABLET, Agent("Chrome", "131.0", "Android", "13", "tablet")),
        (ua.FIREFOX_ANDROID_TABLET, Agent("Firefox", "133.0", "Android", "14", "tablet")),
        (ua.KINDLE_FIRE, Agent("Amazon Silk", "120.3", "Android", "9", "tablet")),
        (ua.INSTAGRAM_IPHONE, Agent("Instagram", "337.0", "iOS", "17.5", "mobile")),
    ],
)
def test_real_agents_parse_to_browser_os_and_form_factor(agent: str, expected: Agent) -> None:
    assert PARSER.parse(agent) == expected


def test_unknown_agent_leaves_names_empty_and_defaults_to_desktop() -> None:
    assert PARSER.parse("SomethingNobodyKnows") == Agent("", "", "", "", "desktop")


def test_tvs_and_tablet_pcs_are_big_screens_not_tablets() -> None:
    assert device_type(ua.ANDROID_TV) == "desktop"
    assert device_type("Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Tablet PC 2.0)") == "desktop"


def test_columns_are_the_events_columns() -> None:
    assert PARSER.parse(ua.SAFARI_IPAD).columns() == {
        "browser": "Safari",
        "browser_version": "17.5",
        "os": "iOS",
        "os_version": "17.5",
        "device_type": "tablet",
    }
