"""Browsing open posts: filters, sort orders, pages, and typo-tolerant search.

Public by design: what it returns is shown to anyone, so each item carries a distance bucket
computed from the post's public ~1 km cell, never the exact place.
"""
import math
import time
from dataclasses import dataclass
from datetime import timedelta
from threading import Lock

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import Post
from app.models.posts import URGENCY_DAYS
from app.services import geo, holds, search
from app.timeutil import local_today, utcnow

SORTS = {"urgency": _l("Most urgent"), "newest": _l("Newest"), "closest": _l("Closest")}
MILES_PER_DEG = 69.0


@dataclass
class BrowseFilters:
    kind: str = "need"
    category: str | None = None
    q: str = ""
    within_miles: float | None = None
    origin: tuple[float, float] | None = None  # the viewer's place (lat, lon)
    min_urgency: int | None = None
    sort: str = "urgency"
    page: int = 1
    per_page: int = 20


@dataclass
class BrowseItem:
    post: Post
    distance: str | None  # a bucket label, never a number


@dataclass
class BrowsePage:
    items: list[BrowseItem]
    total: int
    page: int
    pages: int
    capped: bool = False  # more than COUNT_CAP posts match: shown as "1,000+", pages as "of 50+"


COUNT_CAP = 1000
# "Closest" without a distance: look this far first, and farther only when a page needs it.
CLOSEST_PROBE_MILES = 25.0
# A distance page past the cap walks its sort order's index only this far in (a far-back page would
# walk most open posts, each read for its cell); deeper pages read the box instead.
WALK_ROWS = 200


def _distance_sq_expr(origin: tuple[float, float]):
    """Squared distance in miles^2 from `origin` to a post's public cell (equirectangular)."""
    lat0, lon0 = origin
    k = math.cos(math.radians(lat0))
    dlat = (Post.cell_lat - lat0) * MILES_PER_DEG
    dlon = (Post.cell_lon - lon0) * (MILES_PER_DEG * k)
    return dlat * dlat + dlon * dlon


def _conditions(f: BrowseFilters, box: bool = True) -> list:
    # holds.post_visible(): a post a safety report hides is nobody's result until a coordinator acts.
    conds = [Post.status == "open", Post.kind == f.kind, Post.expires_at > utcnow(), holds.post_visible()]
    if f.category:
        conds.append(Post.category == f.category)
    if f.min_urgency is not None and f.kind == "need":
        # "At least this urgent" today: needed by a date no later than the urgency allows (the
        # indexed urgency key equals the date while it is still to come).
        conds += [Post.urgency_key >= local_today(),
                  Post.urgency_key <= local_today() + timedelta(days=URGENCY_DAYS[f.min_urgency])]
    if f.origin and f.within_miles:
        # The box is what an index of places can read; without it only the exact circle is left,
        # which no index serves, so the database walks the sort order's index instead.
        conds += _within(f.origin, f.within_miles) if box else [_distance_sq_expr(f.origin) <= f.within_miles ** 2]
    return conds


def _within(origin: tuple[float, float], miles: float) -> list:
    """Posts whose public cell is within `miles`: an indexed box, then the exact circle."""
    lat0, lon0 = origin
    dlat = miles / MILES_PER_DEG + 0.01
    dlon = miles / (MILES_PER_DEG * max(math.cos(math.radians(lat0)), 0.01)) + 0.02
    return [Post.cell_lat.between(lat0 - dlat, lat0 + dlat), Post.cell_lon.between(lon0 - dlon, lon0 + dlon),
            _distance_sq_expr(origin) <= miles ** 2]


