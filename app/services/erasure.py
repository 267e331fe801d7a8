"""Delete my account: a member (with their password typed again), or a coordinator for a resident
who leaves (with the coordinator's own password).

In one transaction: their open posts are withdrawn as the owner would withdraw them (proposals
cancelled, approved matches cancelled and the other side emailed, hosted groups ended), their
places in groups still to come are given up (the first person waiting gets each), then everything
personal is erased by the rules of personal_data.py: the name becomes a pseudonym ("Former member
7f3a"), email, phone, place, contact person and password go, posts lose their details and exact
place, case notes about them are deleted, what they wrote is "[deleted]", emails to them leave the
outbox (in emails to others their full name, email and phone are replaced), and their full name,
email and phone are replaced wherever else they appear in rows that hang off theirs (each word of
their name only in their own rows: "Will May" leaving must not change Hal's "I will be there").
What the fund's books and the audit log need stays, pointing at the pseudonym. The email address
is free to sign up again, and every session of theirs ends.
"""
import logging
import secrets

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import GroupSession, Post, SeriesMember, SessionSeat, User
from app.models.groups import ACTIVE_SEATS
from app.models.users import new_token
from app.services import Conflict, FieldError, NotAllowed, audit
from app.services.erasure_scrub import (apply_rules, erase_addresses, linked_rows, own_rows, purge_outbox,
                                       release_contact_person, scrub_linked)
from app.services.personal_data import Identifiers
from app.timeutil import utcnow

log = logging.getLogger(__name__)


def may_delete(actor: User, person: User) -> None:
    """Anyone may delete their own account; a coordinator may delete a resident's. NotAllowed otherwise."""
    if person.deleted_at is not None:
        raise NotAllowed(_("No such account."))
    if actor.id == person.id:
        return
    if actor.is_coordinator and person.role == "resident":
        return
    raise NotAllowed(_("You can only delete your own account."))


def _check_password(actor: User, password: str | None) -> None:
    if not (password or "").strip():
        raise FieldError("password", _("Type your password to confirm."))
    if not actor.password_hash or not check_password_hash(actor.password_hash, password):
        raise FieldError("password", _("That is not your password."))


def _link(session: GroupSession) -> str:
    from app.jobs.registry import external

    return external("groups.session", session_id=session.id)


def _withdraw_posts(person: User, now) -> int:
    """Every open post closes as its owner's "Withdraw" would (app/services/posts.py `_close`)."""
    from app.services import matches

    posts = db.session.scalars(select(Post).where(Post.owner_id == person.id, Post.status == "open")
                               .order_by(Post.id)).all()
    for post in posts:
        post.status, post.closed_at = "withdrawn", now
        matches.post_closed(post)
    return len(posts)


def _leave_groups(person: User, now) -> int:
    """Leave every series and every session still to come, as groups_join's leave functions do, so
    each freed place goes to the first person waiting (who is emailed)."""
    from app.services.groups_join import _leave_seat, _seat_of, lock_session

    db.session.execute(update(SeriesMember).where(SeriesMember.user_id == person.id,
                                                  SeriesMember.status.in_(("member", "requested")))
                       .values(status="left", changed_at=now).execution_options(synchronize_session=False))
    sessions = db.session.scalars(select(SessionSeat.session_id).join(GroupSession, GroupSession.id == SessionSeat.session_id)
                                  .where(SessionSeat.user_id == person.id, SessionSeat.status.in_(ACTIVE_SEATS),
                                         GroupSession.starts_at > now).order_by(SessionSeat.session_id)).all()
    left = 0
    for session_id in sessions:  # in id order, as every other transaction locks them
        session = lock_session(session_id)
        seat = _seat_of(session.id, person.id)
        if seat is not None and seat.status in ACTIVE_SEATS:
            _leave_seat(seat, session, _link, now)
            left += 1
    return left


def _only_admin(person: User) -> bool:
    return person.is_admin and not db.session.scalar(select(func.count()).select_from(User).where(
        User.role == "admin", User.id != person.id, User.deleted_at.is_(None)))


def delete_account(actor: User, person: User, password: str | None) -> str:
    """Delete `person`'s account (see the module docstring). `password` is the actor's own, typed
    again. Returns the pseudonym the row keeps. FieldError("password") for a wrong password,
    NotAllowed for someone else's account, Conflict for the only admin."""
    may_delete(actor, person)
    _check_password(actor, password)
    if _only_admin(person):
        raise Conflict(_("You are the only admin. Make someone else an admin first."))
    ids = Identifiers.of(person)
    user_id, now = person.id, utcnow()
    by = "self" if actor.id == person.id else "coordinator"
    pseudonym = f"Former member {secrets.token_hex(2)}"
    # First the pseudonym: the emails the steps below send to others (a match cancelled, a place
    # that opened) already name the pseudonym, never the person.
    person.name = pseudonym
    db.session.flush()
    withdrawn = _withdraw_posts(person, now)
    left = _leave_groups(person, now)
    db.session.flush()
    apply_rules(user_id, pseudonym)
    db.session.execute(update(User).where(User.id == user_id)
                       .values(session_token=new_token(), reset_nonce=new_token(), deleted_at=now)
                       .execution_options(synchronize_session=False))
    scrubbed = scrub_linked(linked_rows(user_id), ids, own_rows(user_id))
    erase_addresses(ids)
    release_contact_person(ids, user_id)
    purged, rewritten = purge_outbox(ids)
    audit.record(actor, "account_delete", "user", user_id, by=by, posts_withdrawn=withdrawn, places_left=left,
                 rows_scrubbed=scrubbed, emails_purged=purged, emails_rewritten=rewritten)
    db.session.commit()
    log.info("account %s deleted (by %s %s)", user_id, by, actor.id)
    return pseudonym
