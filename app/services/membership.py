"""Who may read the board now, and coordinators' decisions on accounts that wait for approval.

The board (browse, search, post pages, group sessions) is public unless an admin makes it
members-only (app.services.settings). Then it is for approved members: coordinators and admins
always are; any other account is approved unless it has a `member_approvals` row saying it waits
or was declined. Only a self sign-up while the board is members-only writes such a row, so nobody
who was here before the switch is locked out. Everything is decided on the role and the approval
the person has at this request.
"""
import logging
from dataclasses import dataclass
from datetime import datetime

from flask import g, has_request_context
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import or_, select, update

from app.extensions import db
from app.models import User
from app.models.membership import MemberApproval
from app.services import Conflict, NotAllowed, audit, settings
from app.services.mail import queue_email
from app.timeutil import utcnow

log = logging.getLogger(__name__)
WAITING, APPROVED, DECLINED = "waiting", "approved", "declined"
STAFF_ROLES = ("coordinator", "admin")


def status_of(user: User) -> str:
    """"approved", "waiting" or "declined", whatever the mode; coordinators and admins are approved."""
    if user.is_coordinator:
        return APPROVED
    cache = g.setdefault("approvals", {}) if has_request_context() else {}
    if user.id not in cache:
        cache[user.id] = db.session.scalar(select(MemberApproval.status).where(MemberApproval.user_id == user.id)) or APPROVED
    return cache[user.id]


def can_see_board(user) -> bool:
    """May this person (a User, or Flask-Login's anonymous user) read the posts and sessions now?"""
    if not settings.board_members_only():
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return status_of(user) == APPROVED


def readers_filter() -> list:
    """WHERE clauses on User for mail that lists posts (digests): nothing in public mode; in
    members-only mode, only coordinators, admins and accounts without a waiting or declined row."""
    if not settings.board_members_only():
        return []
    unapproved = (select(MemberApproval.user_id)
                  .where(MemberApproval.user_id == User.id, MemberApproval.status != APPROVED).exists())
    return [or_(User.role.in_(STAFF_ROLES), ~unapproved)]


def on_sign_up(user: User, invitation_id: int | None = None, invited_by_id: int | None = None) -> None:
    """A new self-made account (flushed, the caller commits): in members-only mode it waits for a
    coordinator, unless it came through an invitation, which approves it at once."""
    if invitation_id is not None:
        db.session.add(MemberApproval(user_id=user.id, status=APPROVED, decided_at=utcnow(),
                                      decided_by_id=invited_by_id, invitation_id=invitation_id))
    elif settings.board_members_only():
        db.session.add(MemberApproval(user_id=user.id, status=WAITING))


def approve_existing(user: User, invitation_id: int, invited_by_id: int | None) -> None:
    """An invitation used by someone who already has an account approves that account (caller commits)."""
    row = db.session.get(MemberApproval, user.id)
    if row is not None and row.status != APPROVED:
        row.status, row.decided_at, row.decided_by_id, row.invitation_id = APPROVED, utcnow(), invited_by_id, invitation_id


@dataclass(frozen=True)
class WaitingMember:
    user: User
    since: datetime


def waiting(actor: User) -> list[WaitingMember]:
    """Accounts waiting for a decision, the longest waiting first (coordinators' page)."""
    _require_coordinator(actor)
    rows = db.session.execute(
        select(User, MemberApproval.created_at).join(MemberApproval, MemberApproval.user_id == User.id)
        .where(MemberApproval.status == WAITING, User.deleted_at.is_(None))
        .order_by(MemberApproval.created_at, User.id)).all()
    return [WaitingMember(user, since) for user, since in rows]


def approve(actor: User, user_id: int, board_url: str) -> User:
    """Approve a waiting (or earlier declined) account and email its owner; one commit.

    NotAllowed for someone who is not a coordinator now, or an id that has no decision to take
    (views answer 404); Conflict when it is already approved (another coordinator was faster)."""
    user = _decide(actor, user_id, APPROVED, (WAITING, DECLINED))
    queue_email(user.email, _l("Your account is approved"), "membership_approved", kind="membership_approved",
                locale=user.language, user=user, url=board_url)
    db.session.commit()
    log.info("coordinator %s approved account %s", actor.id, user.id)
    return user


def decline(actor: User, user_id: int) -> User:
    """Decline a waiting account and email its owner; one commit. Errors as for `approve`."""
    user = _decide(actor, user_id, DECLINED, (WAITING,))
    queue_email(user.email, _l("About your account"), "membership_declined", kind="membership_declined",
                locale=user.language, user=user)
    db.session.commit()
    log.info("coordinator %s declined account %s", actor.id, user.id)
    return user


def _decide(actor: User, user_id: int, status: str, from_statuses: tuple[str, ...]) -> User:
    _require_coordinator(actor)
    row = db.session.get(MemberApproval, user_id)
    user = db.session.get(User, user_id)
    if row is None or user is None or not user.email:
        raise NotAllowed(_("There is no account waiting for a decision here."))
    # Conditional, so two coordinators deciding at once cannot both win (or email twice).
    done = db.session.execute(
        update(MemberApproval).where(MemberApproval.user_id == user_id, MemberApproval.status.in_(from_statuses))
        .values(status=status, decided_at=utcnow(), decided_by_id=actor.id)).rowcount
    if not done:
        db.session.rollback()
        if status == APPROVED:
            raise Conflict(_("This account is already approved."))
        raise Conflict(_("A coordinator has already decided about this account."))
    audit.record(actor, "member_approved" if status == APPROVED else "member_declined", "user", user_id)
    if has_request_context():
        g.pop("approvals", None)
    return user


def _require_coordinator(actor: User) -> None:
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can decide about new accounts."))
