"""Known traffic sources, as data: referrer host or `utm_source` value → name and GA4 category.

Categories follow GA4's source categories (SOURCE_CATEGORY_SEARCH / SOCIAL / SHOPPING / VIDEO,
the lists behind its default channel group) for the sources GA4 lists. Touchline adds:

* `ai_assistant` — ChatGPT, Perplexity, Claude, Gemini, Copilot…, for the AI Assistants channel;
* `email` — webmail and newsletter hosts (GA4 files mail.google.com under *search*; a click in
  Gmail is an email visit);
* `ignored` — payment pages and sign-in redirects (PayPal, Stripe Checkout, accounts.google.com):
  returning from them starts no new visit, so they are treated like a self-referral;
* social networks newer than GA4's published list (Threads, Bluesky, Mastodon) as `social`.

Sources GA4 does not categorise (GitHub, Slack, Product Hunt…) keep a name but no category, so
they land in Referral as they would in GA4. A host matches its own entry or its nearest listed
parent (`l.facebook.com` → facebook.com); brands with many country domains (`google.co.uk`,
`amazon.de`) match by their first label under a short country suffix.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from touchline.enrichment.domains import normalize_host

SEARCH = "search"
SOCIAL = "social"
SHOPPING = "shopping"
VIDEO = "video"
AI_ASSISTANT = "ai_assistant"
EMAIL = "email"
IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Source:
    """A named source; an empty name means "known to be nobody in particular: use the host"."""

    name: str
    category: str = ""


# (name, category, hosts, extra utm_source aliases). The lower-cased name, with and without its
# spaces, is always an alias too.
_TABLE: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    # Search engines
    ("Google", SEARCH, ("google.com", "com.google.android.googlequicksearchbox"), ("google.com",)),
    ("Google News", SEARCH, ("news.google.com",), ()),
    ("Google Play", SEARCH, ("play.google.com",), ("google-play",)),
    ("Bing", SEARCH, ("bing.com",), ("bing.com",)),
    ("DuckDuckGo", SEARCH, ("duckduckgo.com", "duck.com"), ("ddg",)),
    ("Yahoo", SEARCH, ("yahoo.com", "search.yahoo.com"), ("yahoo",)),
    ("Yandex", SEARCH, ("yandex.com", "ya.ru"), ()),
    ("Baidu", SEARCH, ("baidu.com",), ()),
    ("Ecosia", SEARCH, ("ecosia.org",), ()),
    ("Brave Search", SEARCH, ("search.brave.com",), ("brave",)),
    ("Qwant", SEARCH, ("qwant.com",), ()),
    ("Startpage", SEARCH, ("startpage.com",), ()),
    ("Kagi", SEARCH, ("kagi.com",), ()),
    ("Mojeek", SEARCH, ("mojeek.com",), ()),
    ("Naver", SEARCH, ("naver.com",), ()),
    ("Daum", SEARCH, ("daum.net",), ()),
    ("Seznam", SEARCH, ("seznam.cz",), ()),
    ("Sogou", SEARCH, ("sogou.com",), ()),
    ("360 Search", SEARCH, ("so.com",), ()),
    ("AOL", SEARCH, ("aol.com", "search.aol.com"), ()),
    ("MSN", SEARCH, ("msn.com",), ()),
    ("Ask", SEARCH, ("ask.com",), ()),
    ("Onet", SEARCH, ("onet.pl",), ()),
    ("Rambler", SEARCH, ("rambler.ru",), ()),
    ("Dogpile", SEARCH, ("dogpile.com",), ()),
    # Social networks
    ("Facebook", SOCIAL, ("facebook.com", "fb.com", "fb.me", "com.facebook.katana"), ("fb",)),
    ("Messenger", SOCIAL, ("messenger.com",), ()),
    ("Instagram", SOCIAL, ("instagram.com", "com.instagram.android"), ("ig",)),
    ("Threads", SOCIAL, ("threads.net", "threads.com"), ()),
    ("LinkedIn", SOCIAL, ("linkedin.com", "lnkd.in", "com.linkedin.android"), ()),
    ("X", SOCIAL, ("x.com", "twitter.com", "t.co", "com.twitter.android"), ("twitter",)),
    ("Reddit", SOCIAL, ("reddit.com", "redd.it", "com.reddit.frontpage"), ()),
    ("Pinterest", SOCIAL, ("pinterest.com", "pin.it"), ()),
    ("TikTok", SOCIAL, ("tiktok.com",), ()),
    ("Hacker News", SOCIAL, ("news.ycombinator.com",), ("hn",)),
    ("Bluesky", SOCIAL, ("bsky.app",), ()),
    ("Mastodon", SOCIAL, ("mastodon.social",), ()),
    ("Quora", SOCIAL, ("quora.com",), ()),
    ("Tumblr", SOCIAL, ("tumblr.com",), ()),
    ("VK", SOCIAL, ("vk.com",), ("vkontakte",)),
    ("Snapchat", SOCIAL, ("snapchat.com",), ()),
    ("WhatsApp", SOCIAL, ("whatsapp.com", "wa.me"), ()),
    ("Telegram", SOCIAL, ("t.me", "telegram.org", "org.telegram.messenger"), ()),
    ("LINE", SOCIAL, ("line.me",), ()),
    ("WeChat", SOCIAL, ("wechat.com",), ()),
    ("Weibo", SOCIAL, ("weibo.com",), ()),
    ("XING", SOCIAL, ("xing.com",), ()),
    ("Medium", SOCIAL, ("medium.com",), ()),
    ("Stack Overflow", SOCIAL, ("stackoverflow.com",), ()),
    ("Stack Exchange", SOCIAL, ("stackexchange.com",), ()),
    ("Yelp", SOCIAL, ("yelp.com",), ()),
    ("Tripadvisor", SOCIAL, ("tripadvisor.com",), ()),
    ("Flipboard", SOCIAL, ("flipboard.com",), ()),
    ("Pocket", SOCIAL, ("getpocket.com",), ()),
    ("Skype", SOCIAL, ("skype.com",), ()),
    ("Disqus", SOCIAL, ("disqus.com",), ()),
    ("Google Groups", SOCIAL, ("groups.google.com",), ()),
    ("Naver Blog", SOCIAL, ("blog.naver.com", "cafe.naver.com"), ()),
    # Video
    ("YouTube", VIDEO, ("youtube.com", "youtu.be", "com.google.android.youtube"), ("yt",)),
    ("Vimeo", VIDEO, ("vimeo.com",), ()),
    ("Twitch", VIDEO, ("twitch.tv",), ()),
    ("Dailymotion", VIDEO, ("dailymotion.com",), ()),
    ("Netflix", VIDEO, ("netflix.com",), ()),
    ("Hulu", VIDEO, ("hulu.com",), ()),
    ("Disney+", VIDEO, ("disneyplus.com",), ("disneyplus",)),
    ("Wistia", VIDEO, ("wistia.com", "wistia.net"), ()),
    ("TED", VIDEO, ("ted.com",), ()),
    ("Youku", VIDEO, ("youku.com",), ()),
    ("iQIYI", VIDEO, ("iqiyi.com", "iq.com"), ()),
    # Shopping
    ("Amazon", SHOPPING, ("amazon.com",), ()),
    ("eBay", SHOPPING, ("ebay.com",), ()),
    ("Etsy", SHOPPING, ("etsy.com",), ()),
    ("Walmart", SHOPPING, ("walmart.com",), ()),
    ("AliExpress", SHOPPING, ("aliexpress.com",), ()),
    ("Alibaba", SHOPPING, ("alibaba.com",), ()),
    ("Shopify", SHOPPING, ("shopify.com", "shop.app"), ()),
    ("Mercado Libre", SHOPPING, ("mercadolibre.com",), ("mercadolibre",)),
    ("Google Shopping", SHOPPING, ("shopping.google.com",), ("igshopping",)),
    ("Naver Shopping", SHOPPING, ("shopping.naver.com",), ()),
    ("Yahoo Shopping", SHOPPING, ("shopping.yahoo.com", "shopping.yahoo.co.jp"), ()),
    # AI assistants
    ("ChatGPT", AI_ASSISTANT, ("chatgpt.com", "chat.openai.com", "com.openai.chatgpt"), ("openai",)),
    ("Perplexity", AI_ASSISTANT, ("perplexity.ai",), ()),
    ("Claude", AI_ASSISTANT, ("claude.ai",), ("anthropic",)),
    ("Gemini", AI_ASSISTANT, ("gemini.google.com", "bard.google.com"), ("bard",)),
    (
        "Copilot",
        AI_ASSISTANT,
        ("copilot.microsoft.com", "copilot.cloud.microsoft", "copilot.com", "edgeservices.bing.com"),
        (),
    ),
    ("DeepSeek", AI_ASSISTANT, ("chat.deepseek.com",), ()),
    ("Grok", AI_ASSISTANT, ("grok.com",), ()),
    ("Meta AI", AI_ASSISTANT, ("meta.ai",), ()),
    ("Mistral Le Chat", AI_ASSISTANT, ("chat.mistral.ai",), ("mistral", "le chat")),
    ("Poe", AI_ASSISTANT, ("poe.com",), ()),
    ("You.com", AI_ASSISTANT, ("you.com",), ()),
    ("Phind", AI_ASSISTANT, ("phind.com",), ()),
    # Email: webmail and newsletter platforms
    ("Gmail", EMAIL, ("mail.google.com", "com.google.android.gm"), ()),
    ("Outlook", EMAIL, ("outlook.live.com", "outlook.office.com", "outlook.office365.com"), ()),
    ("Yahoo Mail", EMAIL, ("mail.yahoo.com",), ()),
    ("Proton Mail", EMAIL, ("mail.proton.me",), ()),
    ("Yandex Mail", EMAIL, ("mail.yandex.ru", "mail.yandex.com"), ()),
    ("AOL Mail", EMAIL, ("mail.aol.com",), ()),
    ("Fastmail", EMAIL, ("app.fastmail.com",), ()),
    ("Zoho Mail", EMAIL, ("mail.zoho.com",), ()),
    ("Substack", EMAIL, ("substack.com",), ()),
    ("beehiiv", EMAIL, ("beehiiv.com",), ()),
    ("Buttondown", EMAIL, ("buttondown.com", "buttondown.email"), ()),
    ("Mailchimp", EMAIL, ("campaign-archive.com", "mailchi.mp", "list-manage.com"), ()),
    ("Kit", EMAIL, ("convertkit.com", "ck.page"), ("convertkit",)),
    # Named, but no GA4 category: Referral
    ("GitHub", "", ("github.com",), ()),
    ("Product Hunt", "", ("producthunt.com",), ()),
    ("Slack", "", ("slack.com", "com.slack"), ()),
    ("Discord", "", ("discord.com", "discordapp.com"), ()),
    ("Microsoft Teams", "", ("teams.microsoft.com", "teams.live.com"), ("teams",)),
    ("Wikipedia", "", ("wikipedia.org",), ()),
    ("Google Docs", "", ("docs.google.com",), ()),
    ("Google Drive", "", ("drive.google.com",), ()),
    # Not a source: payment pages and sign-in redirects send the visitor back mid-visit
    ("PayPal", IGNORED, ("paypal.com",), ()),
    ("Stripe", IGNORED, ("stripe.com",), ()),
    ("Klarna", IGNORED, ("klarna.com",), ()),
    ("Adyen", IGNORED, ("adyen.com",), ()),
    ("Mollie", IGNORED, ("mollie.com",), ()),
    ("Shopify Checkout", IGNORED, ("checkout.shopify.com",), ()),
    ("Google Pay", IGNORED, ("pay.google.com",), ()),
    ("Google Accounts", IGNORED, ("accounts.google.com",), ()),
    ("Microsoft Login", IGNORED, ("login.microsoftonline.com", "login.live.com"), ()),
    ("Apple ID", IGNORED, ("appleid.apple.com",), ()),
)

# Hosts under a listed parent that are *not* that parent (user sites, developer docs).
_NOBODY = ("sites.google.com", "developers.google.com", "support.google.com", "cloud.google.com")

# First labels matched under any short (country) suffix: google.co.uk, amazon.de, yahoo.co.jp.
_BRANDS = ("google", "bing", "yahoo", "yandex", "amazon", "ebay", "pinterest", "mercadolibre", "mercadolivre")


def _index() -> tuple[dict[str, Source], dict[str, Source], dict[str, Source]]:
    """(host → source, utm alias → source, brand label → source) from the table above."""
    hosts: dict[str, Source] = {host: Source("") for host in _NOBODY}
    aliases: dict[str, Source] = {}
    for name, category, names_hosts, extra in _TABLE:
        source = Source(name, category)
        hosts.update(dict.fromkeys(names_hosts, source))
        for alias in (name.lower(), name.lower().replace(" ", ""), *extra):
            aliases.setdefault(alias, source)
    brands = {brand: hosts[f"{brand}.com"] for brand in _BRANDS if f"{brand}.com" in hosts}
    brands["mercadolivre"] = brands["mercadolibre"] = aliases["mercadolibre"]
    return hosts, aliases, brands


_HOSTS, _ALIASES, _BRAND_SOURCES = _index()


def _short_suffix(labels: list[str]) -> bool:
    """`com`, `de`, `co.uk`, `com.br`: what follows a brand on its country sites."""
    return 1 <= len(labels) <= 2 and all(0 < len(label) <= 3 for label in labels)


@lru_cache(maxsize=8192)
def source_for_host(host: str) -> Source | None:
    """The known source behind a referrer host, or None."""
    host = normalize_host(host)
    candidate = host
    while "." in candidate:
        if (found := _HOSTS.get(candidate)) is not None:
            return found
        candidate = candidate.partition(".")[2]
    labels = host.split(".")
    for index, label in enumerate(labels[:-1]):
        if label in _BRAND_SOURCES and _short_suffix(labels[index + 1 :]):
            return _BRAND_SOURCES[label]
    return None


@lru_cache(maxsize=4096)
def source_for_value(value: str) -> Source | None:
    """The known source behind a `utm_source`/`ref` value: a name, an alias or a host."""
    key = value.strip().lower()
    if (found := _ALIASES.get(key)) is not None:
        return found
    if "." in key and " " not in key:
        host = key.removeprefix("https://").removeprefix("http://").split("/", 1)[0]
        return source_for_host(host)
    return None
