"""The match lifecycle: coordinators' decisions, "I can help", the two people's answers, capacity.

Every state change goes through `_move`, a conditional UPDATE (`... WHERE status = <expected>`):
of two coordinators acting on the same match at once, exactly one wins. Capacity is taken with
another conditional UPDATE on the offer and the need (`units_committed + n <= quantity`), which
PostgreSQL re-checks after waiting for the row lock, so an offer is never oversubscribed however
many approvals race; a CHECK constraint on the posts table is the backstop. Emails go into the
outbox in the same transaction and leave after the commit.
"""
import logging
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, select, update

from app.extensions import db
from app.ids import get_by_id, parse_id
from app.models import Match, Post, Suggestion, User
from app.models.matches import ACTIVE, can_move
from app.models.repeat import LIVE, NeedOccurrence
from app.models.posts import MONEY_CATEGORY
from app.services import Conflict, FieldError, NotAllowed, audit, holds
from app.services import exclusions
from app.services import match_engine as engine
from app.services import repeat_matching
from app.services.accounts import require_confirmed
from app.services.disclosure import side_of
from app.timeutil import utcnow

from app.services.match_notices import notify_both
from app.services.proposals import _cancel_proposals, _proposal, propose_for_need

log = logging.getLogger(__name__)
# States after which a match covers no occurrence of a repeating need any more.
ENDED = ("rejected", "declined", "cancelled", "no_show")
MAX_NOTE = 1000
MAX_REASON = 300
# The change a match can't make, as the refusal in `_move` names it (the states stay codes).
CHANGES = {"approved": _l("approved"), "rejected": _l("rejected"), "cancelled": _l("cancelled"),
           "accepted": _l("accepted"), "declined": _l("declined"), "completed": _l("completed"),
           "no_show": _l("no show")}


def get_match(match_id: int) -> Match:
    match = get_by_id(Match, match_id)
    if match is None:
        raise NotAllowed(_("No such match."))
    return match



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
        notify_both(match, "match_cancelled", _l("A match was cancelled"), skip_side="need" if post.kind == "need" else "offer")
    if post.kind == "offer":
        from app.services.groups_schedule import end_open_series

        from app.jobs.registry import external

        # A group's sessions end with its offer; the emails link to each session (outside a request too).
        end_open_series(post, lambda session: external("groups.session", session_id=session.id))



# Decisions (coordinators) --------------------------------------------------------------------

def _refuse_if_hidden(*posts: Post) -> None:
    """A post a safety report hides is matched with nobody until a coordinator acts on the report."""
    if any(holds.post_hidden(post.id) for post in posts):
        raise Conflict(_("A safety report hides this request or offer; act on the report first."))


def _require_coordinator(actor: User) -> None:
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can do that."))


def _not_own(actor: User, match: Match) -> None:
    if actor.id in (match.need.owner_id, match.offer.owner_id):
        raise NotAllowed(_("You can't decide a match on your own post; ask another coordinator."))


def _state(match: Match) -> str:
    """The match's state as a refusal names it, in the middle of a sentence ("approved: waiting ...")."""
    return str(match.state_label).lower()


