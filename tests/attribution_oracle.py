"""A pure-Python reference implementation of docs/attribution.md, the oracle for the SQL.

Deliberately written the naive way (row by row, the definitions as stated) so it shares no
cleverness with touchline.aggregate: sessions follow the sequential rule, not the window-function
reformulation. Where the definitions involve floating point (credits, time decay, the largest
remainder), it performs the same IEEE operations in the same order as the SQL.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from touchline.revenue.money import ISO_EXPONENTS

GAP_MS = 30 * 60 * 1000
MAX_MS = 24 * 60 * 60 * 1000
DAY_MS = 86_400_000
MODELS = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based")


def ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


@dataclass(frozen=True)
class Hit:
    event_id: str
    visitor_id: str
    at: datetime
    event_type: str = "pageview"
    name: str = "pageview"
    source: str = ""
    medium: str = ""
    campaign: str = ""
    click_id: str = ""
    channel: str = ""
    pathname: str = "/"
    interactive: int = 1
    device_type: str = "desktop"
    revenue: Decimal | None = None
    currency: str = ""
    user_id: str = ""

    @property
    def direct(self) -> bool:
        return not (self.source or self.medium or self.campaign or self.click_id)

    @property
    def acquisition(self) -> tuple[str, str, str, str]:
        return (self.source, self.medium, self.campaign, self.click_id)


@dataclass(frozen=True)
class Order:
    source: str
    order_id: str
    at: datetime
    amount: Decimal
    currency: str
    visitor_id: str = ""
    customer_id_type: str = ""
    customer_id: str = ""
    email_sha256: str = ""
    status: str = "paid"


@dataclass(frozen=True)
class Refund:
    source: str
    refund_id: str
    order_id: str
    amount: Decimal
    currency: str


@dataclass
class Session:
    visitor_id: str
    user_id: str = ""
    hits: list[Hit] = field(default_factory=list)

    @property
    def session_id(self) -> str:
        return self.hits[0].event_id

    @property
    def start(self) -> datetime:
        return self.hits[0].at

    @property
    def channel(self) -> str:
        first = self.hits[0]
        return first.channel or ("Direct" if first.direct else "Unassigned")

    def summary(self) -> dict[str, object]:
        pageviews = sum(h.event_type == "pageview" for h in self.hits)
        interactive_other = any(h.event_type != "pageview" and h.interactive for h in self.hits)
        pageview_paths = [h.pathname for h in self.hits if h.event_type == "pageview"]
        first = self.hits[0]
        return {
            "visitor_id": self.visitor_id,
            "user_id": self.user_id,
            "session_id": self.session_id,
            "session_start": ms(self.start),
            "session_end": ms(self.hits[-1].at),
            "duration_s": (ms(self.hits[-1].at) - ms(self.start)) // 1000,
            "hits": len(self.hits),
            "pageviews": pageviews,
            "goals": sum(h.event_type == "goal" for h in self.hits),
            "is_bounce": int(pageviews <= 1 and not interactive_other),
            "channel": self.channel,
            "source": first.source,
            "medium": first.medium,
            "campaign": first.campaign,
            "landing_page": first.pathname,
            "exit_page": pageview_paths[-1] if pageview_paths else "",
            "hit_list": tuple(
                (ms(h.at), h.event_type, h.name, h.pathname, h.revenue, h.currency) for h in self.hits
            ),
        }


def signed_in(visitor_hits: list[Hit]) -> list[str]:
    """Who is signed in at each of a browser's sorted hits (docs/identity.md, "Shared devices"):
    the hit's user id, else that of the next hit of its visit (no 30-minute gap) carrying one,
    else of the previous such hit of its visit, else nobody."""
    visits: list[list[int]] = []
    for i, hit in enumerate(visitor_hits):
        if not visits or ms(hit.at) - ms(visitor_hits[i - 1].at) > GAP_MS:
            visits.append([])
        visits[-1].append(i)
    users = [""] * len(visitor_hits)
    for visit in visits:
        for position, i in enumerate(visit):
            later = [visitor_hits[j].user_id for j in visit[position:] if visitor_hits[j].user_id]
            earlier = [visitor_hits[j].user_id for j in visit[:position] if visitor_hits[j].user_id]
            users[i] = later[0] if later else earlier[-1] if earlier else ""
    return users


def sessionize(hits: list[Hit]) -> list[Session]:
    """The definition, hit by hit: gap, another signed-in user, changed non-direct acquisition,
    then 24-hour pieces."""
    by_visitor: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        if hit.event_type not in ("engagement", "identify"):
            by_visitor[hit.visitor_id].append(hit)
    result: list[Session] = []
    for visitor, visitor_hits in by_visitor.items():
        visitor_hits.sort(key=lambda h: (ms(h.at), h.event_id))
        sessions: list[Session] = []
        latest_non_direct: tuple[str, str, str, str] | None = None
        previous: Hit | None = None
        for hit, user in zip(visitor_hits, signed_in(visitor_hits), strict=True):
            new = (
                previous is None
                or ms(hit.at) - ms(previous.at) > GAP_MS
                or user != sessions[-1].user_id
                or (not hit.direct and hit.acquisition != latest_non_direct)
            )
            if new:
                sessions.append(Session(visitor, user))
                latest_non_direct = None
            sessions[-1].hits.append(hit)
            if not hit.direct:
                latest_non_direct = hit.acquisition
            previous = hit
        for session in sessions:
            start = ms(session.start)
            pieces: dict[int, Session] = {}
            for hit in session.hits:
                piece = (ms(hit.at) - start) // MAX_MS
                pieces.setdefault(piece, Session(visitor, session.user_id)).hits.append(hit)
            result.extend(pieces.values())
    return result


@dataclass(frozen=True)
class Conversion:
    conversion_id: str
    kind: str
    name: str
    at: datetime
    revenue: Decimal
    currency: str
    person_id: str


def conversions(
    hits: list[Hit],
    orders: list[Order],
    refunds: list[Refund],
    identity: dict[tuple[str, str], str],
    goals: dict[str, tuple[Decimal | None, str]],
) -> list[Conversion]:
    refunded: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for refund in refunds:
        refunded[(refund.source, refund.order_id)] += refund.amount
    sessions = sessionize(hits)

    def user_person(visitor_id: str, at: datetime) -> str | None:
        """The person of the user signed in during the browser's session in progress at `at`."""
        started = [s for s in sessions if s.visitor_id == visitor_id and ms(s.start) <= ms(at)]
        current = max(started, key=lambda s: ms(s.start), default=None)
        if current is None or not current.user_id:
            return None
        return identity.get(("user", current.user_id))

    found = []
    for order in orders:
        if order.status != "paid":
            continue
        net = order.amount - min(order.amount, refunded[(order.source, order.order_id)])
        if net <= 0:
            continue
        signed = user_person(order.visitor_id, order.at) if order.visitor_id else None
        if signed:
            person = signed
        elif order.visitor_id:
            person = identity.get(("visitor", order.visitor_id), f"visitor:{order.visitor_id}")
        elif (order.customer_id_type, order.customer_id) in identity:
            person = identity[(order.customer_id_type, order.customer_id)]
        elif ("email_sha256", order.email_sha256) in identity:
            person = identity[("email_sha256", order.email_sha256)]
        else:
            person = f"order:{order.source}:{order.order_id}"
        found.append(
            Conversion(f"{order.source}:{order.order_id}", "order", "", order.at, net, order.currency, person)
        )
    for hit in hits:
        if hit.event_type == "goal" and hit.name in goals:
            value, currency = goals[hit.name]
            revenue = value if value is not None else (hit.revenue or Decimal(0))
            found.append(
                Conversion(
                    hit.event_id,
                    "goal",
                    hit.name,
                    hit.at,
                    revenue,
                    currency if value is not None else hit.currency,
                    user_person(hit.visitor_id, hit.at)
                    or identity.get(("visitor", hit.visitor_id), f"visitor:{hit.visitor_id}"),
                )
            )
    return found


