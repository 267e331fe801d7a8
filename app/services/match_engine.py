"""The adapter between Post rows and the matching engine's plain dataclasses (`matching/`).

The engine sees exact places (it runs on the server); what it returns is stored on Match and
Suggestion rows, and pages show only distance buckets computed from public cells.
"""
import math
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import func, select

import matching
from matching.timeplan import Horizon
from app.extensions import db
from app.models import Post
from app.models.posts import MONEY_CATEGORY, urgency_on
from app.services import exclusions, geo, holds
from app.timeutil import local_today, utcnow

KM_PER_MILE = 1.609344


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc)


def to_need(post, quantity: int | None = None, windows=None) -> matching.Need:
    """A Post (or a row with the same columns, plus its `windows`) as the engine's Need."""
    spans = () if post.flexible else tuple(matching.Window(_aware(start), _aware(end)) for start, end in (
        windows if windows is not None else [(w.start_at, w.end_at) for w in post.windows]))
    left = post.quantity - (post.units_committed or 0)
    return matching.Need(id=str(post.id), category=post.category, title=post.title, lat=post.lat, lon=post.lon,
                         quantity=max(1, quantity if quantity is not None else left),
                         owner=str(post.owner_id), details=post.details or "", urgency=urgency_on(post.needed_by, local_today()),
                         posted=_aware(post.created_at), when=spans, duration_min=float(post.duration_min or 60))


def to_offer(post, capacity: int | None = None, slots=None) -> matching.Offer:
    """A Post (or a row with the same columns, plus its weekly `slots`) as the engine's Offer."""
    slots = slots if slots is not None else [(x.day, x.start_min, x.end_min) for x in post.weekly_slots]
    left = post.quantity - (post.units_committed or 0)
    return matching.Offer(id=str(post.id), category=post.category, title=post.title, lat=post.lat, lon=post.lon,
                          radius_km=(post.radius_miles or 10.0) * KM_PER_MILE,
                          capacity=max(1, capacity if capacity is not None else left),
                          owner=str(post.owner_id), details=post.details or "",
                          weekly=tuple(matching.WeeklySlot(d, a, b) for d, a, b in slots),
                          tz=current_app.config["COMMUNITY_TZ"], committed=post.units_committed or 0)


def _conditions(kind: str, category: str | None, near: tuple[float, float, float] | None) -> list:
    """Open posts with units left that no safety report hides; `near=(lat, lon, miles)` keeps those within reach, by an
    indexed box on the public cells (a little wider than the circle; the engine checks exactly)."""
    # Money never goes person to person: it moves only through the fund (MONEY_CATEGORY).
    conds = [Post.kind == kind, Post.status == "open", Post.expires_at > utcnow(), Post.units_committed < Post.quantity,
             Post.category != MONEY_CATEGORY,
             # A post a safety report hides gets no proposals (an anti-join on the indexed concerns.post_id).
             holds.post_visible()]
    if kind == "need":
        conds.append(Post.repeats.is_(False))  # needs that repeat are matched date by date (repeat_matching.py)
    if category:
        conds.append(Post.category == category)
    if near:
        lat, lon, miles = near
        dlat = miles / 69.0 + 0.02  # plus the ~1 km cell
        dlon = dlat / max(math.cos(math.radians(min(abs(lat) + dlat, 89.0))), 0.01)
        conds += [Post.cell_lat.between(lat - dlat, lat + dlat), Post.cell_lon.between(lon - dlon, lon + dlon)]
    return conds


COLUMNS = (Post.id, Post.category, Post.title, Post.details, Post.lat, Post.lon, Post.quantity, Post.units_committed,
           Post.owner_id, Post.needed_by, Post.created_at, Post.flexible, Post.duration_min, Post.radius_miles)


