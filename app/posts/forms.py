from datetime import datetime

from wtforms import BooleanField, FieldList, FormField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.forms import BaseForm, BoundedDateField, FiniteDecimalField, PlainForm, WholeNumberField
from app.models.posts import DAY_LABELS, POST_CATEGORIES, DESTINATION_KINDS, FUND_PURPOSES, OFFER_FORMATS, URGENCIES
from app.services.posts import MAX_DETAILS, PostInput
from app.validators import KnownZip

DURATIONS = [(30, "30 minutes"), (60, "1 hour"), (90, "1½ hours"), (120, "2 hours"), (180, "3 hours"),
             (240, "4 hours"), (480, "A day")]


class WindowForm(PlainForm):
    day = BoundedDateField("Date", validators=[Optional()], render_kw={"type": "date"})
    start = TimeField("From", validators=[Optional()])
    end = TimeField("To", validators=[Optional()])

    def validate_end(self, field):
        filled = [self.day.data, self.start.data, field.data]
        if any(filled) and not all(filled):
            raise ValidationError("Fill in the date, the start and the end, or leave all three empty.")
        if all(filled) and field.data <= self.start.data:
            raise ValidationError("The end must be after the start.")


class SlotForm(PlainForm):
    # No Optional(): it would clear the "Not a valid choice" of a day of spaces, which then reached int().
    day = SelectField("Day", choices=[("", "—")] + [(str(i), d) for i, d in enumerate(DAY_LABELS)], default="")
    start = TimeField("From", validators=[Optional()])
    end = TimeField("To", validators=[Optional()])

    def validate_end(self, field):
        filled = [self.day.data, self.start.data, field.data]
        if any(filled) and not all(filled):
            raise ValidationError("Fill in the day, the start and the end, or leave all three empty.")
        if all(filled) and field.data == self.start.data:
            raise ValidationError("The start and end must differ.")


class PostForm(BaseForm):
    # The service checks the choice, so that money gets its own sentence (it goes through the fund).
    category = SelectField("Category", choices=[("", "Choose a category")] + list(POST_CATEGORIES.items()),
                           validators=[DataRequired("Choose a category.")], validate_choice=False)
    title = StringField("Title", validators=[DataRequired("Give your post a short title."),
                                             Length(max=120, message="Keep the title under 120 characters.")])
    details = TextAreaField("Details", validators=[Optional(), Length(max=MAX_DETAILS, message=f"Details can be at most {MAX_DETAILS:,} characters.")],
                            description="Don't include your address or phone number: they are shared only after a coordinator approves a match.")
    zip_code = StringField("ZIP code", validators=[DataRequired("Enter a ZIP code."), KnownZip()],
                           description="Others see only the town and a rough distance.")
    street_address = StringField("Street address (optional, private)", validators=[Optional(), Length(max=200)],
                                 description="Shared only with your matched helper after approval.")
    quantity = WholeNumberField("How many", default=1, validators=[DataRequired("Enter a number."), NumberRange(1, 100000, "Enter a whole number from 1 to 100,000.")])
    # Needs
    urgency = SelectField("How soon", choices=list(URGENCIES.items()), coerce=int, default=0)
    flexible = BooleanField("I'm flexible about when (any time in the next 14 days)")
    duration_min = SelectField("How long it takes", choices=DURATIONS, coerce=int, default=60)
    windows = FieldList(FormField(WindowForm), min_entries=3, max_entries=6)
    # Offers
    radius_miles = FiniteDecimalField("How far you can travel (miles)", places=1, default=10,
                                      validators=[Optional(), NumberRange(0.5, 100, "Enter a distance between 0.5 and 100 miles.")])
    offer_format = SelectField("Format", choices=list(OFFER_FORMATS.items()), default="individual", validate_choice=False)
    weekly = FieldList(FormField(SlotForm), min_entries=3, max_entries=10)
    # Rides
    pickup_area = StringField("Pickup area (e.g. neighborhood, private)", validators=[Optional(), Length(max=80)],
                              description="Shared only with your matched driver after approval.")
    destination_kind = SelectField("Kind of destination", choices=[("", "Choose one")] + list(DESTINATION_KINDS.items()),
                                   validate_choice=False)  # the service checks it, for rides needs only
    appointment_day = BoundedDateField("Appointment date", validators=[Optional()])
    appointment_time = TimeField("Appointment time", validators=[Optional()])
    return_trip = BooleanField("I also need a ride back")
    # Emergency funds
    fund_purpose = SelectField("What it's for", choices=[("", "Choose one")] + list(FUND_PURPOSES.items()),
                               validate_choice=False)  # the service checks it, for fund needs only

    def validate_radius_miles(self, field):
        if self.meta_kind == "offer" and field.data is None:
            raise ValidationError("Enter how far you can travel, between 0.5 and 100 miles.")

    def validate_appointment_time(self, field):
        if bool(self.appointment_day.data) != bool(field.data):
            raise ValidationError("Give both the date and the time of the appointment, or neither.")

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
            windows=windows, weekly=weekly,
        )

    def fill_from(self, post, zone) -> None:
        """Pre-fill the edit form from a saved post (times shown in the community's zone)."""
        from app.timeutil import utc_to_local

        for name in ("category", "title", "details", "zip_code", "street_address", "quantity", "urgency",
                     "duration_min", "flexible", "offer_format", "pickup_area", "return_trip"):
            getattr(self, name).data = getattr(post, name)
        self.radius_miles.data = post.radius_miles
        self.destination_kind.data = post.destination_kind or ""
        self.fund_purpose.data = post.fund_purpose or ""
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

    kind = SelectField("Show", choices=[("need", "Requests for help"), ("offer", "Offers of help")], default="need")
    category = SelectField("Category", choices=[("", "All categories")] + list(POST_CATEGORIES.items()), default="")
    q = StringField("Search", validators=[Optional(), Length(max=100, message="Keep the search under 100 characters.")])
    near = StringField("Near ZIP", validators=[Optional(), KnownZip()])
    within = SelectField("Within", choices=[("", "Any distance"), ("2", "2 miles"), ("5", "5 miles"), ("10", "10 miles"),
                                            ("25", "25 miles"), ("50", "50 miles")], default="")
    urgency = SelectField("At least", choices=[("", "Any urgency"), ("1", "This week"), ("2", "Within 48 hours"), ("3", "Today")], default="")
    sort = SelectField("Sort by", choices=[("urgency", "Most urgent"), ("newest", "Newest"), ("closest", "Closest")], default="urgency")
    page = WholeNumberField("Page", default=1, validators=[Optional(), NumberRange(1, 100000)])