@dataclass(frozen=True)
class Credit:
    conversion_id: str
    model: str
    touch_index: int
    touch_count: int
    session_id: str
    channel: str
    credit: float
    attributed_revenue: Decimal
    currency: str


def model_credits(
    model: str, touches: list[Session], converted_at: datetime, half_life_ms: float
) -> list[float]:
    n = len(touches)
    if model == "first_touch":
        return [float(i == 1) for i in range(1, n + 1)]
    if model == "last_touch":
        return [float(i == n) for i in range(1, n + 1)]
    if model == "last_non_direct":
        non_direct = [i for i, t in enumerate(touches, 1) if t.channel != "Direct"]
        chosen = non_direct[-1] if non_direct else n
        return [float(i == chosen) for i in range(1, n + 1)]
    if model == "linear":
        return [1 / n for _ in touches]
    if model == "time_decay":
        weights = [math.exp2(-(float(ms(converted_at) - ms(t.start)) / half_life_ms)) for t in touches]
        total = sum(weights)
        return [w / total for w in weights]
    if model == "position_based":
        if n == 1:
            return [1.0]
        if n == 2:
            return [0.5, 0.5]
        return [0.4 if i in (1, n) else 0.2 / (n - 2) for i in range(1, n + 1)]
    raise ValueError(model)


