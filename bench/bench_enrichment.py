"""Enrichment figures: package import, first-hit table loads, µs/hit warm and cold, per component.

The hit mix uses ~1,000 distinct user agents generated from real browser strings (Chrome, Edge,
Firefox, Safari on desktop; Safari, Chrome, Samsung Internet, Firefox, Instagram in-app on
phones; iPads and Android tablets) with varied versions, OS versions and device models, plus
realistic URLs, referrers and IPs. "Warm" means every agent is already in the agent cache;
"cold" means every hit brings an agent the collector has not seen.
"""

from __future__ import annotations

import contextlib
import importlib
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bench.common import fresh_interpreter_ms
from touchline.ingest.enrich import DropHit, HitContext

DISTINCT_AGENTS = 1_000
HITS = 20_000

_PHONES = (
    "SM-S911B",
    "SM-A546B",
    "Pixel 7",
    "Pixel 8 Pro",
    "K",
    "M2101K6G",
    "CPH2451",
    "SM-G991U",
    "2201117TG",
)
_TABLETS = ("SM-X700", "SM-T870", "Lenovo TB-X606F", "KFTRWI", "SM-X200")
_IOS = ("17_5", "17_4_1", "16_6", "18_1", "18_0_1", "15_8", "17_6_1", "18_2")
_MACOS = ("10_15_7", "14_4_1", "13_6")
_REFERRERS = (
    "",
    "",
    "",
    "https://www.google.com/",
    "https://www.google.co.uk/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://l.facebook.com/",
    "https://lm.facebook.com/l.php?u=x",
    "https://t.co/abc",
    "https://www.linkedin.com/feed/",
    "https://news.ycombinator.com/item?id=1",
    "https://chatgpt.com/",
    "https://www.perplexity.ai/",
    "https://github.com/org/repo",
    "https://blog.example.org/post",
    "https://shop.example.com/cart",
    "https://checkout.stripe.com/pay/cs_1",
)
_QUERIES = (
    "",
    "",
    "",
    "?utm_source=newsletter&utm_medium=email&utm_campaign=nov",
    "?utm_source=google&utm_medium=cpc&utm_campaign=brand&gclid=Cj0KCQiA",
    "?fbclid=IwAR2x",
    "?utm_source=facebook&utm_medium=paid_social&utm_campaign=retarget",
    "?ref=producthunt",
)


# Real agent strings with {placeholders} for the parts that vary between browsers in the wild.
_WEBKIT = "AppleWebKit/537.36 (KHTML, like Gecko)"
_WEBKIT_IOS = "AppleWebKit/605.1.15 (KHTML, like Gecko)"
_TEMPLATES = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) {webkit} Chrome/{chrome} Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X {mac}) {webkit} Chrome/{chrome} Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) {webkit} Chrome/{chrome} Safari/537.36 Edg/{chrome2}",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{ff}.0) Gecko/20100101 Firefox/{ff}.0",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:{ff}.0) Gecko/20100101 Firefox/{ff}.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {webkit_ios} Version/{safari} Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) {webkit_ios} Version/{ios_short} "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) {webkit_ios} Version/{ios_short} "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) {webkit_ios} CriOS/{chrome} "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android {android}; {phone}) {webkit} Chrome/{chrome} Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android {android}; {phone}) {webkit} Chrome/{chrome} Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android {android}; {phone}) {webkit} SamsungBrowser/{samsung}.0 Chrome/{chrome} "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS {ios} like Mac OS X) {webkit_ios} Version/{ios_short} "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android {android}; {tablet}) {webkit} Chrome/{chrome} Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) {webkit_ios} Mobile/15E148 Instagram {app} "
    "(iPhone14,5; iOS {ios}; en_US; en; scale=3.00; 1170x2532; {build})",
    "Mozilla/5.0 (Android {android}; Mobile; rv:{ff}.0) Gecko/{ff}.0 Firefox/{ff}.0",
)


