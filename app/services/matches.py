"""Coordination: suggested matches, coordinator decisions, confirmation, follow-up.

Every state change goes through `_move`, a conditional UPDATE (`... WHERE status = <expected>`):
of two coordinators acting on the same match at once, exactly one wins. Capacity is taken with
another conditional UPDATE on the offer and the need (`units_committed + n <= quantity`), which
PostgreSQL re-checks after waiting for the row lock, so an offer is never oversubscribed however
many approvals race; a CHECK constraint on the posts table is the backstop. Emails go into the
outbox in the same transaction and leave after the commit.
"""
import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.ids import get_by_id, parse_id
from app.models import Match, Post, Suggestion, User
from app.models.matches import ACTIVE, can_move
from app.models.posts import MONEY_CATEGORY, most_urgent_first
from app.services import Conflict, FieldError, NotAllowed, ServiceError, audit
from app.services import match_engine as engine
from app.services.accounts import require_confirmed
from app.services.disclosure import card_for, exact_place, involved, notice_recipient, side_of
from app.services.mail import queue_email
from app.timeutil import local_today, utcnow

log = logging.getLogger(__name__)
MAX_NOTE = 1000
MAX_REASON = 300


# Reading -----------------------------------------------------------------------------------

def get_match(match_id: int) -> Match:
    match = get_by_id(Match, match_id)
    if match is None:
        raise NotAllowed("No such match.")
    return match


def looking_for(need: Post) -> str:
    """What the poster of a need sees about matching (never anyone else's details)."""
    states = set(db.session.scalars(select(Match.status).where(Match.need_id == need.id)))
    if "accepted" in states:
        return "Matched: a helper has confirmed."
    if "approved" in states:
        return "A match is approved: please confirm it on the match page."
    if need.is_open:
        return "We're looking for a match."
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
    page: the count, the page's proposals with both posts, and their needs' other candidates."""
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
    items = [QueueItem(m, engine.km_to_bucket(m.distance_km),
                       [s for s in by_need.get(m.need_id, []) if s.offer_id != m.offer_id]) for m in rows]
    if not per_page:
        return QueuePage(items, len(items), 1, max(1, len(items)))
    return QueuePage(items, total, page, per_page)


def unmet_needs() -> list[Post]:
    """Open needs with units still to match and no match under way: nobody is forgotten."""
    busy = select(Match.need_id).where(Match.status.in_(ACTIVE))
    return list(db.session.scalars(
        select(Post).where(Post.kind == "need", Post.status == "open", Post.units_committed < Post.quantity,
                           Post.id.not_in(busy))
        .order_by(*most_urgent_first(local_today()))))


def search_offers(need: Post, q: str, limit: int = 20) -> list[tuple[Post, object]]:
    """Open offers with capacity for a manual match: the need's category first, then the rest;
    each with the engine's verdict (None when the engine finds the pair infeasible)."""
    stmt = select(Post).where(Post.kind == "offer", Post.status == "open", Post.units_committed < Post.quantity,
                              Post.owner_id != need.owner_id).options(selectinload(Post.weekly_slots))
    if q:
        stmt = stmt.where(func.lower(Post.title).contains(q.lower()))
    else:
        stmt = stmt.where(Post.category == need.category)
    offers = db.session.scalars(stmt.order_by((Post.category == need.category).desc(), Post.created_at.desc()).limit(limit)).all()
    return [(o, engine.check_pair(need, o) if o.category == need.category else None) for o in offers]


# Suggestions (the engine proposes) ----------------------------------------------------------

def _store_suggestions(need: Post, candidates) -> None:
    db.session.execute(delete(Suggestion).where(Suggestion.need_id == need.id).execution_options(synchronize_session=False))
    for rank, c in enumerate(candidates):
        db.session.add(Suggestion(need_id=need.id, offer_id=int(c.offer), rank=rank, score=round(c.score, 4),
                                  distance_km=c.distance_km, overlap_min=c.overlap_min, reasons=list(c.reasons)))