def largest_remainder(credits: list[float], revenue: Decimal, currency: str) -> list[Decimal]:
    exponent = ISO_EXPONENTS.get(currency, 2)
    scaled = revenue * (10**exponent)
    unit_exp = exponent if scaled == int(scaled) else 4
    units = int(abs(revenue) * (10**unit_exp))
    raw = [c * units for c in credits]
    floors = [math.floor(r) for r in raw]
    leftover = units - sum(floors)
    order = sorted(range(len(credits)), key=lambda i: (-(raw[i] - floors[i]), i))
    bonus = set(order[:leftover])
    sign = -1 if revenue < 0 else 1
    return [Decimal(sign * (floors[i] + (i in bonus))) / (10**unit_exp) for i in range(len(credits))]


def attribute(
    sessions: list[Session],
    found: list[Conversion],
    identity: dict[tuple[str, str], str],
    lookback_days: int = 30,
    half_life_days: float = 7.0,
    keep: Callable[[list[Session]], list[Session]] = lambda touches: touches,
) -> list[Credit]:
    """Every model's credits; `keep` narrows each conversion's touchpoints first (a touches
    variant of docs/attribution.md: `clicks_only`, `paid_only`)."""
    lookback_ms = lookback_days * DAY_MS
    half_life_ms = float(half_life_days * DAY_MS)
    by_person: dict[str, list[Session]] = defaultdict(list)
    for session in sessions:
        by_person[session_person(session, identity)].append(session)
    credits = []
    for conversion in found:
        touches = keep(
            sorted(
                (
                    s
                    for s in by_person.get(conversion.person_id, [])
                    if ms(s.start) <= ms(conversion.at) and ms(conversion.at) - ms(s.start) <= lookback_ms
                ),
                key=lambda s: (ms(s.start), s.session_id),
            )
        )
        for model in MODELS:
            if not touches:
                credits.append(
                    Credit(
                        conversion.conversion_id,
                        model,
                        0,
                        0,
                        "",
                        "(none)",
                        1.0,
                        conversion.revenue,
                        conversion.currency,
                    )
                )
                continue
            shares = model_credits(model, touches, conversion.at, half_life_ms)
            amounts = largest_remainder(shares, conversion.revenue, conversion.currency)
            for index, (touch, share, amount) in enumerate(zip(touches, shares, amounts, strict=True), 1):
                if share == 0:
                    continue
                credits.append(
                    Credit(
                        conversion.conversion_id,
                        model,
                        index,
                        len(touches),
                        touch.session_id,
                        touch.channel,
                        share,
                        amount,
                        conversion.currency,
                    )
                )
    return credits


def session_person(session: Session, identity: dict[tuple[str, str], str]) -> str:
    """The signed-in user's person, else the browser's (docs/identity.md, "Shared devices")."""
    if session.user_id and ("user", session.user_id) in identity:
        return identity[("user", session.user_id)]
    return identity.get(("visitor", session.visitor_id), f"visitor:{session.visitor_id}")
