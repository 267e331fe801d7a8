"""Who may join a group session, and who sees what of it: the one place that decides.

`may_join` is asked by joining, by joining a whole series, by accepting a request and by the
roster (which shows beside a request why it can't be accepted). Rules added later (blocks,
no-contact orders, vetting) belong in `_person_may_join`, so every path follows them at once.
Nothing here tells anyone another person's role.

A host's block is never shown to the person blocked. Their sessions are left out of the groups
page for them (groups_browse.upcoming), and a session reached by a link answers them exactly what a
member the host turned down reads ("The host did not accept you for this session.", or "…for this
series."): hosts refuse and take back places as an everyday matter, so the sentence says nothing
of a block. Someone who blocked the host, and anyone under a bar, read "This group isn't open to
you" instead (the blocker knows why; a barred person reads it on every group, so it points at no one).
"""
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.ids import get_by_id
from app.models import Block, GroupSession, Post, SeriesMember, SessionSeat, SessionSeries, User
from app.models.groups import GROUP_CATEGORIES
from app.services import NotAllowed, exclusions
from app.services import holds
from app.services.accounts import NotConfirmed, require_confirmed
from app.timeutil import utcnow


def get_session(session_id: int) -> GroupSession:
    """The session with this id; NotAllowed (the views answer 404) when there is none."""
    session = get_by_id(GroupSession, session_id)
    if session is None:
        raise NotAllowed(_("No such session."))
    return session


def get_series(series_id: int) -> SessionSeries:
    series = get_by_id(SessionSeries, series_id)
    if series is None:
        raise NotAllowed(_("No such series of sessions."))
    return series


def is_host(user: User, series: SessionSeries) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.id == series.host_id


def can_manage(user: User, series: SessionSeries) -> bool:
    """The host and today's coordinators run a series: its roster, changes, requests, messages."""
    return bool(getattr(user, "is_authenticated", False)) and (user.id == series.host_id or user.is_coordinator)


def require_manager(user: User, series: SessionSeries) -> None:
    if not can_manage(user, series):
        raise NotAllowed(_("Only the host and coordinators can do that."))


def may_schedule(user: User, offer: Post) -> None:
    """Sessions are scheduled for a workshop or peer-group offer by its owner or a coordinator."""
    if not getattr(user, "is_authenticated", False) or (offer.owner_id != user.id and not user.is_coordinator):
        raise NotAllowed(_("Only the person offering it and coordinators can schedule sessions."))
    if offer.kind != "offer" or offer.category not in GROUP_CATEGORIES:
        raise NotAllowed(_("Sessions are for offers in \u201cSkills & workshops\u201d or \u201cPeer support\u201d."))


def blocked_by(blocker_id: int, blocked_id: int) -> bool:
    """Whether `blocker_id` blocked `blocked_id` (through any post or match)."""
    return db.session.scalar(select(Block.id).where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id)
                             .limit(1)) is not None


def _person_may_join(user: User, series: SessionSeries, refused: str | None = None) -> None:
    """What is true of the person whatever the session: logged in, confirmed, not the host, not
    kept from the host's groups. `refused` is what a person the host turned down reads: the
    answer, too, for someone the host blocked (see the module's docstring)."""
    if not getattr(user, "is_authenticated", False):
        raise NotAllowed(_("Log in to join."))
    try:
        require_confirmed(user)
    except NotConfirmed as err:
        raise NotAllowed(err.message) from None
    if user.id == series.host_id:
        raise NotAllowed(_("You host this group, so you are there anyway."))
    snapshot = exclusions.load(with_rules=False)
    if exclusions.kept_from_group(user.id, series.host_id, snapshot):
        if (refused and user.id not in snapshot.bar_subjects and snapshot.apart(user.id, series.host_id) == "block"
                and blocked_by(series.host_id, user.id) and not blocked_by(user.id, series.host_id)):
            # Blocked by the host: the everyday sentence of a host's refusal, never a word of a block.
            raise NotAllowed(refused)
        # Someone who blocked the host, or under a bar: one sentence, which never says which, or who.
        raise NotAllowed(_("This group isn't open to you. Other groups and workshops are listed on the groups page."))


def _series_open(series: SessionSeries) -> None:
    if series.ended_at is not None:
        raise NotAllowed(_("The rest of this series was cancelled."))
    # A safety report hiding the offer: the same sentence as a closed offer, never a word of the report.
    if series.offer.status == "withdrawn" or holds.post_hidden(series.offer_id):
        raise NotAllowed(_("This offer was withdrawn."))


def may_join(user: User, session: GroupSession, now: datetime | None = None) -> None:
    """None if this person may join this session; otherwise NotAllowed with a sentence for them."""
    now = now or utcnow()
    _person_may_join(user, session.series, _("The host did not accept you for this session."))
    _series_open(session.series)
    if session.status == "cancelled":
        raise NotAllowed(_("This session was cancelled."))
    if session.starts_at <= now:
        raise NotAllowed(_("This session has already started."))
    seat = seat_of(user, session)
    if seat is not None and seat.status == "refused":
        raise NotAllowed(_("The host did not accept you for this session."))


def may_join_series(user: User, series: SessionSeries) -> None:
    """The same rules for joining every upcoming session of a series at once."""
    _person_may_join(user, series, _("The host did not accept you for this series."))
    _series_open(series)
    status = db.session.scalar(select(SeriesMember.status).where(SeriesMember.series_id == series.id,
                                                                 SeriesMember.user_id == user.id))
    if status == "refused":
        raise NotAllowed(_("The host did not accept you for this series."))


def why_not(user: User, session: GroupSession, now: datetime | None = None) -> str | None:
    """The sentence `may_join` would answer, or None when they may join."""
    try:
        may_join(user, session, now)
    except NotAllowed as err:
        return str(err.message)
    return None


def seat_of(user: User, session: GroupSession) -> SessionSeat | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(SessionSeat).where(SessionSeat.session_id == session.id,
                                                       SessionSeat.user_id == user.id))


def sees_place(user: User, session: GroupSession, seat: SessionSeat | None = None) -> bool:
    """The exact place: only for those holding a place, the host and coordinators."""
    if can_manage(user, session.series):
        return True
    seat = seat if seat is not None else seat_of(user, session)
    return seat is not None and seat.status == "joined"


def reads_feedback(user: User) -> bool:
    """Coordinators read what attendees wrote; the host sees only how many wrote."""
    return bool(getattr(user, "is_authenticated", False)) and user.is_coordinator