def open_for_engine(kind: str, category: str | None = None, exclude: set[int] = frozenset(), near=None) -> list:
    """Open posts (in a category, within reach) as the engine's dataclasses, with their units left,
    from this process's index (engine_index.py): only posts new or changed since it last saw them
    are read in full and converted."""
    from app.services.engine_index import index

    if kind == "offer":
        convert = lambda row, slots: to_offer(row, slots=slots)  # noqa: E731
    else:
        convert = lambda row, windows: to_need(row, windows=windows)  # noqa: E731
    return index(kind).posts(_conditions(kind, category, near), set(exclude), convert)


def reach_of_offers(category: str) -> float:
    """The farthest any open offer in the category travels, in miles."""
    return float(db.session.scalar(select(func.max(Post.radius_miles)).where(
        Post.kind == "offer", Post.status == "open", Post.category == category)) or 0.0)


def _instance(prepared: exclusions.Prepared) -> matching.Instance:
    """The engine's instance for posts that went through `exclusions.prepare` (the safety rules)."""
    return matching.Instance(now=datetime.now(timezone.utc), needs=prepared.needs, offers=prepared.offers,
                             top_k=current_app.config["MATCH_TOP_K"], **prepared.fields)


def _engine(prepared: exclusions.Prepared) -> matching.Engine:
    """An engine for a single-post call, reading texts through this process's vocabulary (the
    words of the offers it has seen before are kept, engine_index.py)."""
    from app.services.engine_index import vocabulary

    return matching.Engine(_instance(prepared), vocabulary())


def candidates_for_need(need: Post, exclude_offers: set[int] = frozenset(), units: int | None = None) -> list[matching.Candidate]:
    """Ranked feasible open offers for one need (the engine's single-post call), never one whose
    owner a block, bar or rule keeps from this need (app/services/exclusions.py)."""
    offers = open_for_engine("offer", need.category, exclude_offers, (need.lat, need.lon, reach_of_offers(need.category)))
    if not offers:
        return []
    prepared = exclusions.prepare([to_need(need, units)], offers)
    if not prepared.offers:
        return []
    return prepared.keep(_engine(prepared).candidates_for_need(prepared.needs[0]))


def candidates_for_offer(offer: Post, exclude_needs: set[int] = frozenset()) -> list[matching.Candidate]:
    """Ranked feasible open needs for one offer, never one a block, bar or rule keeps from it."""
    needs = open_for_engine("need", offer.category, exclude_needs, (offer.lat, offer.lon, offer.radius_miles or 10.0))
    if not needs:
        return []
    prepared = exclusions.prepare(needs, [to_offer(offer)])
    if not prepared.needs:
        return []
    return prepared.keep(_engine(prepared).candidates_for_offer(prepared.offers[0]))


def check_pair(need: Post, offer: Post, rules: bool = True, snapshot=None) -> matching.Candidate | None:
    """The engine's verdict on one pair: a candidate with score and reasons, or None if infeasible
    or (with `rules`) kept apart by a block, bar or rule; `rules=False` is the bare feasibility."""
    if MONEY_CATEGORY in (need.category, offer.category):
        return None  # money moves only through the fund
    prepared = exclusions.prepare([to_need(need)], [to_offer(offer)], apply=rules, snapshot=snapshot)
    if not prepared.needs or not prepared.offers:
        return None
    engine = matching.Engine(_instance(prepared))
    found = prepared.keep(engine.candidates_for_need(prepared.needs[0], top_k=1))
    return found[0] if found else None


def solve(needs: list[matching.Need], offers: list[matching.Offer]) -> matching.Result:
    """The whole assignment over the given open posts (for `flask match run`), without any pair
    the safety rules keep apart."""
    from app.ops.metrics import ENGINE_SECONDS

    prepared = exclusions.prepare(needs, offers)
    with ENGINE_SECONDS.time():
        return prepared.keep_result(matching.solve(_instance(prepared)))


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
    return None if km is None else geo.distance_bucket(km / KM_PER_MILE)