def _proposal(need: Post, offer: Post, units: int, candidate, source: str = "engine", actor: User | None = None,
              note: str | None = None) -> Match:
    match = Match(need_id=need.id, offer_id=offer.id, units=units, status="proposed", source=source,
                  score=round(candidate.score, 4) if candidate else 0.0,
                  reasons=list(candidate.reasons) if candidate else [],
                  distance_km=candidate.distance_km if candidate else None,
                  overlap_min=candidate.overlap_min if candidate else None,
                  created_by_id=actor.id if actor else None, note=note)
    db.session.add(match)
    return match


def _cancel_proposals(post: Post, source: str | None = "engine") -> None:
    column = Match.need_id if post.kind == "need" else Match.offer_id
    stmt = update(Match).where(column == post.id, Match.status == "proposed")
    if source:
        stmt = stmt.where(Match.source == source)
    db.session.execute(stmt.values(status="cancelled", closed_at=utcnow()).execution_options(synchronize_session=False))


def _declined_offers(need_id: int) -> set[int]:
    return set(db.session.scalars(select(Match.offer_id).where(
        Match.need_id == need_id, Match.status.in_(("rejected", "declined", "no_show")))))


def _proposed_units(column, post_id: int) -> int:
    """Units in proposals still waiting for a coordinator (approved ones are in `units_committed`)."""
    return db.session.scalar(select(func.coalesce(func.sum(Match.units), 0))
                             .where(column == post_id, Match.status == "proposed")) or 0


def propose_for_need(need: Post, candidates=None) -> list[Match]:
    """Rank offers for this need, keep the list, and propose the best ones that cover what is left."""
    if candidates is None:
        candidates = engine.candidates_for_need(need, exclude_offers=_declined_offers(need.id))
    _store_suggestions(need, candidates)
    left = need.units_left - _proposed_units(Match.need_id, need.id)
    active_offers = set(db.session.scalars(select(Match.offer_id).where(Match.need_id == need.id, Match.status.in_(ACTIVE))))
    made = []
    for c in candidates:
        if left <= 0:
            break
        offer = db.session.get(Post, int(c.offer))
        if offer.id in active_offers or offer.units_left <= 0:
            continue
        units = min(left, offer.units_left)
        made.append(_proposal(need, offer, units, c))
        left -= units
    return made


def propose_for_offer(offer: Post, candidates=None) -> list[Match]:
    """Offer this new or changed offer to the waiting needs it fits best, up to its capacity."""
    busy = set(db.session.scalars(select(Match.need_id).where(Match.status.in_(ACTIVE))))
    if candidates is None:
        candidates = engine.candidates_for_offer(offer, exclude_needs=busy)
    capacity = offer.units_left - _proposed_units(Match.offer_id, offer.id)
    made = []
    for c in candidates:
        if capacity <= 0:
            break
        need = db.session.get(Post, int(c.need))
        if need.id in busy or offer.id in _declined_offers(need.id):
            continue
        units = min(need.units_left, capacity)
        made.append(_proposal(need, offer, units, c))
        rank = db.session.scalar(select(func.count()).where(Suggestion.need_id == need.id)) or 0
        db.session.add(Suggestion(need_id=need.id, offer_id=offer.id, rank=rank, score=round(c.score, 4),
                                  distance_km=c.distance_km, overlap_min=c.overlap_min, reasons=list(c.reasons)))
        capacity -= units
    return made


def _candidates(post: Post):
    """The engine's ranked candidates for a post (reads only)."""
    if post.kind == "need":
        return engine.candidates_for_need(post, exclude_offers=_declined_offers(post.id))
    busy = set(db.session.scalars(select(Match.need_id).where(Match.status.in_(ACTIVE), Match.offer_id != post.id)))
    return engine.candidates_for_offer(post, exclude_needs=busy)


