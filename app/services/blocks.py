"""Blocks: a member never wants to be matched with, or meet, another member.

A block is made from something the blocker can already see (a post page or their own match page),
never from a user id: nobody learns an id, a name or anything else through it. The other person
is not told: no email, nothing on their pages. Pending proposals between the two are withdrawn
(as the nightly re-run withdraws proposals every day, so a cancelled proposal says nothing), and
from then on the engine, "I can help", approvals and group sessions keep them apart
(app/services/exclusions.py, group_access.py). The blocker sees and can undo their own blocks.

In groups: a host who blocks someone no longer has them in any session still to come. Their
places, places in line and requests in the host's groups end quietly (a freed place goes to the
first person waiting, as when anyone leaves), and so does their membership of the host's series.
The blocker's own requests in the other's groups end too. Neither can join a group the other hosts
from then on. Two people who blocked each other can still both attend a third person's group: the
pages promise only what is true (no matching, no joining the other's groups).
"""
import logging

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import aliased

from app.extensions import db
from app.ids import get_by_id
from app.models import Block, GroupSession, Match, Post, SeriesMember, SessionSeat, SessionSeries, User
from app.models.repeat import LIVE, NeedOccurrence
from app.services import Conflict, NotAllowed
from app.timeutil import utcnow

log = logging.getLogger(__name__)
MAX_CONTEXT = 120


def withdraw_pending(person_id: int, others) -> int:
    """Cancel every proposal still waiting for a coordinator between `person_id` and any of
    `others` (ids, or a select of ids), in either direction, without telling anyone. Their needs
    are proposed for again by the next tick (`proposed_at` emptied). Returns how many."""
    need_post, offer_post = aliased(Post), aliased(Post)
    rows = db.session.execute(
        select(Match.id, Match.need_id).join(need_post, need_post.id == Match.need_id)
        .join(offer_post, offer_post.id == Match.offer_id)
        .where(Match.status == "proposed",
               or_(and_(need_post.owner_id == person_id, offer_post.owner_id.in_(others)),
                   and_(offer_post.owner_id == person_id, need_post.owner_id.in_(others))))).all()
    if not rows:
        return 0
    match_ids = [r.id for r in rows]
    # Dates of repeating needs those proposals covered look for a helper again.
    db.session.execute(update(NeedOccurrence).where(NeedOccurrence.match_id.in_(match_ids), NeedOccurrence.status.in_(LIVE))
                       .values(match_id=None, status="open").execution_options(synchronize_session=False))
    db.session.execute(update(Match).where(Match.id.in_(match_ids), Match.status == "proposed")
                       .values(status="cancelled", closed_at=utcnow()).execution_options(synchronize_session=False))
    db.session.execute(update(Post).where(Post.id.in_({r.need_id for r in rows}), Post.status == "open")
                       .values(proposed_at=None).execution_options(synchronize_session=False))
    return len(match_ids)


def _leave_their_groups(person_id: int, host_id: int) -> None:
    """The blocker's own requests and places in line for groups the other hosts end quietly
    (they hold no place, so nobody moves up): otherwise the host would read, beside the request
    on their roster, that it can't be accepted. A place already held stays the blocker's to give up."""
    now = utcnow()
    series_ids = select(SessionSeries.id).where(SessionSeries.host_id == host_id)
    db.session.execute(update(SessionSeat).where(
        SessionSeat.user_id == person_id, SessionSeat.status.in_(("requested", "waiting")),
        SessionSeat.session_id.in_(select(GroupSession.id).where(GroupSession.series_id.in_(series_ids))))
        .values(status="left", changed_at=now).execution_options(synchronize_session=False))
    db.session.execute(update(SeriesMember).where(SeriesMember.user_id == person_id, SeriesMember.status == "requested",
                                                  SeriesMember.series_id.in_(series_ids))
                       .values(status="left", changed_at=now).execution_options(synchronize_session=False))


def _session_link(session: GroupSession) -> str:
    from app.jobs.registry import external

    return external("groups.session", session_id=session.id)