def _move(match: Match, to: str, **values) -> None:
    """Change the state if the current one allows it, atomically: a concurrent change wins or we do."""
    if not can_move(match.status, to):
        raise Conflict(_("This match is %(state)s; it can't be %(change)s now.", state=_state(match),
                         change=str(CHANGES.get(to, to.replace("_", " ")))))
    done = db.session.execute(
        update(Match).where(Match.id == match.id, Match.status == match.status)
        .values(status=to, **values).execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        db.session.rollback()
        raise Conflict(_("Someone else changed this match a moment ago. Reload to see where it stands."))
    for key, value in values.items():
        setattr(match, key, value)
    match.status = to
    if to in ENDED:
        # The occurrences it covered and had not helped with yet go back to looking for a helper.
        db.session.execute(update(NeedOccurrence).where(NeedOccurrence.match_id == match.id,
                                                        NeedOccurrence.status.in_(LIVE))
                           .values(match_id=None, status="open").execution_options(synchronize_session=False))


def _take(post_id: int, units: int) -> bool:
    """Commit `units` of a post's quantity if that many are still free (one atomic UPDATE)."""
    return db.session.execute(
        update(Post).where(Post.id == post_id, Post.status == "open",
                           Post.units_committed + units <= Post.quantity)
        .values(units_committed=Post.units_committed + units).execution_options(synchronize_session=False)
    ).rowcount == 1


def _release(match: Match) -> None:
    # Offer first, then need: the same order as `approve`, so two transactions never wait on each other in a cycle.
    # A need that repeats holds no units: its occurrences say which match covers each.
    for post_id in (match.offer_id,) if match.need.repeats else (match.offer_id, match.need_id):
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
        raise Conflict(_("This match is already %(state)s.", state=_state(match)))
    if MONEY_CATEGORY in (match.need.category, match.offer.category):
        raise Conflict(_("Money goes through the emergency fund, with two approvals; it is never matched person to person."))
    _refuse_if_hidden(match.need, match.offer)  # approving would email both contact cards
    exclusions.refuse_if_left_out(match.need, match.offer)  # a block, bar or rule: the coordinator's reason
    now = utcnow()
    _move(match, "approved", decided_by_id=actor.id, decided_at=now,
          respond_by=now + timedelta(hours=current_app.config["MATCH_RESPONSE_HOURS"]),
          scheduled_at=engine.scheduled_time(match.need, match.offer))
    if not _take(match.offer_id, match.units):
        db.session.rollback()
        raise Conflict(_("No longer available: this offer has no room left. Swap to another candidate or match by hand."))
    # A need that repeats holds no units; taking none still checks, atomically, that it is open.
    if not _take(match.need_id, 0 if match.need.repeats else match.units):
        db.session.rollback()
        raise Conflict(_("This request is already covered by other matches, or it was closed."))
    audit.record(actor, "approve", "match", match.id, need=match.need_id, offer=match.offer_id, units=match.units)
    notify_both(match, "match_approved", _l("You have a match"), link_for=link_for)
    db.session.commit()
    log.info("coordinator %s approved match %s", actor.id, match.id)
    return match


def reject(actor: User, match_id: int, reason: str) -> Match:
    _require_coordinator(actor)
    reason = (reason or "").strip()
    if not reason:
        raise FieldError("reason", _("Say why, so the next coordinator knows."))
    if len(reason) > MAX_REASON:
        raise FieldError("reason", _("Keep the reason under %(limit)s characters.", limit=MAX_REASON))
    match = get_match(match_id)
    _not_own(actor, match)
    _move(match, "rejected", decided_by_id=actor.id, decided_at=utcnow(), reject_reason=reason, closed_at=utcnow())
    audit.record(actor, "reject", "match", match.id)  # the reason is on the match (erasable); the log keeps codes
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
        raise FieldError("offer_id", _("Choose one of the other candidates listed for this request."))
    offer = db.session.get(Post, offer_id)
    if not offer.is_open or offer.units_left <= 0:
        raise Conflict(_("No longer available: that offer is closed or full. Choose another."))
    if actor.id == offer.owner_id:
        raise NotAllowed(_("You can't decide a match on your own post; ask another coordinator."))
    _refuse_if_hidden(match.need, offer)
    exclusions.refuse_if_left_out(match.need, offer, field="offer_id")
    _move(match, "rejected", decided_by_id=actor.id, decided_at=utcnow(), reject_reason="Swapped for another offer",
          closed_at=utcnow())
    new = _proposal(match.need, offer, min(match.units, offer.units_left), suggestion, source=match.source, actor=actor)
    db.session.flush()
    if match.need.repeats and not repeat_matching.link_pair(new):
        db.session.rollback()
        raise FieldError("offer_id", _("That offer fits none of this request's dates still open. Choose another."))
    audit.record(actor, "swap", "match", match.id, new_match=new.id, offer=offer_id)
    db.session.commit()
    return new


def manual_match(actor: User, need_id: int, offer_id: int, units: int | None, link_for) -> Match:
    """A coordinator pairs a need with an offer they chose; it is approved at once."""
    _require_coordinator(actor)
    need, offer = get_by_id(Post, need_id), get_by_id(Post, offer_id)
    if need is None or need.kind != "need" or offer is None or offer.kind != "offer":
        raise NotAllowed(_("No such request or offer."))
    if actor.id in (need.owner_id, offer.owner_id):
        raise NotAllowed(_("You can't decide a match on your own post; ask another coordinator."))
    if need.owner_id == offer.owner_id:
        raise FieldError("offer_id", _("That offer is from the same person."))
    if MONEY_CATEGORY in (need.category, offer.category):
        raise Conflict(_("Money goes through the emergency fund, with two approvals; it is never matched person to person."))
    if not need.is_open or not offer.is_open:
        raise Conflict(_("That request or offer is closed."))
    _refuse_if_hidden(need, offer)
    exclusions.refuse_if_left_out(need, offer, field="offer_id")
    if units is None:
        units = min(need.units_left, offer.units_left)
    if units < 1 or units > need.units_left:
        raise FieldError("units", _("Enter between %(low)s and %(high)s.", low=1, high=need.units_left))
    match = _proposal(need, offer, units, engine.check_pair(need, offer), source="manual", actor=actor)
    db.session.flush()
    if need.repeats and not repeat_matching.link_pair(match):
        db.session.rollback()
        raise FieldError("offer_id", _("That offer fits none of this request's dates still open: check its weekly times."))
    audit.record(actor, "manual_match", "match", match.id, need=need.id, offer=offer.id, units=units)
    # One transaction with the approval: if the offer has no room, nothing of this stays behind.
    return approve(actor, match.id, link_for)



# Answers (the two people) -----------------------------------------------------------------

def pending_pair(need_id: int, offer_id: int | None) -> bool:
    """Whether this need and offer already wait together for a coordinator."""
    return bool(offer_id) and db.session.scalar(select(Match.id).where(
        Match.need_id == need_id, Match.offer_id == offer_id, Match.status == "proposed")) is not None


def volunteer(actor: User, need_id: int, offer_id: int, note: str) -> Match:
    """'I can help': the member proposes one of their offers for this need; coordinators decide.

    A pair that a block, a bar or a rule for this kind of help keeps apart is taken as a proposal
    like any other, with the same reply, and never reaches approval: `approve` refuses it and the
    queue shows coordinators why (app/services/exclusions.py). Refusing it here instead would tell
    the helper something only a coordinator may know: that the asker is a resident (a rule for
    residents' needs, a bar from residents), or that one of the two blocked the other. So the
    engine's verdict here is the bare feasibility of the pair, the same whoever asks."""
    require_confirmed(actor)
    need = get_by_id(Post, need_id)
    if need is None or need.kind != "need":
        raise NotAllowed(_("No such request."))
    if not need.is_open or need.units_left <= 0:
        raise Conflict(_("This request is no longer open."))
    if need.owner_id == actor.id:
        raise FieldError("offer_id", _("This is your own request."))
    offer = get_by_id(Post, offer_id)
    if offer is None or offer.kind != "offer" or offer.owner_id != actor.id or not offer.is_open:
        raise FieldError("offer_id", _("Choose one of your open offers."))
    if holds.post_hidden(offer.id):
        # A safety report hides the offer: refused in the words for an offer that can't help, so
        # the refusal says nothing about the report.
        raise FieldError("offer_id", _("Your offer doesn't reach this request: check its distance and its weekly times."))
    if offer.category != need.category:
        raise FieldError("offer_id", _("Choose an offer in %(category)s.", category=need.category_label))
    if need.category == MONEY_CATEGORY:
        raise Conflict(_("Money goes through the emergency fund; this request is closed."))
    if offer.units_left <= 0:
        raise FieldError("offer_id", _("That offer has no room left."))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise FieldError("note", _("Keep the note under %(limit)s characters.", limit=MAX_NOTE))
    existing = db.session.scalar(select(Match).where(Match.need_id == need.id, Match.offer_id == offer.id,
                                                     Match.status.in_(ACTIVE)))
    if existing is not None:
        if existing.status != "proposed":
            raise Conflict(_("You are already matched on this request: see the match page."))
        # The engine (or an earlier "I can help") already put this pair before the coordinators:
        # the note joins that proposal, and the helper's word counts as volunteering.
        if note and note not in (existing.note or ""):
            existing.note = f"{existing.note}\n\n{note}" if existing.note else note
        existing.source = "volunteer"
        db.session.commit()
        return existing
    # A need that repeats is checked against its dates still open (any of them, not only the first).
    candidate = (repeat_matching.check_pair(need, offer, rules=False) if need.repeats
                 else engine.check_pair(need, offer, rules=False))
    if candidate is None:
        raise FieldError("offer_id", _("Your offer doesn't reach this request: check its distance and its weekly times."))
    match = _proposal(need, offer, min(need.units_left, offer.units_left), candidate, source="volunteer", actor=actor,
                      note=note or None)
    # A pair kept apart holds none of a repeating need's dates (they stay open for other helpers).
    if need.repeats and not exclusions.left_out(need, offer) and not repeat_matching.link_pair(match):
        db.session.rollback()
        raise FieldError("offer_id", _("Your offer doesn't reach this request: check its distance and its weekly times."))
    db.session.commit()
    return match


def answer(actor: User, match_id: int, accept: bool, link_for=None) -> Match:
    """Accept or decline an approved match, for one's own side (or for a resident without a login)."""
    match = get_match(match_id)
    side = side_of(actor, match)
    if side is None:
        raise NotAllowed(_("Only the two matched people can answer."))
    if match.status != "approved":
        raise Conflict(_("This match is %(state)s; there is nothing to answer now.", state=_state(match)))
    if holds.match_paused(match.id):
        # A safety report holds it: confirming would email both contact cards and the place.
        raise Conflict(_("This match is paused while a coordinator looks at it; it can be answered once they are done."))
    column = Match.need_answer if side == "need" else Match.offer_answer
    if getattr(match, f"{side}_answer") is not None:
        raise Conflict(_("You have already answered."))
    value = "accepted" if accept else "declined"
    done = db.session.execute(update(Match).where(Match.id == match.id, Match.status == "approved", column.is_(None))
                              .values({column: value}).execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise Conflict(_("This match changed a moment ago. Reload to see where it stands."))
    setattr(match, f"{side}_answer", value)
    if actor.id not in (match.need.owner_id, match.offer.owner_id):
        audit.record(actor, "answer_for_resident", "match", match.id, side=side, answer=value)
    if not accept:
        # Stored in English (a fixed value, like a code): pages show it through match_queue.reason_label.
        _decline(match, "declined by the person asking" if side == "need" else "declined by the helper")
    elif match.need_answer == "accepted" and match.offer_answer == "accepted":
        _move(match, "accepted")
        notify_both(match, "match_confirmed", _l("Your match is confirmed"), link_for=link_for)
    db.session.commit()
    return match


def _decline(match: Match, why: str) -> None:
    _move(match, "declined", closed_at=utcnow(), reject_reason=why)
    _release(match)
    db.session.flush()
    db.session.expire(match.need)
    notify_both(match, "match_declined", _l("A match did not go ahead"))
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