def propose_after_save(post_id: int) -> bool:
    """Fresh proposals for a post that is already committed (created or edited).

    The engine only reads (on SQLite outside any transaction, so no write lock is held while it
    computes); the proposals are then written in one short transaction, against the offers as they
    are by then. If anything fails, the post stays saved and unproposed (`proposed_at` empty), and
    `propose_missing` (every tick) or the nightly run fills the gap."""
    try:
        post = db.session.get(Post, post_id)
        if post is None or not post.is_open:
            return False
        candidates = _candidates(post)
        _cancel_proposals(post)  # the first write: the transaction starts here
        if post.kind == "need":
            propose_for_need(post, candidates)
        else:
            propose_for_offer(post, candidates)
        post.proposed_at = utcnow()
        db.session.commit()
        return True
    except Exception:  # noqa: BLE001 - matching must never cost someone their post
        db.session.rollback()
        log.exception("matching post %s failed; the next tick will retry", post_id)
        return False


def propose_missing(limit: int = 500) -> int:
    """Open posts whose proposals were never computed (a failure, a crash between the two
    transactions, an edit): compute them now. Returns how many were done."""
    ids = db.session.scalars(select(Post.id).where(Post.status == "open", Post.proposed_at.is_(None),
                                                   Post.category != MONEY_CATEGORY)
                             .order_by(Post.id).limit(limit)).all()
    db.session.rollback()
    return sum(1 for post_id in ids if propose_after_save(post_id))


def post_closed(post: Post) -> None:
    """A withdrawn, fulfilled or expired post: open proposals end, and approved matches are cancelled
    (their units go back, and the other person hears about it)."""
    _cancel_proposals(post, source=None)
    column = Match.need_id if post.kind == "need" else Match.offer_id
    for match in db.session.scalars(select(Match).where(column == post.id, Match.status.in_(("approved", "accepted")))):
        if post.status == "fulfilled" and match.status == "accepted":
            continue
        _move(match, "cancelled")
        _release(match)
        _notify_both(match, "match_cancelled", "A match was cancelled", skip_side="need" if post.kind == "need" else "offer")


@dataclass
class RunReport:
    needs: int
    offers: int
    proposals: int
    cancelled: int
    unmet: int


def run_all(progress=None) -> RunReport:
    """Re-run the whole assignment over all open posts (nightly): engine proposals still waiting
    are replaced; approved and confirmed matches and volunteers' offers are kept."""
    stale = db.session.execute(update(Match).where(Match.status == "proposed", Match.source == "engine")
                               .values(status="cancelled", closed_at=utcnow())
                               .execution_options(synchronize_session=False)).rowcount
    pending = dict(db.session.execute(select(Match.need_id, func.sum(Match.units))
                                      .where(Match.status == "proposed").group_by(Match.need_id)).all())
    needs, covered = [], []
    for n in engine.open_for_engine("need"):
        left = n.quantity - pending.get(int(n.id), 0)
        if left > 0:
            needs.append(dataclasses.replace(n, quantity=left))
        else:
            covered.append(int(n.id))
    offers = engine.open_for_engine("offer")
    result = engine.solve(needs, offers)
    # Every need in this run gets a fresh list; needs left out (covered by volunteers' or hand-made
    # proposals still waiting) keep theirs. Rows go in as multi-row INSERTs: ORM objects for a
    # national run (half a million suggestions) would cost most of the run.
    db.session.execute(delete(Suggestion).where(Suggestion.need_id.not_in(covered))
                       .execution_options(synchronize_session=False))
    now = utcnow()
    rows = []
    for i, need in enumerate(needs):
        rows += [dict(need_id=int(need.id), offer_id=int(c.offer), rank=rank, score=round(c.score, 4), distance_km=c.distance_km,
                      overlap_min=c.overlap_min, reasons=list(c.reasons), created_at=now)
                 for rank, c in enumerate(result.candidates.get(need.id, ()))]
        if progress:
            progress(i + 1, len(needs))
    if rows:
        db.session.execute(insert(Suggestion), rows)
    cand = {(c.need, c.offer): c for cs in result.candidates.values() for c in cs}
    proposals = []
    for a in result.assignment:
        c = cand.get((a.need, a.offer))
        proposals.append(dict(need_id=int(a.need), offer_id=int(a.offer), units=a.units, status="proposed", source="engine",
                              score=round(c.score, 4) if c else 0.0, reasons=list(c.reasons) if c else [],
                              distance_km=c.distance_km if c else None, overlap_min=c.overlap_min if c else None,
                              created_at=now))
    if proposals:
        db.session.execute(insert(Match), proposals)
    db.session.execute(update(Post).where(Post.status == "open").values(proposed_at=now)
                       .execution_options(synchronize_session=False))
    made = len(proposals)
    db.session.commit()
    return RunReport(len(needs), len(offers), made, stale or 0, len(unmet_needs()))