def _end_places_in_my_groups(host_id: int, blocked_id: int) -> int:
    """Everything the blocked person holds in the blocker's groups still to come ends, as their own
    leaving would (groups_join): a freed place goes to the first person waiting, who is emailed; the
    blocked person is not told. Sessions are locked in id order, as every other transaction does."""
    from app.services.groups_join import _leave_seat, _seat_of, lock_session
    from app.models.groups import ACTIVE_SEATS

    now = utcnow()
    series_ids = select(SessionSeries.id).where(SessionSeries.host_id == host_id)
    db.session.execute(update(SeriesMember).where(SeriesMember.user_id == blocked_id,
                                                  SeriesMember.status.in_(("member", "requested")),
                                                  SeriesMember.series_id.in_(series_ids))
                       .values(status="left", changed_at=now).execution_options(synchronize_session=False))
    sessions = db.session.scalars(
        select(SessionSeat.session_id).join(GroupSession, GroupSession.id == SessionSeat.session_id)
        .where(SessionSeat.user_id == blocked_id, SessionSeat.status.in_(ACTIVE_SEATS),
               GroupSession.series_id.in_(series_ids), GroupSession.starts_at > now)
        .order_by(SessionSeat.session_id)).all()
    left = 0
    for session_id in sessions:
        session = lock_session(session_id)
        seat = _seat_of(session.id, blocked_id)
        if seat is not None and seat.status in ACTIVE_SEATS:
            _leave_seat(seat, session, _session_link, now)
            left += 1
    return left


def _block(actor: User, other_id: int, context: str) -> Block:
    if other_id == actor.id:
        raise Conflict(_("That is your own post."))
    context = (context or "")[:MAX_CONTEXT]
    block = db.session.scalar(select(Block).where(Block.blocker_id == actor.id, Block.blocked_id == other_id,
                                                  Block.context == context))
    if block is None:
        block = Block(blocker_id=actor.id, blocked_id=other_id, context=context)
        db.session.add(block)
        db.session.flush()
        withdraw_pending(actor.id, [other_id])
        _leave_their_groups(actor.id, other_id)
        _end_places_in_my_groups(actor.id, other_id)
    db.session.commit()
    log.info("member %s blocked someone (block %s)", actor.id, block.id)
    return block


def block_post_owner(actor: User, post_id: int) -> Block:
    """Block whoever owns this post, as far as the actor can see the post (an open post, or one
    they manage); blocking through the same post twice is the same block, through another post of
    the same person a block of its own. NotAllowed (404) for a post they can't see."""
    from app.services.posts import can_manage

    post = get_by_id(Post, post_id)
    if post is None or not (post.is_open or can_manage(actor, post)):
        raise NotAllowed(_("No such post."))
    return _block(actor, post.owner_id, post.title)


def block_match_partner(actor: User, match_id: int) -> Block:
    """Block the other person of one's own match. NotAllowed (404) for anyone not in it."""
    match = get_by_id(Match, match_id)
    if match is None or actor.id not in (match.need.owner_id, match.offer.owner_id):
        raise NotAllowed(_("No such match."))
    theirs = match.offer if match.need.owner_id == actor.id else match.need
    return _block(actor, theirs.owner_id, theirs.title)


def blocks_of(actor: User) -> list[Block]:
    """The actor's own blocks, newest first (what they blocked through, never a name)."""
    return list(db.session.scalars(select(Block).where(Block.blocker_id == actor.id)
                                   .order_by(Block.created_at.desc(), Block.id.desc())))


def unblock(actor: User, block_id: int) -> None:
    """Undo one of the actor's own blocks; anybody else's is NotAllowed (404). The person stays
    blocked while another of the actor's blocks (made through another of their posts) remains."""
    block = get_by_id(Block, block_id)
    if block is None or block.blocker_id != actor.id:
        raise NotAllowed(_("No such block."))
    db.session.delete(block)
    db.session.commit()
