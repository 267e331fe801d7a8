from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, case, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flask_babel import gettext as _, lazy_gettext as _l, ngettext

from app.extensions import db
from app.timeutil import local_today, utcnow

KINDS = ("need", "offer")
CATEGORIES = {
    "rides": _l("Rides"),
    "food": _l("Food"),
    "skills": _l("Skills & workshops"),
    "emergency_funds": _l("Emergency funds"),
    "peer_support": _l("Peer support"),
    "household_items": _l("Household items"),
}
# What one unit of quantity or capacity means in each category: how many of it, in words
# ("1 seat", "3 seats"), in the reader's language and with its plural rules.
UNITS = {
    "rides": lambda n: ngettext("%(num)s seat", "%(num)s seats", n),
    "food": lambda n: ngettext("%(num)s meal", "%(num)s meals", n),
    "skills": lambda n: ngettext("%(num)s place", "%(num)s places", n),
    "emergency_funds": lambda n: ngettext("%(num)s dollar", "%(num)s dollars", n),
    "peer_support": lambda n: ngettext("%(num)s place", "%(num)s places", n),
    "household_items": lambda n: ngettext("%(num)s item", "%(num)s items", n),
}


def _any_unit(n: int) -> str:
    return ngettext("%(num)s unit", "%(num)s units", n)


def units_text(n: int, category: str) -> str:
    """'1 seat', '3 seats': a number of a category's unit, in words."""
    return UNITS.get(category, _any_unit)(n)


URGENCIES = {0: _l("Whenever"), 1: _l("This week"), 2: _l("Within 48 hours"), 3: _l("Today")}
# How many days after posting each urgency means: "Today" posted on Nov 10 is needed by Nov 10.
URGENCY_DAYS = {1: 7, 2: 2, 3: 0}
# Money moves only through the emergency fund (two approvals, limits, the ledger): it is never a
# post that the engine pairs person to person. The category stays for the history of old posts.
MONEY_CATEGORY = "emergency_funds"
POST_CATEGORIES = {key: label for key, label in CATEGORIES.items() if key != MONEY_CATEGORY}
STATUSES = ("open", "withdrawn", "fulfilled", "expired")
STATUS_LABELS = {"open": _l("Open"), "withdrawn": _l("Withdrawn"), "fulfilled": _l("Fulfilled"),
                 "expired": _l("Expired")}
DESTINATION_KINDS = {
    "medical": _l("Medical appointment"),
    "work": _l("Work or interview"),
    "support_meeting": _l("Support meeting"),
    "errands": _l("Errands"),
}
FUND_PURPOSES = {"rent": _l("Rent"), "utilities": _l("Utilities"), "medical": _l("Medical"), "other": _l("Other")}
OFFER_FORMATS = {"individual": _l("One to one"), "group": _l("Workshop or group (several places)")}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Translators: the days of the week, abbreviated (a weekly slot reads "Mon 09:00–12:00").
DAY_LABELS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))


def urgency_on(needed_by: date | None, today: date) -> int:
    """0..3 as the engine and the badges understand it, for a need's date on a given day."""
    if needed_by is None or needed_by < today:
        return 0
    days = (needed_by - today).days
    return 3 if days == 0 else 2 if days <= 2 else 1 if days <= 7 else 0


NO_DATE = date(9000, 1, 1)
PASSED = date(9999, 12, 31)


def urgency_key_for(needed_by: date | None, today: date) -> date:
    if needed_by is None:
        return NO_DATE
    return PASSED if needed_by < today else needed_by


def needed_by_label(needed_by: date | None, today: date) -> str:
    """'Needed by Nov 10', 'Needed today', 'Was needed by Nov 10', or 'Whenever'."""
    from app.i18n import day

    if needed_by is None:
        return str(URGENCIES[0])
    if needed_by == today:
        return _("Needed today")
    when = day(needed_by, "%b %-d")
    return _("Was needed by %(date)s", date=when) if needed_by < today else _("Needed by %(date)s", date=when)


