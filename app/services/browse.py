"""Browsing open posts: filters, sort orders, pages, and typo-tolerant search.

Public by design: what it returns is shown to anyone, so each item carries a distance bucket
computed from the post's public ~1 km cell, never the exact place.
"""
import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from rapidfuzz import fuzz, process, utils
from sqlalchemy import func, select

from app.extensions import db
from app.models import Post
from app.models.posts import URGENCY_DAYS, most_urgent_first
from app.services import geo
from app.timeutil import local_today, utcnow

SORTS = {"urgency": "Most urgent", "newest": "Newest", "closest": "Closest"}
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


def _distance_sq_expr(origin: tuple[float, float]):
    """Squared distance in miles^2 from `origin` to a post's public cell (equirectangular)."""
    lat0, lon0 = origin
    k = math.cos(math.radians(lat0))
    dlat = (Post.cell_lat - lat0) * MILES_PER_DEG
    dlon = (Post.cell_lon - lon0) * (MILES_PER_DEG * k)
    return dlat * dlat + dlon * dlon


def _conditions(f: BrowseFilters) -> list:
    conds = [Post.status == "open", Post.kind == f.kind, Post.expires_at > utcnow()]
    if f.category:
        conds.append(Post.category == f.category)
    if f.min_urgency is not None and f.kind == "need":
        # "At least this urgent" today: needed by a date no later than the urgency allows.
        conds += [Post.needed_by.is_not(None), Post.needed_by >= local_today(),
                  Post.needed_by <= local_today() + timedelta(days=URGENCY_DAYS[f.min_urgency])]
    if f.origin and f.within_miles:
        lat0, lon0 = f.origin
        dlat = f.within_miles / MILES_PER_DEG + 0.01
        dlon = f.within_miles / (MILES_PER_DEG * max(math.cos(math.radians(lat0)), 0.01)) + 0.02
        conds += [Post.cell_lat.between(lat0 - dlat, lat0 + dlat), Post.cell_lon.between(lon0 - dlon, lon0 + dlon),
                  _distance_sq_expr(f.origin) <= f.within_miles ** 2]
    return conds


def _order(f: BrowseFilters) -> list:
    if f.sort == "closest" and f.origin:
        return [_distance_sq_expr(f.origin), Post.id.desc()]
    if f.sort == "newest" or f.kind == "offer":
        return [Post.created_at.desc(), Post.id.desc()]
    return most_urgent_first(local_today())


def search_ids(conds: list, q: str, cutoff: float = 75.0) -> list[int]:
    """Ids of posts matching the filters whose title or details fit `q`, best first.

    Typo-tolerant: each query word is scored against its best word-sized stretch of the text
    (rapidfuzz partial_ratio, in native code over all rows at once) and the words are averaged,
    so "resmue" finds "Resume writing" and a long text is not penalised for its length.
    """
    words = [w for w in utils.default_process(q).split() if len(w) > 1][:8]
    if not words:
        return []
    # Core execution on the session's connection: plain tuples, without the ORM's per-row loading.
    stmt = select(Post.__table__.c.id, Post.__table__.c.title, func.substr(Post.__table__.c.details, 1, 300)).where(*conds)
    rows = db.session.connection().execute(stmt).all()
    if not rows:
        return []
    texts = [utils.default_process(f"{title} {details or ''}") for _pid, title, details in rows]
    scores = process.cdist(words, texts, scorer=fuzz.partial_ratio, dtype=np.uint8, workers=-1).mean(axis=0)
    hits = np.flatnonzero(scores >= cutoff)
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    order = np.lexsort((-ids[hits], -scores[hits]))  # best score first, then newest id
    return ids[hits][order].tolist()


def browse(f: BrowseFilters) -> BrowsePage:
    """One page of open posts matching the filters. A fixed number of queries, whatever the page size."""
    conds = _conditions(f)
    page = max(f.page, 1)
    offset = (page - 1) * f.per_page
    if f.q.strip():
        ids = search_ids(conds, f.q)
        total = len(ids)
        if f.sort != "urgency" or f.kind == "offer":
            # An explicit sort re-orders the matches; otherwise the best text match comes first.
            order_rows = db.session.execute(select(Post.id).where(Post.id.in_(ids)).order_by(*_order(f))).scalars().all() if ids else []
            ids = list(order_rows)
        page_ids = ids[offset:offset + f.per_page]
        posts = db.session.scalars(select(Post).where(Post.id.in_(page_ids))).all() if page_ids else []
        by_id = {p.id: p for p in posts}
        posts = [by_id[i] for i in page_ids if i in by_id]
    else:
        total = db.session.scalar(select(func.count()).select_from(Post).where(*conds))
        posts = db.session.scalars(select(Post).where(*conds).order_by(*_order(f)).offset(offset).limit(f.per_page)).all()
    items = [BrowseItem(p, public_distance(p, f.origin)) for p in posts]
    return BrowsePage(items, total, page, max(1, math.ceil(total / f.per_page)))


def public_distance(post: Post, origin: tuple[float, float] | None) -> str | None:
    """The distance bucket from the viewer to a post's public cell (None without a viewer place)."""
    if not origin:
        return None
    return geo.distance_bucket(geo.haversine_miles(origin[0], origin[1], post.cell_lat, post.cell_lon))
