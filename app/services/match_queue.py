"""What coordinators and posters read about matches: the queue of proposals, unmet needs, the
offers a coordinator can match by hand, and a need's status line for its poster."""
import logging
from dataclasses import dataclass, field

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Match, Post, Suggestion
from app.models.matches import ACTIVE
from app.models.posts import most_urgent_first
from app.services import exclusions, holds
from app.services import match_engine as engine
from app.timeutil import local_today

log = logging.getLogger(__name__)

# Why a match ended, for the reasons the site itself writes into `Match.reject_reason` (stored in
# English, like codes); a coordinator's own words are shown as they typed them.
SYSTEM_REASONS = {
    "Swapped for another offer": _l("Swapped for another offer"),
    "declined by the person asking": _l("declined by the person asking"),
    "declined by the helper": _l("declined by the helper"),
    "no answer in time": _l("no answer in time"),
    "Money goes through the fund": _l("Money goes through the fund"),
    "stopped helping": _l("the helper stopped helping"),
}


def reason_label(reason: str | None):
    """A stored reject reason as the reader sees it: the site's own reasons in the reader's language
    (lazy, so an email shows it in its recipient's), anything a coordinator wrote as written."""
    if not reason:
        return reason
    return SYSTEM_REASONS.get(reason, reason)


def looking_for(need: Post) -> str:
    """What the poster of a need sees about matching (never anyone else's details)."""
    states = set(db.session.scalars(select(Match.status).where(Match.need_id == need.id)))
    if "accepted" in states:
        return _("Matched: a helper has confirmed.")
    if "approved" in states:
        return _("A match is approved: please confirm it on the match page.")
    if need.is_open:
        return _("We're looking for a match.")
    return ""


def matches_for_posts(post_ids: list[int]) -> list[Match]:
    if not post_ids:
        return []
    return list(db.session.scalars(
        select(Match).where((Match.need_id.in_(post_ids)) | (Match.offer_id.in_(post_ids)))
        .order_by(Match.created_at.desc())))


@dataclass
class QueueItem:
    match: Match
    bucket: str | None
    suggestions: list[Suggestion]
    # For a need that repeats: (dates this proposal covers, dates of the need still to help with).
    dates: tuple[int, int] | None = None
    # Why a block, bar or rule keeps this pair apart (it can't be approved), for coordinators;
    # and the same for each other candidate (offer id -> reasons) that can't be swapped to now.
    left_out: list[str] = field(default_factory=list)
    held_back: dict[int, list[str]] = field(default_factory=dict)


@dataclass
class QueuePage:
    """One page of the queue, and where it sits among all the waiting proposals. It reads as the
    list of its items (iterate, index, len)."""

    items: list[QueueItem]
    total: int  # waiting proposals on every page
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """1-based position of the page's first proposal among all ("Showing 11–20 of 38")."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index):
        return self.items[index]


def queue(page: int = 1, per_page: int | None = None) -> QueuePage:
    """Proposals waiting for a coordinator, most urgent and longest waiting first: page `page` of
    `per_page` (all of them when None; a page past the end shows the last). Three queries for any
    page: the count, the page's proposals with both posts, and their needs' other candidates
    (and a constant few reading the safety rules, when the page has proposals)."""
    waiting = Match.status == "proposed"
    total = None
    stmt = (select(Match).join(Post, Post.id == Match.need_id).where(waiting)
            .order_by(*most_urgent_first(local_today()), Match.score.desc(), Match.id))
    if per_page:
        total = db.session.scalar(select(func.count()).select_from(Match).where(waiting))
        page = min(max(1, page), max(1, -(-total // per_page)))
        stmt = stmt.limit(per_page).offset((page - 1) * per_page)
    rows = db.session.scalars(stmt).all()
    need_ids = {m.need_id for m in rows}
    by_need: dict[int, list[Suggestion]] = {}
    if need_ids:
        for s in db.session.scalars(select(Suggestion).where(Suggestion.need_id.in_(need_ids)).order_by(Suggestion.rank)):
            by_need.setdefault(s.need_id, []).append(s)
    dates = _dates_covered([m for m in rows if m.need.repeats])
    items = [QueueItem(m, engine.km_to_bucket(m.distance_km),
                       [s for s in by_need.get(m.need_id, []) if s.offer_id != m.offer_id], dates.get(m.id)) for m in rows]
    _explain(items)
    if not per_page:
        return QueuePage(items, len(items), 1, max(1, len(items)))
    return QueuePage(items, total, page, per_page)


def _explain(items: list[QueueItem]) -> None:
    """Say beside each proposal, and each candidate to swap to, why the safety rules keep it apart
    (one read of the rules for the whole page)."""
    if not items:
        return
    snapshot = exclusions.load()
    if snapshot.empty:
        return
    for item in items:
        need = item.match.need
        item.left_out = snapshot.why(need.owner_id, need.category, item.match.offer.owner_id)
        item.held_back = {s.offer_id: why for s in item.suggestions
                          if (why := snapshot.why(need.owner_id, need.category, s.offer.owner_id))}


def _dates_covered(matches: list[Match]) -> dict[int, tuple[int, int]]:
    """For proposals on needs that repeat: how many dates each covers, of the need's dates still to
    help with (one query, and none when the page has no such proposal)."""
    if not matches:
        return {}
    from app.models.repeat import FINISHED, NeedOccurrence

    counts = db.session.execute(select(NeedOccurrence.need_id, NeedOccurrence.match_id, func.count())
                                .where(NeedOccurrence.need_id.in_({m.need_id for m in matches}),
                                       NeedOccurrence.status.notin_(FINISHED))
                                .group_by(NeedOccurrence.need_id, NeedOccurrence.match_id)).all()
    live: dict[int, int] = {}
    mine: dict[int, int] = {}
    for need_id, match_id, n in counts:
        live[need_id] = live.get(need_id, 0) + n
        if match_id:
            mine[match_id] = n
    return {m.id: (mine.get(m.id, 0), live.get(m.need_id, 0)) for m in matches}


def unmet_needs() -> list[Post]:
    """Open needs with units still to match and no match under way: nobody is forgotten."""
    busy = select(Match.need_id).where(Match.status.in_(ACTIVE))
    return list(db.session.scalars(
        select(Post).where(Post.kind == "need", Post.status == "open", Post.units_committed < Post.quantity,
                           Post.id.not_in(busy))
        .order_by(*most_urgent_first(local_today()))))


def search_offers(need: Post, q: str, limit: int = 20) -> list[tuple[Post, object, list[str]]]:
    """Open offers with capacity for a manual match: the need's category first, then the rest;
    each with the engine's verdict (None when the engine finds the pair infeasible) and, for
    coordinators, why a block, bar or rule keeps it from this need ([] when nothing does)."""
    stmt = select(Post).where(Post.kind == "offer", Post.status == "open", Post.units_committed < Post.quantity,
                              Post.owner_id != need.owner_id, holds.post_visible()).options(selectinload(Post.weekly_slots))
    if q:
        stmt = stmt.where(func.lower(Post.title).contains(q.lower()))
    else:
        stmt = stmt.where(Post.category == need.category)
    offers = db.session.scalars(stmt.order_by((Post.category == need.category).desc(), Post.created_at.desc()).limit(limit)).all()
    snapshot = exclusions.load()
    return [(o, engine.check_pair(need, o, rules=False) if o.category == need.category else None,
             snapshot.why(need.owner_id, need.category, o.owner_id)) for o in offers]
