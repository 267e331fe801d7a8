from datetime import datetime

from flask_babel import format_decimal, gettext as _, lazy_gettext as _l, lazy_ngettext
from flask_babel.speaklater import LazyString
from wtforms import (BooleanField, FieldList, FormField, SelectField, SelectMultipleField, StringField, TextAreaField,
                     TimeField)
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.forms import BaseForm, BoundedDateField, FiniteDecimalField, PlainForm, WholeNumberField
from app.models.posts import DAY_LABELS, POST_CATEGORIES, DESTINATION_KINDS, FUND_PURPOSES, OFFER_FORMATS, URGENCIES
from app.services.posts import MAX_DETAILS, PostInput
from app.services.repeat import RepeatInput, repeat_input_of
from app.validators import KnownZip

DURATIONS = [(30, _l("30 minutes")), (60, _l("1 hour")), (90, _l("1½ hours")), (120, _l("2 hours")), (180, _l("3 hours")),
             (240, _l("4 hours")), (480, _l("A day"))]


class WindowForm(PlainForm):
    day = BoundedDateField(_l("Date"), validators=[Optional()], render_kw={"type": "date"})
    start = TimeField(_l("From"), validators=[Optional()])
    end = TimeField(_l("To"), validators=[Optional()])

    def validate_end(self, field):
        filled = [self.day.data, self.start.data, field.data]
        if any(filled) and not all(filled):
            raise ValidationError(_("Fill in the date, the start and the end, or leave all three empty."))
        if all(filled) and field.data <= self.start.data:
            raise ValidationError(_("The end must be after the start."))


class SlotForm(PlainForm):
    # No Optional(): it would clear the "Not a valid choice" of a day of spaces, which then reached int().
    day = SelectField(_l("Day"), choices=[("", "—")] + [(str(i), d) for i, d in enumerate(DAY_LABELS)], default="")
    start = TimeField(_l("From"), validators=[Optional()])
    end = TimeField(_l("To"), validators=[Optional()])

    def validate_end(self, field):
        filled = [self.day.data, self.start.data, field.data]
        if any(filled) and not all(filled):
            raise ValidationError(_("Fill in the day, the start and the end, or leave all three empty."))
        if all(filled) and field.data == self.start.data:
            raise ValidationError(_("The start and end must differ."))