class Post(db.Model):
    """A need or an offer. Exact place fields are private: pages show town and distance bucket."""

    __tablename__ = "posts"
    __table_args__ = (
        # One index per browse order, so that no page sorts every open post (README, "Measured").
        Index("ix_posts_newest", "kind", "status", "created_at", "id"),
        Index("ix_posts_category_newest", "kind", "status", "category", "created_at", "id"),
        Index("ix_posts_urgent", "kind", "status", "urgency_key", "created_at", "id"),
        Index("ix_posts_category_urgent", "kind", "status", "category", "urgency_key", "created_at", "id"),
        Index("ix_posts_geo", "cell_lat", "cell_lon"),
        # "Within N miles" (with or without a category): the count of a page reads the box of
        # public cells from these alone, not a row per post (at 100,000 posts, 4.3 ms -> 1.1 ms).
        # The category one also holds what the engine reads of every offer within reach of a new
        # need (units left, the change stamp): 7,000 offers in 9 ms instead of 23.
        Index("ix_posts_place", "kind", "status", "cell_lat", "cell_lon", "expires_at"),
        Index("ix_posts_category_place", "kind", "status", "category", "cell_lat", "cell_lon", "expires_at",
              "units_committed", "quantity", "updated_at", "id"),
        Index("ix_posts_owner_status", "owner_id", "status"),
        # The reports' summary finds the needs changed since its last refresh (report_summary.py).
        Index("ix_posts_updated", "updated_at"),
        # The engine's reach for a need: the farthest an open offer of its category travels, read
        # from the end of this index instead of every open offer (match_engine.reach_of_offers).
        Index("ix_posts_reach", "kind", "status", "category", "radius_miles"),
        CheckConstraint("kind in ('need', 'offer')", name="ck_posts_kind"),
        CheckConstraint("quantity > 0", name="ck_posts_quantity_positive"),
        # Approvals take units with a conditional UPDATE; this is the backstop that can never be crossed.
        CheckConstraint("units_committed >= 0 AND units_committed <= quantity", name="ck_posts_units_committed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(5))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    category: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(120))
    details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="open")

    zip_code: Mapped[str] = mapped_column(String(5))
    town: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(2))
    street_address: Mapped[str | None] = mapped_column(String(200))  # private
    lat: Mapped[float]  # private: exact
    lon: Mapped[float]  # private: exact
    cell_lat: Mapped[float]  # public ~1 km cell: all distances shown are computed from it
    cell_lon: Mapped[float]

    # Units: a need's quantity, an offer's capacity (seats, meals, places, dollars, items).
    quantity: Mapped[int] = mapped_column(default=1)
    # Units held by approved, confirmed or completed matches (an offer's used capacity, a need's matched part).
    units_committed: Mapped[int] = mapped_column(default=0, server_default="0")
    urgency: Mapped[int] = mapped_column(default=0, index=True)  # needs only: 0..3
    needed_by: Mapped[date | None]  # needs: the local date the urgency points to, fixed when posted
    # The browse order "most urgent" as one indexed column: `needed_by` while it is still to come,
    # NO_DATE for needs without one, PASSED once the date has gone by (refreshed by the hourly tick).
    urgency_key: Mapped[date] = mapped_column(default=lambda: NO_DATE, server_default="9000-01-01")
    duration_min: Mapped[int] = mapped_column(default=60)  # needs
    flexible: Mapped[bool] = mapped_column(default=False)  # needs: no dated window
    radius_miles: Mapped[float | None]  # offers: how far the helper travels
    offer_format: Mapped[str | None] = mapped_column(String(12))  # skills / peer support offers

    # Rides
    pickup_area: Mapped[str | None] = mapped_column(String(80))
    destination_kind: Mapped[str | None] = mapped_column(String(20))
    appointment_at: Mapped[datetime | None]
    return_trip: Mapped[bool] = mapped_column(default=False)
    # Help that repeats (app/models/repeat.py): the rule as RFC 5545 text ("DTSTART:...\nRRULE:...",
    # local wall-clock times), the return pickup (local minutes after midnight; NULL: within a few
    # hours after the appointment), and whether the need is matched occurrence by occurrence (it
    # repeats, or it is a ride with a return leg).
    repeat_rule: Mapped[str | None] = mapped_column(Text)
    return_min: Mapped[int | None]
    repeats: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Emergency funds (needs): the amount is `quantity` dollars
    fund_purpose: Mapped[str | None] = mapped_column(String(12))

    # When the engine last proposed for this post (None: not yet, or edited since): see propose_missing.
    proposed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime]
    expiry_warned_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    owner = relationship("User", foreign_keys=[owner_id], lazy="raise_on_sql")
    created_by = relationship("User", foreign_keys=[created_by_id], lazy="raise_on_sql")
    windows: Mapped[list["PostWindow"]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="PostWindow.start_at"
    )
    weekly_slots: Mapped[list["WeeklySlot"]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="(WeeklySlot.day, WeeklySlot.start_min)"
    )
    occurrences: Mapped[list["NeedOccurrence"]] = relationship(  # noqa: F821
        cascade="all, delete-orphan", passive_deletes=True, order_by="(NeedOccurrence.starts_at, NeedOccurrence.leg)",
        overlaps="need", lazy="select")
    # The words search looks up (app/models/search.py), rewritten whenever the post is saved.
    terms: Mapped[list["PostTerm"]] = relationship(cascade="all, delete-orphan", passive_deletes=True)  # noqa: F821

    @property
    def category_label(self) -> str:
        return str(CATEGORIES.get(self.category, self.category))

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    @property
    def fund_purpose_label(self) -> str:
        return str(FUND_PURPOSES.get(self.fund_purpose, self.fund_purpose or ""))

    @property
    def urgency_now(self) -> int:
        """The urgency today (0..3), from the date it was needed by: a "Today" need posted two weeks
        ago is not today's any more (0, and `is_stale`)."""
        return urgency_on(self.needed_by, local_today())

    @property
    def is_stale(self) -> bool:
        """An open need whose "needed by" date has passed: flagged to coordinators."""
        return self.kind == "need" and self.needed_by is not None and self.needed_by < local_today()

    @property
    def urgency_label(self) -> str:
        return needed_by_label(self.needed_by, local_today())

    @property
    def quantity_label(self) -> str:
        """The quantity with its unit, in words: '1 seat', '3 meals'."""
        return units_text(self.quantity, self.category)

    @property
    def units_left(self) -> int:
        return self.quantity - (self.units_committed or 0)

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def __repr__(self) -> str:
        return f"<Post {self.id} {self.kind}>"