def user_agents(count: int = DISTINCT_AGENTS, seed: int = 7) -> list[str]:
    """`count` distinct, realistic agents: variations of real browser strings."""
    rng = random.Random(seed)
    agents: set[str] = set()

    def chrome() -> str:
        return f"{rng.randint(100, 132)}.0.{rng.randint(4000, 6900)}.{rng.randint(0, 250)}"

    while len(agents) < count:
        ios = rng.choice(_IOS)
        ff = rng.randint(100, 133)
        app = [rng.randint(300, 350), 0, rng.randint(0, 9), rng.randint(10, 40), rng.randint(50, 120)]
        agents.add(
            rng.choice(_TEMPLATES).format(
                webkit=_WEBKIT,
                webkit_ios=_WEBKIT_IOS,
                chrome=chrome(),
                chrome2=chrome(),
                mac=rng.choice(_MACOS),
                ff=ff,
                safari=f"{rng.randint(15, 18)}.{rng.randint(0, 6)}",
                ios=ios,
                ios_short=".".join(ios.split("_")[:2]),
                android=rng.randint(10, 15),
                phone=rng.choice(_PHONES),
                tablet=rng.choice(_TABLETS),
                samsung=rng.randint(20, 27),
                app=".".join(map(str, app)),
                build=rng.randint(10**8, 10**9),
            )
        )
    return sorted(agents)


def hits(agents: list[str], count: int = HITS, seed: int = 11) -> list[HitContext]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 22, 8, tzinfo=UTC)
    out = []
    for i in range(count):
        ip = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        out.append(
            HitContext(
                site_id="site1",
                site_domain="shop.example.com",
                url=f"https://shop.example.com/p/{i % 50}{rng.choice(_QUERIES)}",
                referrer=rng.choice(_REFERRERS),
                user_agent=agents[i % len(agents)],
                ip=ip,
                timestamp=start + timedelta(seconds=i),
                headers={"cloudfront-viewer-country": "FR", "cloudfront-viewer-city": "Lyon"}
                if i % 3 == 0
                else {},
                visitor_id=f"v{i % 700}" if i % 2 else None,
            )
        )
    return out


def _per_call_us(fn: Callable[[str], object], items: list[str]) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - start) / len(items) * 1e6


def _enrich_all(enrich: Callable[[HitContext], object], batch: list[HitContext]) -> float:
    start = time.perf_counter()
    for hit in batch:
        with contextlib.suppress(DropHit):
            enrich(hit)
    return (time.perf_counter() - start) / len(batch) * 1e6


def _clear_module_caches() -> None:
    from touchline.enrichment import acquisition, domains, landing, sources
    from touchline.ingest import enrich

    for cached in (
        landing.hostname,
        landing.landing_columns,
        enrich.query_params,
        domains.registrable_domain,
        domains.is_public_suffix,
        sources.source_for_host,
        sources.source_for_value,
        acquisition._classify,
    ):
        cached.cache_clear()


def bench_enricher() -> list[tuple[str, str]]:
    from touchline.enrichment import FullEnricher, InMemorySaltStore

    agents = user_agents()
    batch = hits(agents)
    enricher = FullEnricher(InMemorySaltStore())
    start = time.perf_counter()
    enricher.warm()
    warm_ms = (time.perf_counter() - start) * 1e3
    first_pass = _enrich_all(enricher.enrich, batch[: len(agents)])  # every agent new, tables loaded
    warm = min(_enrich_all(enricher.enrich, batch) for _ in range(3))
    cold_runs = []
    for _ in range(3):
        enricher.agent_columns.cache_clear()
        _clear_module_caches()
        cold_runs.append(_enrich_all(enricher.enrich, batch[: len(agents)]))
    return [
        ("FullEnricher.warm(): load every table", f"{warm_ms:.0f} ms"),
        (f"µs/hit warm ({len(batch):,} hits, {len(agents):,} distinct agents, all cached)", f"{warm:.1f} µs"),
        (f"µs/hit cold ({len(agents):,} hits, every agent new, tables loaded)", f"{first_pass:.1f} µs"),
        ("µs/hit cold (every agent new, host/source caches emptied too)", f"{min(cold_runs):.1f} µs"),
    ]


_LOADS = (
    (
        "ua-parser regexes into ua-parser-rs (browser + OS)",
        "from touchline.enrichment.useragent import UserAgentParser",
        "UserAgentParser().load()",
    ),
    (
        "crawlerdetect patterns into RE2",
        "from touchline.enrichment.bots import BotDetector",
        "BotDetector().load()",
    ),
    (
        "Public Suffix List (publicsuffixlist)",
        "from touchline.enrichment import domains",
        "domains.suffix_list()",
    ),
    ("referrer spam list (+ PSL)", "from touchline.enrichment.spam import SpamList", "SpamList().load()"),
    ("iptocc", "from touchline.enrichment.geo import IpCountry", "IpCountry()('8.8.8.8')"),
)


