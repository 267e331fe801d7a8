"""What people do with the occurrences of a need that repeats (or a ride's two legs).

Each occurrence is confirmed, skipped or marked done on its own: skipping one day frees the helper
for that day and touches nothing else. A helper who stops helping frees the rest of the series,
which goes back to the engine (after the commit). Who may act is decided here, from the roles
people have now: the person asking (or today's coordinators) may skip; the two matched people
confirm and say whether it happened; coordinators may do any of it.
"""
import logging

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, select, update

from app.extensions import db
from app.ids import get_by_id
from app.models import Match, Post, User
from app.models.repeat import FINISHED, LIVE, NeedOccurrence
from app.services import Conflict, NotAllowed, audit, holds
from app.services.disclosure import side_of
from app.services.match_notices import notify_both
from app.services.repeat_matching import STOPPED
from app.timeutil import utcnow

log = logging.getLogger(__name__)


def get_occurrence(occurrence_id) -> NeedOccurrence:
    row = get_by_id(NeedOccurrence, occurrence_id)
    if row is None:
        raise NotAllowed(_("No such date."))
    return row


def _need(row: NeedOccurrence) -> Post:
    return db.session.get(Post, row.need_id)


def _may_act(actor: User, row: NeedOccurrence, helper_too: bool) -> tuple[Post, Match | None]:
    """The need and the match of an occurrence, if the actor may act on it: the person asking
    (or whoever answers for them), today's coordinators, and (when `helper_too`) the helper."""
    need = _need(row)
    match = db.session.get(Match, row.match_id) if row.match_id else None
    side = side_of(actor, match) if match else ("need" if need.owner_id == actor.id else None)
    if actor.is_coordinator or side == "need" or (helper_too and side == "offer"):
        return need, match
    raise NotAllowed(_("Only the person asking, their helper and coordinators can change this date."))