class PostWindow(db.Model):
    """A dated window (naive UTC)."""

    __tablename__ = "post_windows"
    __table_args__ = (CheckConstraint("end_at > start_at", name="ck_window_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    post: Mapped[Post] = relationship(back_populates="windows")


class WeeklySlot(db.Model):
    """A weekly slot in the community's wall-clock time; end <= start runs past midnight."""

    __tablename__ = "weekly_slots"
    __table_args__ = (
        CheckConstraint("day between 0 and 6", name="ck_slot_day"),
        CheckConstraint("start_min between 0 and 1439 and end_min between 0 and 1439", name="ck_slot_minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    day: Mapped[int]  # 0 = Monday
    start_min: Mapped[int]
    end_min: Mapped[int]
    post: Mapped[Post] = relationship(back_populates="weekly_slots")

    @property
    def label(self) -> str:
        from app.timeutil import minutes_to_hhmm

        # Translators: a weekly slot, "Mon 09:00–12:00" (day, start, end).
        return _("%(day)s %(start)s–%(end)s", day=DAY_LABELS[self.day], start=minutes_to_hhmm(self.start_min),
                 end=minutes_to_hhmm(self.end_min))


def most_urgent_first(today: date) -> list:
    """ORDER BY for needs, most urgent first: dates still to come (earliest first), then needs with
    no date, then needs whose date has passed; longest waiting first within each. The same on
    SQLite and PostgreSQL (which sort NULLs at opposite ends). Browse uses the indexed
    `urgency_key`, which holds the same order; this form is for the short lists (queue, digests)."""
    bucket = case((Post.needed_by.is_(None), 1), (Post.needed_by < today, 2), else_=0)
    return [bucket, Post.needed_by, Post.created_at, Post.id]