def capped_count(conds: list, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many posts match, counting no further than `cap` (an index range scan, not a full count)."""
    n = db.session.scalar(select(func.count()).select_from(select(Post.id).where(*conds).limit(cap + 1).subquery()))
    return min(n, cap), n > cap


# Past the cap a page says "1,000+", which stays true from one page to the next: each process
# remembers for OVER_CAP_SECONDS which filters had more posts than the cap, and does not count them
# again meanwhile (counting read 1,001 index entries: 15-30% of a browse page's CPU at 100,000
# posts). Under the cap every page counts exactly, so a post just made or closed shows at once.
# The key holds only what the count depends on: the viewer's place only when a distance is asked
# (the centre of "within N miles", kept in this process's memory for the window and never shown).
OVER_CAP_SECONDS = 10.0
_OVER_CAP_KEPT = 1000
_now = time.monotonic  # (tests move this clock, not the process's)


class _OverCap:
    def __init__(self):
        self._until: dict[tuple, float] = {}
        self._lock = Lock()

    def recent(self, key: tuple) -> bool:
        until = self._until.get(key)
        return until is not None and until > _now()

    def note(self, key: tuple) -> None:
        with self._lock:
            if len(self._until) >= _OVER_CAP_KEPT:
                self._until.clear()
            self._until[key] = _now() + OVER_CAP_SECONDS


def _page_count(f: BrowseFilters, conds: list) -> tuple[int, bool]:
    """The count a page shows: capped at COUNT_CAP, and past it not counted again for a while."""
    over = current_app.extensions.get("browse_over_cap") or current_app.extensions.setdefault("browse_over_cap", _OverCap())
    near = (f.origin, f.within_miles) if f.origin and f.within_miles else None  # as _conditions uses them
    key = (f.kind, f.category, f.min_urgency if f.kind == "need" else None, near, local_today(), COUNT_CAP)
    if over.recent(key):
        return COUNT_CAP, True
    total, capped = capped_count(conds, COUNT_CAP)
    if capped:
        over.note(key)
    return total, capped


def _order(f: BrowseFilters) -> list:
    if f.sort == "closest" and f.origin:
        return [_distance_sq_expr(f.origin), Post.id.desc()]
    if f.sort == "newest" or f.kind == "offer":
        return [Post.created_at.desc(), Post.id.desc()]
    return [Post.urgency_key, Post.created_at, Post.id]  # most urgent, then longest waiting (indexed)


def browse(f: BrowseFilters) -> BrowsePage:
    """One page of open posts matching the filters. A fixed number of queries, whatever the page size."""
    conds = _conditions(f)
    page = max(f.page, 1)
    offset = (page - 1) * f.per_page
    if f.q.strip():
        # Through the words index (services/search.py). An explicit sort orders the matches;
        # otherwise the best text match comes first. Pages stop at the count cap.
        offset = min(offset, COUNT_CAP)
        explicit = f.sort != "urgency" or f.kind == "offer"
        found = search.search(conds, f.q, _order(f) if explicit else None, offset, f.per_page, cap=COUNT_CAP)
        posts, total, capped = found.posts, found.total, found.capped
    else:
        total, capped = _page_count(f, conds)  # through the index of places when there is a distance
        if capped and f.within_miles and f.sort != "closest" and offset + f.per_page <= WALK_ROWS:
            # More than the cap within the distance: walking the sort order's index meets a page of
            # them after a few hundred rows at most, where reading the box from the index of places
            # would read and sort every post in it (37 ms at 100,000 posts for 10 miles, 0.5 ms so).
            # Under the cap, the box holds few enough posts to sort, and is the fast way to find them.
            conds = _conditions(f, box=False)
        near = []
        if f.sort == "closest" and f.origin and not f.within_miles:
            # Sorting every open post by distance would cost the same as no index at all: look
            # close by first, and only as far as this page needs.
            # Every post outside a circle is farther than every post inside it, so a circle that
            # holds this page's rows gives exactly the rows a full sort would. One probe, so the
            # number of queries stays the same whatever the page.
            within = _within(f.origin, CLOSEST_PROBE_MILES)
            if capped_count(conds + within, offset + f.per_page)[0] >= offset + f.per_page:
                near = within
        posts = db.session.scalars(select(Post).where(*conds, *near).order_by(*_order(f))
                                   .offset(offset).limit(f.per_page)).all()
        items = [BrowseItem(p, public_distance(p, f.origin)) for p in posts]
        pages = max(1, math.ceil(total / f.per_page)) + (1 if capped else 0)
        return BrowsePage(items, total, page, pages, capped)
    items = [BrowseItem(p, public_distance(p, f.origin)) for p in posts]
    return BrowsePage(items, total, page, max(1, math.ceil(total / f.per_page)) + (1 if capped else 0), capped)


def public_distance(post: Post, origin: tuple[float, float] | None) -> str | None:
    """The distance bucket from the viewer to a post's public cell (None without a viewer place)."""
    if not origin:
        return None
    return geo.distance_bucket(geo.haversine_miles(origin[0], origin[1], post.cell_lat, post.cell_lon))