# Decisions (coordinators) --------------------------------------------------------------------

def _require_coordinator(actor: User) -> None:
    if not actor.is_coordinator:
        raise NotAllowed("Only coordinators can do that.")


def _not_own(actor: User, match: Match) -> None:
    if actor.id in (match.need.owner_id, match.offer.owner_id):
        raise NotAllowed("You can't decide a match on your own post; ask another coordinator.")


def _move(match: Match, to: str, **values) -> None:
    """Change the state if the current one allows it, atomically: a concurrent change wins or we do."""
    if not can_move(match.status, to):
        raise Conflict(f"This match is {match.state_label.lower()}; it can't be {to.replace('_', ' ')} now.")
    done = db.session.execute(
        update(Match).where(Match.id == match.id, Match.status == match.status)
        .values(status=to, **values).execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        db.session.rollback()
        raise Conflict("Someone else changed this match a moment ago. Reload to see where it stands.")
    for key, value in values.items():
        setattr(match, key, value)
    match.status = to


def _take(post_id: int, units: int) -> bool:
    """Commit `units` of a post's quantity if that many are still free (one atomic UPDATE)."""
    return db.session.execute(
        update(Post).where(Post.id == post_id, Post.status == "open",
                           Post.units_committed + units <= Post.quantity)
        .values(units_committed=Post.units_committed + units).execution_options(synchronize_session=False)
    ).rowcount == 1


def _release(match: Match) -> None:
    # Offer first, then need: the same order as `approve`, so two transactions never wait on each other in a cycle.
    for post_id in (match.offer_id, match.need_id):
        db.session.execute(update(Post).where(Post.id == post_id)
                           .values(units_committed=func.max(Post.units_committed - match.units, 0)
                                   if db.engine.dialect.name == "sqlite"
                                   else func.greatest(Post.units_committed - match.units, 0))
                           .execution_options(synchronize_session=False))


def approve(actor: User, match_id: int, link_for) -> Match:
    """Approve a proposal: capacity is taken atomically, both people are emailed their contact."""
    _require_coordinator(actor)
    match = get_match(match_id)
    _not_own(actor, match)
    if match.status != "proposed":
        raise Conflict(f"This match is already {match.state_label.lower()}.")
    if MONEY_CATEGORY in (match.need.category, match.offer.category):
        raise Conflict("Money goes through the emergency fund, with two approvals; it is never matched person to person.")
    now = utcnow()
    _move(match, "approved", decided_by_id=actor.id, decided_at=now,
          respond_by=now + timedelta(hours=current_app.config["MATCH_RESPONSE_HOURS"]),
          scheduled_at=engine.scheduled_time(match.need, match.offer))
    if not _take(match.offer_id, match.units):
        db.session.rollback()
        raise Conflict("No longer available: this offer has no room left. Swap to another candidate or match by hand.")
    if not _take(match.need_id, match.units):
        db.session.rollback()
        raise Conflict("This request is already covered by other matches, or it was closed.")
    audit.record(actor, "approve", "match", match.id, need=match.need_id, offer=match.offer_id, units=match.units)
    _notify_both(match, "match_approved", "You have a match", link_for=link_for)
    db.session.commit()
    log.info("coordinator %s approved match %s", actor.id, match.id)
    return match


def reject(actor: User, match_id: int, reason: str) -> Match:
    _require_coordinator(actor)
    reason = (reason or "").strip()
    if not reason:
        raise FieldError("reason", "Say why, so the next coordinator knows.")
    if len(reason) > MAX_REASON:
        raise FieldError("reason", f"Keep the reason under {MAX_REASON} characters.")
    match = get_match(match_id)
    _not_own(actor, match)
    _move(match, "rejected", decided_by_id=actor.id, decided_at=utcnow(), reject_reason=reason, closed_at=utcnow())
    audit.record(actor, "reject", "match", match.id, reason=reason)
    db.session.commit()
    return match


def swap(actor: User, match_id: int, offer_id: int) -> Match:
    """Replace a proposal's offer with another candidate from the need's list."""
    _require_coordinator(actor)
    match = get_match(match_id)
    _not_own(actor, match)
    offer_id = parse_id(offer_id)
    suggestion = offer_id and db.session.scalar(select(Suggestion).where(Suggestion.need_id == match.need_id,
                                                                         Suggestion.offer_id == offer_id))
    if suggestion is None or offer_id == match.offer_id:
        raise FieldError("offer_id", "Choose one of the other candidates listed for this request.")
    offer = db.session.get(Post, offer_id)
    if not offer.is_open or offer.units_left <= 0:
        raise Conflict("No longer available: that offer is closed or full. Choose another.")
    if actor.id == offer.owner_id:
        raise NotAllowed("You can't decide a match on your own post; ask another coordinator.")
    _move(match, "rejected", decided_by_id=actor.id, decided_at=utcnow(), reject_reason="Swapped for another offer",
          closed_at=utcnow())
    new = _proposal(match.need, offer, min(match.units, offer.units_left), suggestion, source=match.source, actor=actor)
    db.session.flush()
    audit.record(actor, "swap", "match", match.id, new_match=new.id, offer=offer_id)
    db.session.commit()
    return new


def manual_match(actor: User, need_id: int, offer_id: int, units: int | None, link_for) -> Match:
    """A coordinator pairs a need with an offer they chose; it is approved at once."""
    _require_coordinator(actor)
    need, offer = get_by_id(Post, need_id), get_by_id(Post, offer_id)
    if need is None or need.kind != "need" or offer is None or offer.kind != "offer":
        raise NotAllowed("No such request or offer.")
    if actor.id in (need.owner_id, offer.owner_id):
        raise NotAllowed("You can't decide a match on your own post; ask another coordinator.")
    if need.owner_id == offer.owner_id:
        raise FieldError("offer_id", "That offer is from the same person.")
    if not need.is_open or not offer.is_open:
        raise Conflict("That request or offer is closed.")
    units = units or min(need.units_left, offer.units_left)
    if units < 1 or units > need.units_left:
        raise FieldError("units", f"Enter between 1 and {need.units_left}.")
    match = _proposal(need, offer, units, engine.check_pair(need, offer), source="manual", actor=actor)
    db.session.flush()
    audit.record(actor, "manual_match", "match", match.id, need=need.id, offer=offer.id, units=units)
    db.session.commit()
    return approve(actor, match.id, link_for)


# Answers (the two people) -----------------------------------------------------------------

def pending_pair(need_id: int, offer_id: int | None) -> bool:
    """Whether this need and offer already wait together for a coordinator."""
    return bool(offer_id) and db.session.scalar(select(Match.id).where(
        Match.need_id == need_id, Match.offer_id == offer_id, Match.status == "proposed")) is not None


def volunteer(actor: User, need_id: int, offer_id: int, note: str) -> Match:
    """'I can help': the member proposes one of their offers for this need; coordinators decide."""
    require_confirmed(actor)
    need = get_by_id(Post, need_id)
    if need is None or need.kind != "need":
        raise NotAllowed("No such request.")
    if not need.is_open or need.units_left <= 0:
        raise Conflict("This request is no longer open.")
    if need.owner_id == actor.id:
        raise FieldError("offer_id", "This is your own request.")
    offer = get_by_id(Post, offer_id)
    if offer is None or offer.kind != "offer" or offer.owner_id != actor.id or not offer.is_open:
        raise FieldError("offer_id", "Choose one of your open offers.")
    if offer.category != need.category:
        raise FieldError("offer_id", f"Choose an offer in {need.category_label}.")
    if offer.units_left <= 0:
        raise FieldError("offer_id", "That offer has no room left.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise FieldError("note", f"Keep the note under {MAX_NOTE} characters.")
    existing = db.session.scalar(select(Match).where(Match.need_id == need.id, Match.offer_id == offer.id,
                                                     Match.status.in_(ACTIVE)))
    if existing is not None:
        if existing.status != "proposed":
            raise Conflict("You are already matched on this request: see the match page.")
        # The engine (or an earlier "I can help") already put this pair before the coordinators:
        # the note joins that proposal, and the helper's word counts as volunteering.
        if note:
            existing.note = f"{existing.note}\n\n{note}" if existing.note and note not in existing.note else note
        existing.source = "volunteer"
        db.session.commit()
        return existing
    candidate = engine.check_pair(need, offer)
    if candidate is None:
        raise FieldError("offer_id", "Your offer doesn't reach this request: check its distance and its weekly times.")
    match = _proposal(need, offer, min(need.units_left, offer.units_left), candidate, source="volunteer", actor=actor,
                      note=note or None)
    db.session.commit()
    return match


def answer(actor: User, match_id: int, accept: bool, link_for=None) -> Match:
    """Accept or decline an approved match, for one's own side (or for a resident without a login)."""
    match = get_match(match_id)
    side = side_of(actor, match)
    if side is None:
        raise NotAllowed("Only the two matched people can answer.")
    if match.status != "approved":
        raise Conflict(f"This match is {match.state_label.lower()}; there is nothing to answer now.")
    column = Match.need_answer if side == "need" else Match.offer_answer
    if getattr(match, f"{side}_answer") is not None:
        raise Conflict("You have already answered.")
    value = "accepted" if accept else "declined"
    done = db.session.execute(update(Match).where(Match.id == match.id, Match.status == "approved", column.is_(None))
                              .values({column: value}).execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise Conflict("This match changed a moment ago. Reload to see where it stands.")
    setattr(match, f"{side}_answer", value)
    if actor.id not in (match.need.owner_id, match.offer.owner_id):
        audit.record(actor, "answer_for_resident", "match", match.id, side=side, answer=value)
    if not accept:
        _decline(match, f"declined by the {'person asking' if side == 'need' else 'helper'}")
    elif match.need_answer == "accepted" and match.offer_answer == "accepted":
        _move(match, "accepted")
        _notify_both(match, "match_confirmed", "Your match is confirmed", link_for=link_for)
    db.session.commit()
    return match


def _decline(match: Match, why: str) -> None:
    _move(match, "declined", closed_at=utcnow(), reject_reason=why)
    _release(match)
    db.session.flush()
    db.session.expire(match.need)
    _notify_both(match, "match_declined", "A match did not go ahead")
    if match.need.status == "open":
        propose_for_need(match.need)


def expire_unanswered(now: datetime | None = None) -> int:
    """Approved matches nobody confirmed in time reopen the need and propose the next candidate."""
    now = now or utcnow()
    late = db.session.scalars(select(Match).where(Match.status == "approved", Match.respond_by < now)).all()
    for match in late:
        _decline(match, "no answer in time")
    db.session.commit()
    return len(late)


# After the help ---------------------------------------------------------------------------

def _outcome_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="match-outcome")


def outcome_token(match: Match, user_id: int) -> str:
    return _outcome_serializer().dumps({"m": match.id, "u": user_id})


def match_for_outcome_token(token: str) -> tuple[Match, User]:
    try:
        data = _outcome_serializer().loads(token, max_age=current_app.config["OUTCOME_LINK_DAYS"] * 86400)
    except SignatureExpired:
        raise ServiceError("This link has expired. Log in and answer on the match page.") from None
    except BadSignature:
        raise ServiceError("This link is not valid.") from None
    match = db.session.get(Match, data.get("m")) if isinstance(data, dict) else None
    user = db.session.get(User, data.get("u")) if match else None
    if match is None or user is None or not involved(user, match) and not user.is_coordinator:
        raise ServiceError("This link is not valid.")
    return match, user


def record_outcome(actor: User, match_id: int, happened: bool, feedback: str = "") -> Match:
    """'Did it happen?': yes from either side completes it; no-show reopens the need."""
    match = get_match(match_id)
    side = side_of(actor, match)
    if side is None and not actor.is_coordinator:
        raise NotAllowed("Only the two matched people and coordinators can say how it went.")
    feedback = (feedback or "").strip()
    if len(feedback) > MAX_NOTE:
        raise FieldError("feedback", f"Keep it under {MAX_NOTE} characters.")
    if match.status in ("completed", "no_show"):
        if feedback and side:
            setattr(match, f"{side}_feedback", feedback)
            db.session.commit()
            return match
        raise Conflict("Thanks, this was already answered.")
    if match.status != "accepted":
        raise Conflict(f"This match is {match.state_label.lower()}; it can't be closed now.")
    values = {f"{side}_feedback": feedback or None} if side else {}
    if happened:
        _move(match, "completed", outcome_by_id=actor.id, closed_at=utcnow(), **values)
        need = match.need
        db.session.flush()
        db.session.refresh(need)
        others = db.session.scalar(select(func.count()).where(Match.need_id == need.id, Match.status.in_(ACTIVE)))
        if need.units_left <= 0 and not others and need.status == "open":
            need.status, need.closed_at = "fulfilled", utcnow()
    else:
        _move(match, "no_show", outcome_by_id=actor.id, closed_at=utcnow(), **values)
        _release(match)
        db.session.flush()
        db.session.expire(match.need)
        if match.need.status == "open":
            propose_for_need(match.need)
    if actor.is_coordinator:
        audit.record(actor, "outcome", "match", match.id, happened=happened)
    db.session.commit()
    return match


def send_reminders(link_for, now: datetime | None = None) -> int:
    """The day before a confirmed ride or workshop, remind both people (once)."""
    now = now or utcnow()
    due = db.session.scalars(select(Match).where(Match.status == "accepted", Match.reminded_at.is_(None),
                                                 Match.scheduled_at > now, Match.scheduled_at <= now + timedelta(hours=36))).all()
    for match in due:
        match.reminded_at = now
        _notify_both(match, "match_reminder", "Reminder: your match is coming up", link_for=link_for)
    db.session.commit()
    return len(due)


def send_followups(link_for, outcome_link_for, now: datetime | None = None) -> int:
    """After the scheduled time (or some days after confirming, for help with no set time), ask both
    people whether it happened, with a signed link."""
    now = now or utcnow()
    wait = timedelta(days=current_app.config["MATCH_FOLLOWUP_DAYS"])
    candidates = db.session.scalars(select(Match).where(Match.status == "accepted", Match.followup_sent_at.is_(None))).all()
    sent = 0
    for match in candidates:
        when = match.scheduled_at + timedelta(hours=2) if match.scheduled_at else (match.decided_at or match.created_at) + wait
        if when > now:
            continue
        match.followup_sent_at = now
        _notify_both(match, "match_followup", "Did it happen?", link_for=link_for, outcome_link_for=outcome_link_for)
        sent += 1
    db.session.commit()
    return sent


# Emails -----------------------------------------------------------------------------------

def _notify_both(match: Match, template: str, subject: str, link_for=None, outcome_link_for=None,
                 skip_side: str | None = None) -> None:
    """Email both sides (or the coordinator acting for someone who cannot log in). Emails that
    introduce the two carry the other's contact card, worded the same for everyone."""
    for side, post, other in (("need", match.need, match.offer), ("offer", match.offer, match.need)):
        if side == skip_side:
            continue
        person, reader = notice_recipient(post)
        if reader is None:
            continue
        context = dict(match=match, side=side, person=person, other_first_name=db.session.get(User, other.owner_id).first_name,
                       on_behalf=reader.id != person.id, url=link_for(match) if link_for else None)
        if template in ("match_approved", "match_confirmed", "match_reminder"):
            context.update(card=card_for(match, "offer" if side == "need" else "need"),
                           place=exact_place(match.need, with_zip=False))
        if outcome_link_for:
            context["outcome_url"] = outcome_link_for(outcome_token(match, reader.id))
        queue_email(reader.email, subject, template, kind=template, **context)
