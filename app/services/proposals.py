"""The engine proposes: ranked candidates kept per need, proposals that cover a need's quantity,
proposals after a post is saved (and for any post left without), and the nightly re-run."""
import dataclasses
import logging
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update

from app.extensions import db
from app.models import Match, Post, Suggestion, User
from app.models.matches import ACTIVE
from app.models.repeat import LIVE, NeedOccurrence
from app.models.posts import MONEY_CATEGORY
from app.services import holds
from app.services import match_engine as engine
from app.services import repeat_matching
from app.timeutil import utcnow

log = logging.getLogger(__name__)
from app.services.match_queue import unmet_needs
from app.services.reasons import stored as stored_reasons

# Suggestions (the engine proposes) ----------------------------------------------------------

def _store_suggestions(need: Post, candidates) -> None:
    """The need's ranked list, replaced: one multi-row INSERT (as ORM objects, one INSERT each,
    which the worker made while holding SQLite's only write lock)."""
    db.session.execute(delete(Suggestion).where(Suggestion.need_id == need.id).execution_options(synchronize_session=False))
    now = utcnow()
    rows = [dict(need_id=need.id, offer_id=int(c.offer), rank=rank, score=round(c.score, 4), distance_km=c.distance_km,
                 overlap_min=c.overlap_min, reasons=stored_reasons(c), created_at=now) for rank, c in enumerate(candidates)]
    if rows:
        db.session.execute(insert(Suggestion), rows)


def _proposal(need: Post, offer: Post, units: int, candidate, source: str = "engine", actor: User | None = None,
              note: str | None = None) -> Match:
    match = Match(need_id=need.id, offer_id=offer.id, units=units, status="proposed", source=source,
                  score=round(candidate.score, 4) if candidate else 0.0,
                  reasons=stored_reasons(candidate) if candidate else [],
                  distance_km=candidate.distance_km if candidate else None,
                  overlap_min=candidate.overlap_min if candidate else None,
                  created_by_id=actor.id if actor else None, note=note)
    db.session.add(match)
    return match


def _cancel_proposals(post: Post, source: str | None = "engine") -> None:
    column = Match.need_id if post.kind == "need" else Match.offer_id
    conds = [column == post.id, Match.status == "proposed"] + ([Match.source == source] if source else [])
    _free_dates(select(Match.id).where(*conds))
    db.session.execute(update(Match).where(*conds).values(status="cancelled", closed_at=utcnow())
                       .execution_options(synchronize_session=False))


def _free_dates(match_ids) -> None:
    """Dates of repeating needs covered by proposals about to be cancelled look for a helper again."""
    db.session.execute(update(NeedOccurrence).where(NeedOccurrence.match_id.in_(match_ids), NeedOccurrence.status.in_(LIVE))
                       .values(match_id=None, status="open").execution_options(synchronize_session=False))


def _declined_offers(need_id: int) -> set[int]:
    return set(db.session.scalars(select(Match.offer_id).where(
        Match.need_id == need_id, Match.status.in_(("rejected", "declined", "no_show")))))


def _proposed_units(column, post_id: int) -> int:
    """Units in proposals still waiting for a coordinator (approved ones are in `units_committed`)."""
    return db.session.scalar(select(func.coalesce(func.sum(Match.units), 0))
                             .where(column == post_id, Match.status == "proposed")) or 0


