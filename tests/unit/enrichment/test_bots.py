from __future__ import annotations

import pytest
from crawlerdetect import CrawlerDetect

from touchline.enrichment.bots import BotDetector

from . import agents as ua

DETECTOR = BotDetector()


@pytest.mark.parametrize("agent", ua.BOTS)
def test_crawlers_headless_browsers_and_http_clients_are_bots(agent: str) -> None:
    assert DETECTOR.is_bot(agent)


@pytest.mark.parametrize("agent", ua.BROWSERS)
def test_real_browsers_are_not_bots(agent: str) -> None:
    assert not DETECTOR.is_bot(agent)


@pytest.mark.parametrize("agent", ["", "   "])
def test_an_empty_agent_is_a_bot(agent: str) -> None:
    assert DETECTOR.is_bot(agent)


def test_agrees_with_crawlerdetect_on_browsers_and_its_own_bots() -> None:
    reference = CrawlerDetect()
    sample = [
        *ua.BROWSERS,
        *(bot for bot in ua.BOTS if bot != ua.SELENIUM),
        "Wget/1.21.4",
        "Go-http-client/2.0",
    ]
    assert [DETECTOR.is_bot(agent) for agent in sample] == [reference.is_crawler(agent) for agent in sample]


def test_lookaround_patterns_still_apply() -> None:
    # crawlerdetect lists `Yandex(?!Search)`: RE2 cannot compile it, the Python side-regex keeps it.
    assert DETECTOR.is_bot("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)")
    yandex_app = ua.CHROME_ANDROID_PHONE + " YandexSearch/24.10"
    assert not CrawlerDetect().is_crawler(yandex_app)
    assert not DETECTOR.is_bot(yandex_app)


def test_extra_patterns_are_configurable() -> None:
    assert not BotDetector(extra_patterns=()).is_bot(ua.SELENIUM)
    assert BotDetector(extra_patterns=(r"MyMonitor/",)).is_bot("MyMonitor/1.0")