def bench_components() -> list[tuple[str, str]]:
    from touchline.enrichment.acquisition import _classify, acquisition
    from touchline.enrichment.bots import BotDetector
    from touchline.enrichment.domains import registrable_domain, suffix_list
    from touchline.enrichment.geo import IpCountry
    from touchline.enrichment.spam import SpamList
    from touchline.enrichment.useragent import UserAgentParser
    from touchline.enrichment.visitor import cookieless_id

    agents = user_agents()
    rows: list[tuple[str, str]] = []

    parser, bots, spam, ip_country = UserAgentParser(), BotDetector(), SpamList(), IpCountry()
    for label, setup, call in _LOADS:
        code = (
            f"import time; {setup}; t = time.perf_counter(); {call}; print((time.perf_counter() - t) * 1e3)"
        )
        rows.append(
            (f"load {label} (fresh interpreter, on first use)", f"{fresh_interpreter_ms(code, 3):.1f} ms")
        )
    for loaded in (parser.load, bots.load, spam.load, ip_country.load, suffix_list):
        loaded()

    rows.append(("user agent parse, uncached (ua-parser-rs)", f"{_per_call_us(parser.parse, agents):.2f} µs"))
    rows.append(
        (
            "bot check, uncached (RE2 over crawlerdetect's patterns)",
            f"{_per_call_us(bots.is_bot, agents):.2f} µs",
        )
    )
    sample = agents[:100]
    detector = importlib.import_module("crawlerdetect").CrawlerDetect()  # untyped package
    slow = _per_call_us(lambda ua: detector._check_crawler(ua), sample)
    rows.append(("  for comparison: crawlerdetect's own matcher, uncached", f"{slow:.0f} µs"))
    hosts = [f"blog{i}.shop{i % 97}.co.uk" for i in range(2000)]
    registrable_domain.cache_clear()
    rows.append(
        (
            "registrable domain, uncached (publicsuffixlist)",
            f"{_per_call_us(registrable_domain, hosts):.2f} µs",
        )
    )
    rows.append(("registrable domain, cached", f"{_per_call_us(registrable_domain, hosts):.2f} µs"))
    rows.append(("referrer spam check, uncached", f"{_per_call_us(spam.is_spam.__wrapped__, hosts):.2f} µs"))
    query = {"utm_source": "google", "utm_medium": "cpc", "gclid": "x"}
    refs = [f"ref{i}.example.net" for i in range(2000)]
    _classify.cache_clear()
    rows.append(
        ("source + channel, uncached", f"{_per_call_us(lambda h: acquisition(query, h), refs):.2f} µs")
    )
    rows.append(("source + channel, cached", f"{_per_call_us(lambda h: acquisition(query, h), refs):.2f} µs"))
    rng = random.Random(3)
    ips = [
        f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        for _ in range(5000)
    ]
    rows.append(("IP → country (iptocc)", f"{_per_call_us(ip_country, ips):.2f} µs"))
    salt = bytes(range(16))
    hash_us = _per_call_us(
        lambda ip: cookieless_id(salt, agents[0], ip, "shop.example.com", "example.com"), ips
    )
    rows.append(("cookieless visitor id (siphashc)", f"{hash_us:.2f} µs"))
    return rows


def run() -> list[tuple[str, str]]:
    import_ms = fresh_interpreter_ms(
        "import time; t = time.perf_counter(); import touchline.enrichment; "
        "print((time.perf_counter() - t) * 1e3)"
    )
    marginal_ms = fresh_interpreter_ms(
        "import time, touchline.ingest.collect; t = time.perf_counter(); import touchline.enrichment; "
        "print((time.perf_counter() - t) * 1e3)"
    )
    first_hit_ms = fresh_interpreter_ms(
        "import time; from datetime import UTC, datetime; from touchline.ingest.enrich import HitContext; "
        "from touchline.enrichment import FullEnricher, InMemorySaltStore; "
        "e = FullEnricher(InMemorySaltStore()); "
        "h = HitContext('s', 'shop.example.com', 'https://shop.example.com/', 'https://www.google.com/', "
        "'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36', '8.8.8.8', datetime.now(UTC)); t = time.perf_counter(); e.enrich(h); "
        "print((time.perf_counter() - t) * 1e3)"
    )
    return [
        ("import touchline.enrichment (fresh interpreter, median of 5)", f"{import_ms:.1f} ms"),
        ("  of which beyond touchline.ingest.collect's imports", f"{marginal_ms:.1f} ms"),
        ("first hit in a fresh interpreter (loads every table lazily)", f"{first_hit_ms:.0f} ms"),
        *bench_enricher(),
        *bench_components(),
    ]


if __name__ == "__main__":
    for label, figure in run():
        print(f"{label:<78} {figure}")