def propose_for_need(need: Post, candidates=None) -> list[Match]:
    """Rank offers for this need, keep the list, and propose the best ones that cover what is left
    (none while a safety report hides the need)."""
    if holds.post_hidden(need.id):
        return []
    if need.repeats:
        return repeat_matching.propose(need, candidates)
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
    """Offer this new or changed offer to the waiting needs it fits best, up to its capacity (none
    while a safety report hides the offer)."""
    if holds.post_hidden(offer.id):
        return []
    busy = set(db.session.scalars(select(Match.need_id).where(Match.status.in_(ACTIVE))))
    if candidates is None:
        candidates = engine.candidates_for_offer(offer, exclude_needs=busy)
    capacity = offer.units_left - _proposed_units(Match.offer_id, offer.id)
    made = []
    for c in candidates:
        if capacity <= 0:
            break
        need = db.session.get(Post, int(c.need))
        if need.id in busy or need.units_left <= 0 or offer.id in _declined_offers(need.id):
            continue
        units = min(need.units_left, capacity)
        made.append(_proposal(need, offer, units, c))
        rank = db.session.scalar(select(func.count()).where(Suggestion.need_id == need.id)) or 0
        db.session.add(Suggestion(need_id=need.id, offer_id=offer.id, rank=rank, score=round(c.score, 4),
                                  distance_km=c.distance_km, overlap_min=c.overlap_min, reasons=stored_reasons(c)))
        capacity -= units
    return made


def _candidates(post: Post):
    """The engine's ranked candidates for a post (reads only)."""
    if post.kind == "need":
        if post.repeats:
            return repeat_matching.plan(post)
        return engine.candidates_for_need(post, exclude_offers=_declined_offers(post.id))
    busy = set(db.session.scalars(select(Match.need_id).where(Match.status.in_(ACTIVE), Match.offer_id != post.id)))
    return engine.candidates_for_offer(post, exclude_needs=busy)


def after_commit(post_id: int) -> None:
    """Proposals for a post just committed: in the worker (which keeps the engine's index of open
    posts, engine_index.py), or, without one (MAIL_DELIVERY other than "worker": the tests,
    `make dev`) or if the queue cannot take it, in this process once the response has gone out."""
    from flask import current_app

    from app.after_response import later

    if current_app.config["MAIL_DELIVERY"] == "worker":
        try:
            from app.jobs.queue import queue

            queue().tasks_by_name["propose"](post_id)
            return
        except Exception:  # noqa: BLE001 - the post is saved; propose here instead (or the tick will)
            log.warning("could not queue proposals for post %s; proposing in this process", post_id, exc_info=True)
    later(propose_after_save, post_id)


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
        # The first write: the transaction starts here, holding the post's row so that two runs
        # for one post (the worker's task and a tick) write one after the other, never both.
        held = db.session.execute(update(Post).where(Post.id == post.id, Post.status == "open").values(proposed_at=None)
                                  .execution_options(synchronize_session=False)).rowcount
        if not held:  # closed while the engine ran: nothing to propose
            db.session.rollback()
            return False
        # The post and the candidates' posts as they are now, in one read (what follows finds the
        # candidates in the session instead of reading them one by one under the write lock).
        listed = getattr(candidates, "candidates", candidates) or []  # a repeating need's plan holds its list
        others = [int(c.offer) if post.kind == "need" else int(c.need) for c in listed]
        db.session.scalars(select(Post).where(Post.id.in_([post.id, *others]))
                           .execution_options(populate_existing=True)).all()
        _cancel_proposals(post)
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
    _free_dates(select(Match.id).where(Match.status == "proposed", Match.source == "engine"))
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
                      overlap_min=c.overlap_min, reasons=stored_reasons(c), created_at=now)
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
                              score=round(c.score, 4) if c else 0.0, reasons=stored_reasons(c) if c else [],
                              distance_km=c.distance_km if c else None, overlap_min=c.overlap_min if c else None,
                              created_at=now))
    if proposals:
        db.session.execute(insert(Match), proposals)
    db.session.execute(update(Post).where(Post.status == "open").values(proposed_at=now)
                       .execution_options(synchronize_session=False))
    made = len(proposals)
    db.session.commit()
    # Needs that repeat are matched date by date, each in its own short transaction.
    repeating = db.session.scalars(select(Post.id).where(Post.kind == "need", Post.status == "open",
                                                         Post.repeats.is_(True)).order_by(Post.id)).all()
    db.session.rollback()
    made += sum(1 for post_id in repeating if propose_after_save(post_id))
    return RunReport(len(needs) + len(repeating), len(offers), made, stale or 0, len(unmet_needs()))
