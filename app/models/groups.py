"""Sessions of workshops and peer-led groups: a series (its rule), its sessions, who holds a place.

A workshop or peer-group offer gets a `SessionSeries`: a repeat rule (RFC 5545 RRULE text) over
local wall-clock times, from which `GroupSession` rows are materialised some weeks ahead. Each
session keeps `original_start`, the occurrence of the rule it stands for, so one session can be
moved or cancelled without touching the series (and is never materialised twice). A place is
held by a `SessionSeat` in state "joined"; `taken` counts them and is changed only by conditional
UPDATEs (app/services/groups_join.py), with a CHECK constraint as the backstop.
"""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import utcnow

# The categories whose offers can have sessions.
GROUP_CATEGORIES = ("skills", "peer_support")
SESSION_STATUSES = ("scheduled", "cancelled")
# A seat: "joined" holds a place; "waiting" is in line for one, in (queued_at, id) order;
# "requested" waits for the host of an "ask me first" series; "left" and "refused" hold nothing.
SEAT_STATUSES = ("joined", "waiting", "requested", "left", "refused")
ACTIVE_SEATS = ("joined", "waiting", "requested")
MEMBER_STATUSES = ("member", "requested", "refused", "left")
SEAT_LABELS = {"joined": _l("You have a place"), "waiting": _l("On the waiting list"),
               "requested": _l("Asked to join"), "left": _l("Left"), "refused": _l("Not accepted")}


class SessionSeries(db.Model):
    """The sessions of one offer: when they repeat, how long, how many places, where exactly."""

    __tablename__ = "session_series"
    __table_args__ = (
        CheckConstraint("duration_min > 0", name="ck_session_series_duration"),
        CheckConstraint("places > 0", name="ck_session_series_places"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)  # the offer's owner
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # the host, or a coordinator
    # "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=10", expanded from `first_start_local`; NULL: one date.
    rrule: Mapped[str | None] = mapped_column(Text)
    first_start_local: Mapped[datetime]  # naive wall-clock time in COMMUNITY_TZ
    duration_min: Mapped[int]
    places: Mapped[int]
    # The exact place: shown only to those holding a place, the host and coordinators.
    place_details: Mapped[str] = mapped_column(String(500), default="")
    ask_first: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]  # the rest of the series was cancelled

    offer = relationship("Post", foreign_keys=[offer_id], lazy="joined", innerjoin=True)

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class GroupSession(db.Model):
    """One session of a series (not `Session`, which would read as db.session)."""

    __tablename__ = "group_sessions"
    __table_args__ = (
        UniqueConstraint("series_id", "original_start", name="uq_group_sessions_occurrence"),
        Index("ix_group_sessions_status_start", "status", "starts_at"),
        Index("ix_group_sessions_series_start", "series_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="ck_group_sessions_order"),
        CheckConstraint("places > 0", name="ck_group_sessions_places"),
        # Places are taken with a conditional UPDATE; this is the backstop that can never be crossed.
        CheckConstraint("taken >= 0 AND taken <= places", name="ck_group_sessions_taken"),
        CheckConstraint("status in ('scheduled', 'cancelled')", name="ck_group_sessions_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("session_series.id"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    starts_at: Mapped[datetime]  # naive UTC
    ends_at: Mapped[datetime]
    original_start: Mapped[datetime]  # naive UTC: the rule's occurrence this session stands for
    places: Mapped[int]
    taken: Mapped[int] = mapped_column(default=0, server_default="0")
    place_details: Mapped[str | None] = mapped_column(String(500))  # this session's own place, if changed
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    moved_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]  # attendees reminded (the day before)
    host_reminded_at: Mapped[datetime | None]  # the host told the evening before that places are left
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    series = relationship(SessionSeries, lazy="joined", innerjoin=True)
    offer = relationship("Post", foreign_keys=[offer_id], lazy="joined", innerjoin=True)

    @property
    def places_left(self) -> int:
        return max(self.places - (self.taken or 0), 0)

    @property
    def is_full(self) -> bool:
        return self.places_left == 0

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def place(self) -> str:
        """The exact place (private): this session's own, or the series'."""
        return self.place_details if self.place_details is not None else self.series.place_details

    def __repr__(self) -> str:
        return f"<GroupSession {self.id} {self.status}>"


class SessionSeat(db.Model):
    """One person's place in a session, or their place in line for one."""

    __tablename__ = "session_seats"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id", name="uq_session_seats_person"),
        Index("ix_session_seats_line", "session_id", "status", "queued_at", "id"),
        Index("ix_session_seats_user_status", "user_id", "status"),
        CheckConstraint("status in ('joined', 'waiting', 'requested', 'left', 'refused')", name="ck_session_seats_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("group_sessions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10))
    from_series: Mapped[bool] = mapped_column(default=False, server_default=false())
    # "Share my contact with the host": only then does the roster show how to reach them.
    share_contact: Mapped[bool] = mapped_column(default=False, server_default=false())
    attended: Mapped[bool | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When they joined the line: the waiting list is in (queued_at, id) order. Set again when a
    # seat that was left is taken up again, or a request is accepted onto a full session.
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    session = relationship(GroupSession, lazy="joined", innerjoin=True)
    user = relationship("User", lazy="joined", innerjoin=True)

    @property
    def status_label(self) -> str:
        return str(SEAT_LABELS.get(self.status, self.status))


class SeriesMember(db.Model):
    """Someone who joined the whole series: joined (or in line) for every upcoming session,
    including sessions materialised later."""

    __tablename__ = "series_members"
    __table_args__ = (
        UniqueConstraint("series_id", "user_id", name="uq_series_members_person"),
        Index("ix_series_members_user", "user_id"),
        CheckConstraint("status in ('member', 'requested', 'refused', 'left')", name="ck_series_members_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("session_series.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10))
    share_contact: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    series = relationship(SessionSeries, lazy="joined", innerjoin=True)
    user = relationship("User", lazy="joined", innerjoin=True)


class SessionFeedback(db.Model):
    """How a session went, in an attendee's words: the host sees how many wrote, coordinators read them."""

    __tablename__ = "session_feedback"
    __table_args__ = (UniqueConstraint("session_id", "user_id", name="uq_session_feedback_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("group_sessions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CalendarFeed(db.Model):
    """A member's private calendar address: whoever has the token reads their upcoming items
    (neutral titles, towns only). Resetting it replaces the token, so the old address stops working."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
