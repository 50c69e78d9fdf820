"""User agent → browser, OS and device type, using ua-parser's maintained regexes.

The regexes come from `ua-parser-builtins` (the uap-core list, refreshed monthly) and run in
`ua-parser-rs` (Rust `regex`): ~5 µs for browser + OS on a cold agent versus ~30 µs with Python's
`re`. The device domain is skipped on purpose: it names models (`Samsung SM-X700`), not form
factors, and costs as much as the other two together, so the device type comes from a few UA
tokens instead. Extractors compile on first use (~90 ms), never at import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Protocol

DESKTOP = "desktop"
MOBILE = "mobile"
TABLET = "tablet"

# ua-parser families folded together: the device type already says "mobile", and a report that
# splits Chrome from "Chrome Mobile" answers no question anyone asks.
_BROWSER_NAMES = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome WebView",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari WebView",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
    "Samsung Internet": "Samsung Internet",
}
_OS_NAMES = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}

# Big screens (TVs, and Windows "Tablet PC" laptops) that would otherwise pass for tablets.
_DESKTOP_TOKENS = re.compile(
    r"Tablet PC|SmartTV|SMART-TV|Smart TV|GoogleTV|Android TV|CrKey|BRAVIA|AFT|Web0S"
)
_TABLET_TOKENS = re.compile(r"iPad|Tablet|Kindle|Silk/|PlayBook|Nexus (?:7|9|10)")
_MOBILE_TOKENS = re.compile(r"Mobi|iPhone|iPod|Windows Phone|BlackBerry|BB10|Opera Mini")


@dataclass(frozen=True, slots=True)
class Agent:
    """The `events` columns a user agent fills."""

    browser: str = ""
    browser_version: str = ""
    os: str = ""
    os_version: str = ""
    device_type: str = DESKTOP

    def columns(self) -> dict[str, object]:
        return {
            "browser": self.browser,
            "browser_version": self.browser_version,
            "os": self.os,
            "os_version": self.os_version,
            "device_type": self.device_type,
        }


class _Version(Protocol):
    @property
    def family(self) -> str: ...
    @property
    def major(self) -> str | None: ...
    @property
    def minor(self) -> str | None: ...


class _Extractor(Protocol):
    def extract(self, s: str, /) -> _Version | None: ...


def device_type(ua: str) -> str:
    """desktop | mobile | tablet from well-known tokens (iPadOS 13+ says "Macintosh": desktop)."""
    if _DESKTOP_TOKENS.search(ua):
        return DESKTOP
    if _TABLET_TOKENS.search(ua):
        return TABLET
    if _MOBILE_TOKENS.search(ua):
        return MOBILE
    if "Android" in ua:  # Android browsers on tablets drop the "Mobile" token
        return TABLET
    return DESKTOP


def _version(match: _Version) -> str:
    if not match.major:
        return ""
    return f"{match.major}.{match.minor}" if match.minor else match.major


class UserAgentParser:
    """Parses agents with ua-parser's builtin regexes; callers cache (agents repeat a lot)."""

    def __init__(self) -> None:
        self._browsers: _Extractor | None = None
        self._systems: _Extractor | None = None

    def load(self) -> None:
        """Compile the extractors now (the collector may call this during Lambda init)."""
        if self._browsers is not None:
            return
        from ua_parser_builtins.lazy import MATCHERS

        fields = attrgetter("regex", "family", "major", "minor", "patch", "patch_minor")
        browsers, systems, _devices = MATCHERS
        try:
            import ua_parser_rs
        except ImportError:  # no wheel for this platform: ua-parser's pure-Python matchers
            self._browsers = _PythonExtractor(browsers)
            self._systems = _PythonExtractor(systems)
            return
        self._systems = ua_parser_rs.OSExtractor(map(fields, systems))
        self._browsers = ua_parser_rs.UserAgentExtractor(map(fields, browsers))

    def parse(self, ua: str) -> Agent:
        if self._browsers is None:
            self.load()
        assert self._browsers is not None and self._systems is not None
        browser = self._browsers.extract(ua)
        system = self._systems.extract(ua)
        name = browser.family if browser and browser.family != "Other" else ""
        os_name = system.family if system and system.family != "Other" else ""
        return Agent(
            browser=_BROWSER_NAMES.get(name, name),
            browser_version=_version(browser) if browser and name else "",
            os=_OS_NAMES.get(os_name, os_name),
            os_version=_version(system) if system and os_name else "",
            device_type=device_type(ua),
        )


class _PythonExtractor:
    """Adapter giving ua-parser's Python matchers the extractor interface."""

    def __init__(self, matchers: Sequence[Callable[[str], _Version | None]]) -> None:
        self._matchers = matchers

    def extract(self, s: str, /) -> _Version | None:
        for matcher in self._matchers:
            if (found := matcher(s)) is not None:
                return found
        return None