class PostForm(BaseForm):
    # The service checks the choice, so that money gets its own sentence (it goes through the fund).
    category = SelectField(_l("Category"), choices=[("", _l("Choose a category"))] + list(POST_CATEGORIES.items()),
                           validators=[DataRequired(_l("Choose a category."))], validate_choice=False)
    title = StringField(_l("Title"), validators=[DataRequired(_l("Give your post a short title.")),
                                                Length(max=120, message=_l("Keep the title under 120 characters."))])
    details = TextAreaField(_l("Details"), validators=[Optional(), Length(max=MAX_DETAILS, message=_l(
                                "Details can be at most %(max)s characters.", max=LazyString(format_decimal, MAX_DETAILS)))],
                            description=_l("Don't include your address or phone number: they are shared only after a coordinator approves a match."))
    zip_code = StringField(_l("ZIP code"), validators=[DataRequired(_l("Enter a ZIP code.")), KnownZip()],
                           description=_l("Others see only the town and a rough distance."))
    street_address = StringField(_l("Street address (optional, private)"), validators=[Optional(), Length(max=200)],
                                 description=_l("Shared only with your matched helper after approval."))
    quantity = WholeNumberField(_l("How many"), default=1, validators=[DataRequired(_l("Enter a number.")), NumberRange(1, 100000, _l("Enter a whole number from 1 to 100,000."))])
    # Needs
    urgency = SelectField(_l("How soon"), choices=list(URGENCIES.items()), coerce=int, default=0)
    flexible = BooleanField(_l("I'm flexible about when (any time in the next 14 days)"))
    duration_min = SelectField(_l("How long it takes"), choices=DURATIONS, coerce=int, default=60)
    windows = FieldList(FormField(WindowForm), min_entries=3, max_entries=6)
    # Offers
    radius_miles = FiniteDecimalField(_l("How far you can travel (miles)"), places=1, default=10,
                                      validators=[Optional(), NumberRange(0.5, 100, _l("Enter a distance between 0.5 and 100 miles."))])
    offer_format = SelectField(_l("Format"), choices=list(OFFER_FORMATS.items()), default="individual", validate_choice=False)
    weekly = FieldList(FormField(SlotForm), min_entries=3, max_entries=10)
    # Rides
    pickup_area = StringField(_l("Pickup area (e.g. neighborhood, private)"), validators=[Optional(), Length(max=80)],
                              description=_l("Shared only with your matched driver after approval."))
    destination_kind = SelectField(_l("Kind of destination"), choices=[("", _l("Choose one"))] + list(DESTINATION_KINDS.items()),
                                   validate_choice=False)  # the service checks it, for rides needs only
    appointment_day = BoundedDateField(_l("Appointment date"), validators=[Optional()])
    appointment_time = TimeField(_l("Appointment time"), validators=[Optional()])
    return_trip = BooleanField(_l("I also need a ride back"))
    return_time = TimeField(_l("Pick me up again at"), validators=[Optional()],
                            description=_l("Leave it empty if you don't know yet: we'll look for a driver free for three hours after the appointment."))
    # Needs that repeat: weekly on chosen days, at the time of the first date (app/services/repeat.py).
    # The service checks the days, so that a made-up value gets a sentence, not a crash.
    repeat_days = SelectMultipleField(_l("Repeat every week on"), choices=[(str(i), d) for i, d in enumerate(DAY_LABELS)],
                                      validate_choice=False, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    repeat_until = BoundedDateField(_l("Until"), validators=[Optional()])
    repeat_count = WholeNumberField(_l("Or this many times"), validators=[Optional(), NumberRange(2, 100, _l("Enter a whole number from 2 to 100."))])
    # Emergency funds
    fund_purpose = SelectField(_l("What it's for"), choices=[("", _l("Choose one"))] + list(FUND_PURPOSES.items()),
                               validate_choice=False)  # the service checks it, for fund needs only

    def validate_radius_miles(self, field):
        if self.meta_kind == "offer" and field.data is None:
            raise ValidationError(_("Enter how far you can travel, between 0.5 and 100 miles."))

    def validate_appointment_time(self, field):
        if bool(self.appointment_day.data) != bool(field.data):
            raise ValidationError(_("Give both the date and the time of the appointment, or neither."))

    meta_kind = "need"

    def to_input(self, kind: str) -> PostInput:
        windows = [(datetime.combine(w.day.data, w.start.data), datetime.combine(w.day.data, w.end.data))
                   for w in (e.form for e in self.windows.entries) if w.day.data and w.start.data and w.end.data]
        weekly = [(int(s.day.data), s.start.data.hour * 60 + s.start.data.minute, s.end.data.hour * 60 + s.end.data.minute)
                  for s in (e.form for e in self.weekly.entries) if s.day.data and s.start.data and s.end.data]
        appointment = (datetime.combine(self.appointment_day.data, self.appointment_time.data)
                       if self.appointment_day.data and self.appointment_time.data else None)
        return PostInput(
            kind=kind, category=self.category.data, title=self.title.data or "", details=self.details.data or "",
            zip_code=(self.zip_code.data or "").strip(), street_address=self.street_address.data,
            quantity=self.quantity.data or 1, urgency=self.urgency.data or 0, duration_min=self.duration_min.data,
            flexible=bool(self.flexible.data),
            radius_miles=float(self.radius_miles.data) if self.radius_miles.data is not None else None,
            offer_format=self.offer_format.data or None, pickup_area=self.pickup_area.data,
            destination_kind=self.destination_kind.data or None, appointment_at=appointment,
            return_trip=bool(self.return_trip.data), fund_purpose=self.fund_purpose.data or None,
            windows=windows, weekly=weekly, repeat=self._repeat(), return_time=self.return_time.data,
        )

    def _repeat(self) -> RepeatInput | None:
        days = [int(d) if d in "0123456" and len(d) == 1 else -1 for d in (self.repeat_days.data or [])]
        rep = RepeatInput(days=days, until=self.repeat_until.data, count=self.repeat_count.data)
        return rep if rep.wanted else None

    def fill_from(self, post, zone) -> None:
        """Pre-fill the edit form from a saved post (times shown in the community's zone)."""
        from app.timeutil import utc_to_local

        for name in ("category", "title", "details", "zip_code", "street_address", "quantity", "urgency",
                     "duration_min", "flexible", "offer_format", "pickup_area", "return_trip"):
            getattr(self, name).data = getattr(post, name)
        self.radius_miles.data = post.radius_miles
        self.destination_kind.data = post.destination_kind or ""
        self.fund_purpose.data = post.fund_purpose or ""
        rep, self.return_time.data = repeat_input_of(post)
        if rep is not None:
            self.repeat_days.data = [str(d) for d in rep.days]
            self.repeat_until.data, self.repeat_count.data = rep.until, rep.count
        if post.appointment_at:
            local = utc_to_local(post.appointment_at, zone)
            self.appointment_day.data, self.appointment_time.data = local.date(), local.time()
        while len(self.windows.entries) < len(post.windows):
            self.windows.append_entry()
        for entry, window in zip(self.windows.entries, post.windows):
            start, end = utc_to_local(window.start_at, zone), utc_to_local(window.end_at, zone)
            entry.form.day.data, entry.form.start.data, entry.form.end.data = start.date(), start.time(), end.time()
        while len(self.weekly.entries) < len(post.weekly_slots):
            self.weekly.append_entry()
        for entry, slot in zip(self.weekly.entries, post.weekly_slots):
            from datetime import time

            entry.form.day.data = str(slot.day)
            entry.form.start.data = time(slot.start_min // 60, slot.start_min % 60)
            entry.form.end.data = time(slot.end_min // 60, slot.end_min % 60)


class BrowseForm(PlainForm):
    """The browse filters (GET, read-only: no CSRF needed)."""

    kind = SelectField(_l("Show"), choices=[("need", _l("Requests for help")), ("offer", _l("Offers of help"))], default="need")
    category = SelectField(_l("Category"), choices=[("", _l("All categories"))] + list(POST_CATEGORIES.items()), default="")
    q = StringField(_l("Search"), validators=[Optional(), Length(max=100, message=_l("Keep the search under 100 characters."))])
    near = StringField(_l("Near ZIP"), validators=[Optional(), KnownZip()])
    within = SelectField(_l("Within"), choices=[("", _l("Any distance"))] + [
        (str(n), lazy_ngettext("%(num)s mile", "%(num)s miles", n)) for n in (2, 5, 10, 25, 50)], default="")
    urgency = SelectField(_l("At least"), choices=[("", _l("Any urgency"))] + [(str(k), URGENCIES[k]) for k in (1, 2, 3)], default="")
    sort = SelectField(_l("Sort by"), choices=[("urgency", _l("Most urgent")), ("newest", _l("Newest")), ("closest", _l("Closest"))],
                       default="urgency")
    page = WholeNumberField(_l("Page"), default=1, validators=[Optional(), NumberRange(1, 100000)])
