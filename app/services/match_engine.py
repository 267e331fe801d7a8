"""The adapter between Post rows and the matching engine's plain dataclasses (`matching/`).

The engine sees exact places (it runs on the server); what it returns is stored on Match and
Suggestion rows, and pages show only distance buckets computed from public cells.
"""
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

import matching
from matching.timeplan import Horizon
from app.extensions import db
from app.models import Post
from app.timeutil import utcnow

KM_PER_MILE = 1.609344


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc)


def to_need(post: Post, quantity: int | None = None) -> matching.Need:
    windows = () if post.flexible else tuple(matching.Window(_aware(w.start_at), _aware(w.end_at)) for w in post.windows)
    return matching.Need(id=str(post.id), category=post.category, title=post.title, lat=post.lat, lon=post.lon,
                         quantity=max(1, quantity if quantity is not None else post.units_left),
                         owner=str(post.owner_id), details=post.details or "", urgency=post.urgency,
                         posted=_aware(post.created_at), when=windows, duration_min=float(post.duration_min or 60))


def to_offer(post: Post, capacity: int | None = None) -> matching.Offer:
    return matching.Offer(id=str(post.id), category=post.category, title=post.title, lat=post.lat, lon=post.lon,
                          radius_km=(post.radius_miles or 10.0) * KM_PER_MILE,
                          capacity=max(1, capacity if capacity is not None else post.units_left),
                          owner=str(post.owner_id), details=post.details or "",
                          weekly=tuple(matching.WeeklySlot(s.day, s.start_min, s.end_min) for s in post.weekly_slots),
                          tz=current_app.config["COMMUNITY_TZ"], committed=post.units_committed or 0)


def _open(kind: str, category: str | None = None, exclude: set[int] = frozenset()):
    stmt = (select(Post).where(Post.kind == kind, Post.status == "open", Post.expires_at > utcnow(),
                               Post.units_committed < Post.quantity)
            .options(selectinload(Post.windows), selectinload(Post.weekly_slots)).order_by(Post.id))
    if category:
        stmt = stmt.where(Post.category == category)
    return [p for p in db.session.scalars(stmt) if p.id not in exclude]


def _instance(needs, offers) -> matching.Instance:
    return matching.Instance(now=datetime.now(timezone.utc), needs=tuple(needs), offers=tuple(offers),
                             top_k=current_app.config["MATCH_TOP_K"])


def candidates_for_need(need: Post, exclude_offers: set[int] = frozenset(), units: int | None = None) -> list[matching.Candidate]:
    """Ranked feasible open offers for one need (the engine's single-post call)."""
    offers = [to_offer(p) for p in _open("offer", need.category, exclude_offers)]
    if not offers:
        return []
    n = to_need(need, units)
    return matching.Engine(_instance([n], offers)).candidates_for_need(n)


def candidates_for_offer(offer: Post, exclude_needs: set[int] = frozenset()) -> list[matching.Candidate]:
    """Ranked feasible open needs for one offer."""
    needs = [to_need(p) for p in _open("need", offer.category, exclude_needs)]
    if not needs:
        return []
    o = to_offer(offer)
    return matching.Engine(_instance(needs, [o])).candidates_for_offer(o)


def check_pair(need: Post, offer: Post) -> matching.Candidate | None:
    """The engine's verdict on one pair: a candidate with score and reasons, or None if infeasible."""
    n, o = to_need(need), to_offer(offer)
    engine = matching.Engine(_instance([n], [o]))
    found = engine.candidates_for_need(n, top_k=1)
    return found[0] if found else None


def solve_all(needs: list[Post], offers: list[Post], need_units: dict[int, int], offer_units: dict[int, int]) -> matching.Result:
    """The whole assignment over the given open posts (for `flask match run`)."""
    instance = _instance([to_need(p, need_units.get(p.id)) for p in needs],
                         [to_offer(p, offer_units.get(p.id)) for p in offers])
    return matching.solve(instance)


def open_posts(kind: str) -> list[Post]:
    return _open(kind)


def scheduled_time(need: Post, offer: Post) -> datetime | None:
    """When the help happens (naive UTC): the appointment, else the first stretch of the need's
    windows that the offer's weekly slots cover for the whole duration; None for flexible needs."""
    if need.appointment_at:
        return need.appointment_at
    if need.flexible or not need.windows:
        return None
    duration = int((need.duration_min or 60) * 60)
    last = max(int(_aware(w.end_at).timestamp()) for w in need.windows)
    horizon = Horizon(datetime.now(timezone.utc), last)
    tz = current_app.config["COMMUNITY_TZ"]
    spans = sorted(span for s in offer.weekly_slots for span in horizon.weekly(tz, s.day, s.start_min, s.end_min))
    for w in need.windows:
        ws, we = int(_aware(w.start_at).timestamp()), int(_aware(w.end_at).timestamp())
        if not spans:  # an offer without slots is available at any time
            return w.start_at
        for s, e in spans:
            start, end = max(ws, s), min(we, e)
            if end - start >= duration:
                return datetime.fromtimestamp(start, timezone.utc).replace(tzinfo=None)
    return need.windows[0].start_at


def km_to_bucket(km: float | None) -> str | None:
    from app.services import geo

    return None if km is None else geo.distance_bucket(km / KM_PER_MILE)