def _set(row: NeedOccurrence, actor: User, expected: tuple, status: str) -> None:
    """Change the occurrence's state if it is still in one of `expected` (one conditional UPDATE)."""
    done = db.session.execute(update(NeedOccurrence).where(NeedOccurrence.id == row.id,
                                                           NeedOccurrence.status.in_(expected))
                              .values(status=status, changed_by_id=actor.id, changed_at=utcnow())
                              .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise Conflict(_("This date changed a moment ago. Reload to see where it stands."))
    row.status = status


def skip(actor: User, occurrence_id) -> NeedOccurrence:
    """Not needed that day: the occurrence is skipped and its helper is free for it; the rest of
    the series keeps its helper."""
    row = get_occurrence(occurrence_id)
    need, match = _may_act(actor, row, helper_too=False)
    if row.status not in LIVE:
        raise Conflict(_("This date is already %(state)s.", state=row.state_label.lower()))
    if row.starts_at <= utcnow():
        raise Conflict(_("This date has begun; say whether it happened instead."))
    _set(row, actor, LIVE, "skipped")
    if match is not None and match.status in ("approved", "accepted"):
        notify_both(match, "occurrence_skipped", _l("One date is not needed"), skip_side="need",
                    extra={"occurrence": row})
    _audit(actor, need, "occurrence_skip", row)
    _close_if_finished(need, match)
    db.session.commit()
    return row


def confirm(actor: User, occurrence_id) -> NeedOccurrence:
    """The helper (or the person asking) confirms one date of a confirmed match."""
    row = get_occurrence(occurrence_id)
    need, match = _may_act(actor, row, helper_too=True)
    if match is None or match.status != "accepted":
        raise Conflict(_("Both people confirm the match first; then each date can be confirmed."))
    if row.status != "matched":
        raise Conflict(_("This date is already %(state)s.", state=row.state_label.lower()))
    _set(row, actor, ("matched",), "confirmed")
    db.session.commit()
    return row


def record(actor: User, occurrence_id, happened: bool) -> NeedOccurrence:
    """After the time: it happened (done) or it did not (the helper is still on for the others)."""
    row = get_occurrence(occurrence_id)
    need, match = _may_act(actor, row, helper_too=True)
    if match is None or match.status != "accepted":
        raise Conflict(_("Only a date with a confirmed helper can be marked done."))
    if row.status not in ("matched", "confirmed"):
        raise Conflict(_("This date is already %(state)s.", state=row.state_label.lower()))
    if row.starts_at > utcnow():
        raise Conflict(_("This date is still to come."))
    _set(row, actor, ("matched", "confirmed"), "done" if happened else "missed")
    _audit(actor, need, "occurrence_done" if happened else "occurrence_missed", row)
    _close_if_finished(need, match)
    db.session.commit()
    return row


def stop_helping(actor: User, match_id: int) -> Match:
    """The helper (or a coordinator) ends a match part-way: dates already done stay done, the rest
    go back to looking for a helper, the offer's units come back, and the person asking hears."""
    from app.services.matches import _move, _release, get_match
    from app.services.proposals import after_commit

    match = get_match(match_id)
    side = side_of(actor, match)
    if side != "offer" and not actor.is_coordinator:
        raise NotAllowed(_("Only the helper and coordinators can end this."))
    if not match.need.repeats or match.status not in ("approved", "accepted"):
        raise Conflict(_("This match is %(state)s; there is nothing to stop.", state=str(match.state_label).lower()))
    helped = db.session.scalar(select(func.count()).where(NeedOccurrence.match_id == match.id,
                                                          NeedOccurrence.status == "done")) or 0
    if helped and match.status == "accepted":
        # The dates helped with stay this match's; the rest go back to the engine.
        _free_rest(match)
        _move(match, "completed", closed_at=utcnow(), outcome_by_id=actor.id, reject_reason=STOPPED)
    else:
        _move(match, "cancelled", closed_at=utcnow(), reject_reason=STOPPED)  # ENDED: its dates go back
    _release(match)
    audit.record(actor, "stop_helping", "match", match.id, done=helped)
    notify_both(match, "match_stopped", _l("Your helper can't continue"), skip_side="offer")
    db.session.commit()
    after_commit(match.need_id)
    return match


def _free_rest(match: Match) -> None:
    db.session.execute(update(NeedOccurrence).where(NeedOccurrence.match_id == match.id, NeedOccurrence.status.in_(LIVE))
                       .values(match_id=None, status="open").execution_options(synchronize_session=False))


def _close_if_finished(need: Post, match: Match | None) -> None:
    """A match whose dates are all answered is done; a need whose dates are all answered is met."""
    from app.services.matches import _move, _release

    db.session.flush()
    if match is not None and match.status == "accepted":
        left = db.session.scalar(select(func.count()).where(NeedOccurrence.match_id == match.id,
                                                            NeedOccurrence.status.in_(LIVE))) or 0
        if not left:
            helped = db.session.scalar(select(func.count()).where(NeedOccurrence.match_id == match.id,
                                                                  NeedOccurrence.status == "done")) or 0
            _move(match, "completed" if helped else "cancelled", closed_at=utcnow())
            _release(match)
    left = db.session.scalar(select(func.count()).where(NeedOccurrence.need_id == need.id,
                                                        NeedOccurrence.status.notin_(FINISHED))) or 0
    if not left and need.status == "open":
        from app.services.matches import post_closed

        need.status, need.closed_at = "fulfilled", utcnow()
        post_closed(need)  # proposals still waiting end; nothing else is under way


def _audit(actor: User, need: Post, action: str, row: NeedOccurrence) -> None:
    if actor.is_coordinator and actor.id != need.owner_id:
        audit.record(actor, action, "post", need.id, occurrence=row.id)


def send_reminders(link_for, now=None) -> int:
    """The day before each date of a confirmed match, remind both people (once per date)."""
    from datetime import timedelta

    now = now or utcnow()
    due = db.session.execute(select(NeedOccurrence, Match).join(Match, Match.id == NeedOccurrence.match_id).where(
        Match.status == "accepted", NeedOccurrence.status.in_(("matched", "confirmed")),
        NeedOccurrence.reminded_at.is_(None), NeedOccurrence.starts_at > now,
        NeedOccurrence.starts_at <= now + timedelta(hours=36), holds.match_not_paused())).all()
    sent = 0
    for row, match in due:
        # Only if the date was not skipped, moved or reminded since it was read.
        if not db.session.execute(update(NeedOccurrence).where(
                NeedOccurrence.id == row.id, NeedOccurrence.reminded_at.is_(None), NeedOccurrence.starts_at == row.starts_at,
                NeedOccurrence.status.in_(("matched", "confirmed"))).values(reminded_at=now)
                .execution_options(synchronize_session=False)).rowcount:
            continue
        sent += 1
        notify_both(match, "occurrence_reminder", _l("Reminder: your help is coming up"), link_for=link_for,
                    extra={"occurrence": row})
    db.session.commit()
    return sent


def mark_matched(match: Match, occurrence_ids: list[int]) -> int:
    """Link a new proposal to the occurrences it covers (only those still looking); how many."""
    if not occurrence_ids:
        return 0
    return db.session.execute(update(NeedOccurrence).where(NeedOccurrence.id.in_(occurrence_ids),
                                                        NeedOccurrence.status == "open", NeedOccurrence.match_id.is_(None))
                           .values(match_id=match.id, status="matched").execution_options(synchronize_session=False)).rowcount


def covered(match: Match) -> list[NeedOccurrence]:
    """The occurrences a match covers, earliest first."""
    return list(db.session.scalars(select(NeedOccurrence).where(NeedOccurrence.match_id == match.id)
                                   .order_by(NeedOccurrence.starts_at, NeedOccurrence.leg)))


def rows_for(viewer: User, need: Post, match: Match | None = None) -> list[tuple[NeedOccurrence, tuple[str, ...]]]:
    """The occurrences a page lists (a need's, or a match's), each with the buttons this viewer
    gets: the same rules as the actions above, so a button is never shown that would be refused."""
    rows = covered(match) if match is not None else list(need.occurrences)
    now = utcnow()
    matches = {m.id: m for m in db.session.scalars(select(Match).where(
        Match.id.in_({r.match_id for r in rows if r.match_id})))} if rows else {}
    out = []
    for row in rows:
        m = matches.get(row.match_id)
        side = side_of(viewer, m) if m else ("need" if need.owner_id == viewer.id else None)
        asking, helper = viewer.is_coordinator or side == "need", viewer.is_coordinator or side in ("need", "offer")
        actions = []
        if not need.is_open:
            out.append((row, ()))  # a closed request: its dates are history
            continue
        if asking and row.status in LIVE and row.starts_at > now:
            actions.append("skip")
        if helper and m is not None and m.status == "accepted":
            if row.status == "matched" and row.starts_at > now:
                actions.append("confirm")
            if row.status in ("matched", "confirmed") and row.starts_at <= now:
                actions += ["done", "missed"]
        out.append((row, tuple(actions)))
    return out
